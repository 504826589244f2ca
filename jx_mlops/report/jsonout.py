"""The comparison as JSON, for scripts (pure). Documented in docs/report.md."""

from __future__ import annotations

from typing import Any

from jx_mlops.compare.comparison import Comparison, Revision
from jx_mlops.compare.metrics import MetricDelta, ParamChange
from jx_mlops.report.format import json_value

SCHEMA_VERSION = 1


def _revision(rev: Revision) -> dict[str, Any]:
    return {"label": rev.label, "sha": rev.sha}


def _metric(model: str, delta: MetricDelta) -> dict[str, Any]:
    return {
        "model": model, "path": delta.path, "name": delta.name,
        "base": json_value(delta.base), "head": json_value(delta.head),
        "delta": json_value(delta.delta), "rel_delta": json_value(delta.rel_delta),
        "status": delta.status, "base_kind": delta.base_kind, "head_kind": delta.head_kind,
        "direction": delta.policy.direction,
    }


def _param(model: str, change: ParamChange) -> dict[str, Any]:
    return {"model": model, "path": change.path, "name": change.name,
            "base": json_value(change.base), "head": json_value(change.head),
            "status": change.status}


def comparison_to_json(comparison: Comparison) -> dict[str, Any]:
    """Top-level ``verdict`` ('pass'/'fail'), ``summary``, and one row per metric/param."""
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": comparison.verdict.word,
        "summary": comparison.verdict.line,
        "counts": comparison.verdict.counts,
        "base": _revision(comparison.base),
        "head": _revision(comparison.head),
        "models": [{"name": m.model, "base_problems": list(m.base_problems),
                    "head_problems": list(m.head_problems)} for m in comparison.models],
        "metrics": [_metric(m.model, d) for m in comparison.models for d in m.metrics],
        "params": [_param(m.model, p) for m in comparison.models for p in m.params],
    }
