"""The comparison as JSON, for scripts (pure). Documented in docs/report.md."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from jx_mlops.compare.charts import Chart
from jx_mlops.compare.comparison import Comparison, Coverage, ModelComparison, Revision
from jx_mlops.compare.cost import CostComparison, record_as_dict
from jx_mlops.compare.datadiff import DataChange
from jx_mlops.compare.metrics import MetricDelta, ParamChange
from jx_mlops.compare.scoring import TrustedEvaluation
from jx_mlops.compare.slices.findings import SliceReport
from jx_mlops.report.format import json_value

SCHEMA_VERSION = 2
# Significant slice results a bounded document (a fork's artifact) carries at most.
SIGNIFICANT_MAX = 1000


def _revision(rev: Revision) -> dict[str, Any]:
    return {"label": rev.label, "sha": rev.sha}


def _metric(model: ModelComparison, delta: MetricDelta) -> dict[str, Any]:
    significance = model.significance_of(delta)
    return {
        "model": model.model, "path": delta.path, "name": delta.name,
        "base": json_value(delta.base), "head": json_value(delta.head),
        "delta": json_value(delta.delta), "rel_delta": json_value(delta.rel_delta),
        "status": delta.status, "base_kind": delta.base_kind, "head_kind": delta.head_kind,
        "direction": delta.policy.direction, "base_path": delta.base_path,
        "significant": significance.significant if significance else None,
    }


def _chart(chart: Chart) -> dict[str, Any]:
    return {"title": chart.title, "plot": chart.plot, "template": chart.template,
            "x_label": chart.x_label, "y_label": chart.y_label,
            "categories": list(chart.categories), "note": chart.note, "kind": chart.kind,
            "series": [{"label": s.label, "x": list(s.x), "y": [json_value(y) for y in s.y]}
                       for s in chart.series]}


def _coverage(coverage: Coverage | None) -> dict[str, Any] | None:
    if coverage is None:
        return None
    return {"declared": coverage.declared, "read": coverage.read,
            "unread": [{"path": path, "reason": reason} for path, reason in coverage.unread]}


def _model(model: ModelComparison, every_test: bool = True) -> dict[str, Any]:
    return {"name": model.model, "base_problems": list(model.base_problems),
            "head_problems": list(model.head_problems),
            "coverage": {"base": _coverage(model.base_coverage),
                         "head": _coverage(model.head_coverage)},
            "significance": [{**json_value(asdict(s)), "significant": s.significant}
                             for s in model.significance],
            "significance_note": model.significance_note,
            "trend": [_chart(c) for c in model.trend],
            "slices": slices_to_json(model.slices, every_test), "slices_note": model.slices_note}


def slices_to_json(report: SliceReport | None, every_test: bool = True
                   ) -> dict[str, Any] | None:
    """The slice search: how slices were formed, and every test (None: not searched);
    without ``every_test``, the significant ones only (``results_complete`` says which)."""
    if report is None:
        return None
    policy = report.policy
    failing = {f.lead.slice for f in report.failures()}
    results = report.results if every_test else \
        [r for r in report.results if r.status != "not_significant"][:SIGNIFICANT_MAX]
    return {
        "features": list(policy.features), "max_depth": policy.max_depth,
        "min_rows": policy.min_rows, "bins": policy.bins,
        "edges": {k: list(v) for k, v in policy.edges.items()}, "fdr": policy.fdr,
        "fail_on": policy.fail_on, "tolerance": policy.tolerance,
        "tolerances": dict(policy.tolerances), "data": policy.data,
        "pairing": report.pairing,
        "replicates": report.replicates, "rows": report.rows, "slices": report.slices,
        "tests": report.tests, "metrics": list(report.metrics), "notes": list(report.notes),
        "worse": [f.lead.slice for f in report.worse()],
        "better": [f.lead.slice for f in report.better()],
        "failing": sorted(failing),
        "results_complete": len(results) == len(report.results),
        "results": [{**json_value(asdict(r)), "fails": r.slice in failing and
                     r.status == "worse" and r.harm > policy.tolerance_for(r.metric)}
                    for r in results],
    }


def _data(change: DataChange) -> dict[str, Any]:
    return {"path": change.path, "status": change.status, "tracked_by": change.source,
            "base": asdict(change.base) if change.base else None,
            "head": asdict(change.head) if change.head else None,
            "size_delta": change.size_delta}


def _costs(costs: CostComparison | None) -> dict[str, Any] | None:
    if costs is None:
        return None
    return {"base": record_as_dict(costs.base), "head": record_as_dict(costs.head),
            "base_missing": costs.base_missing, "head_missing": costs.head_missing}


def _param(model: str, change: ParamChange) -> dict[str, Any]:
    return {"model": model, "path": change.path, "name": change.name,
            "base": json_value(change.base), "head": json_value(change.head),
            "status": change.status}


def trusted_to_json(trusted: TrustedEvaluation | None) -> dict[str, Any] | None:
    """Who scored the head (None: the PR's own evaluation), and the self-reported values
    of the trusted stage's metrics beside the trusted ones."""
    if trusted is None:
        return None
    return {"stage": trusted.stage, "base": trusted.base, "base_sha": trusted.base_sha,
            "mode": trusted.mode, "scored": trusted.scored, "problem": trusted.problem,
            "where": trusted.where,
            "self_reported": [{"model": r.model, "path": r.path, "name": r.name,
                               "trusted": json_value(r.trusted),
                               "reported": json_value(r.reported), "differs": r.differs}
                              for r in trusted.rows]}


def comparison_to_json(comparison: Comparison, *, every_test: bool = True) -> dict[str, Any]:
    """Top-level ``verdict`` ('pass'/'fail'), ``summary``, and one row per metric/param.
    ``every_test`` False keeps only the significant slices (a fork's bounded artifact)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": comparison.verdict.word,
        "summary": comparison.verdict.line,
        "counts": comparison.verdict.counts,
        "base": _revision(comparison.base),
        "head": _revision(comparison.head),
        "models": [_model(m, every_test) for m in comparison.models],
        "metrics": [_metric(m, d) for m in comparison.models for d in m.metrics],
        "params": [_param(m.model, p) for m in comparison.models for p in m.params],
        "data": [_data(d) for d in comparison.data],
        "plots": [_chart(c) for c in comparison.plots],
        "notes": list(comparison.notes),
        "lineage": [{"stage": s.stage, "base": s.base, "head": s.head, "changed": s.changed}
                    for s in comparison.lineage],
        "costs": _costs(comparison.costs),
        "trusted": trusted_to_json(comparison.trusted),
    }
