"""The PR comment: verdict first, changed metrics, every detail one click away (pure).

Everything that comes from the project (metric names, values, params, paths, labels) goes
through :func:`escape` or :func:`code`, so a metric called ``<img src=x>`` or ``@org/team``
renders as text and pings nobody. The comment always fits GitHub's 65,536-character limit:
when the full rendering is too long, tables are cut to fewer rows ("N more rows") and
charts and detail sections are dropped, in that order, and the comment says so and points
to the full HTML report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from jx_mlops.compare.charts import Chart
from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, StageLineage
from jx_mlops.compare.cost import CostComparison, cost_parts, describe_stage
from jx_mlops.compare.datadiff import DataChange, human_size
from jx_mlops.compare.metrics import MetricDelta, ParamChange
from jx_mlops.compare.modelmetrics import HOLDOUT_NOTE_PREFIX
from jx_mlops.compare.scoring import SelfReported, TrustedEvaluation
from jx_mlops.compare.significance import SignificanceResult
from jx_mlops.compare.values import kind_of
from jx_mlops.report.compute import engine_lines
from jx_mlops.report.format import (
    STATUS_ICONS,
    STATUS_ORDER,
    format_delta,
    format_value,
    status_label,
)
from jx_mlops.report.mdtext import code, escape
from jx_mlops.report.mermaid import drawable, legend, render_chart
from jx_mlops.report.slices import slice_section

T = TypeVar("T")
REPORT_MARKER = "<!-- jx-mlops:report id={id} -->"
COMMENT_LIMIT = 65_536
_SAFETY = 512  # room for what a forge may add (e.g. its own footer)


@dataclass(frozen=True)
class Limits:
    """How much of the report a rendering may show."""

    rows: int | None = None
    charts: bool = True
    details: bool = True

    @property
    def degraded(self) -> bool:
        return self != Limits()


# Tried in order until the comment fits.
DEGRADATION = (Limits(), Limits(rows=500), Limits(rows=100), Limits(rows=50, charts=False),
               Limits(rows=20, charts=False, details=False),
               Limits(rows=5, charts=False, details=False))


def marker(report_id: str = "default") -> str:
    """The hidden first line that identifies the comment of one report on a PR."""
    safe = re.sub(r"[^A-Za-z0-9_.:/-]", "_", report_id)
    return REPORT_MARKER.format(id=safe)


def cell(value: object, kind: str | None) -> str:
    """A value for a table cell: numbers as we format them, anything else escaped."""
    text = format_value(value, kind)
    return text if kind in (None, "number", "nan", "inf", "bool", "null") else escape(text)


def github_length(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _table(header: Sequence[str], align: Sequence[str], items: Sequence[T],
           row: Callable[[T], Sequence[str]], limits: Limits) -> list[str]:
    """A markdown table of ``items`` (only the rows shown are formatted)."""
    shown = items if limits.rows is None else items[: limits.rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row(item)) + " |" for item in shown]
    if len(shown) < len(items):
        lines += ["", f"*… {len(items) - len(shown):,} more rows (see the full HTML report)*"]
    return lines


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _details(summary: str, body: Iterable[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>", ""]


# -- metrics -----------------------------------------------------------------------------


def _disagrees(result: SignificanceResult | None, delta: MetricDelta) -> bool:
    """The change recomputed from predictions is not the metrics file's change."""
    return result is not None and delta.delta is not None and abs(
        result.delta - delta.delta) > 1e-4 + 0.01 * abs(delta.delta)


def _ci(result: SignificanceResult | None, delta: MetricDelta) -> str:
    if result is None:
        return "—"
    mark = "✓" if result.significant else "≈"
    text = f"[{result.low:+.4f}, {result.high:+.4f}] {mark}"
    return text + " ‡" if _disagrees(result, delta) else text


def _metric_row(model: ModelComparison, delta: MetricDelta, with_path: bool,
                with_ci: bool) -> list[str]:
    name = escape(delta.name)
    if with_path:
        name = f"{escape(delta.path)}: {name}"
    row = [name, cell(delta.base, delta.base_kind), cell(delta.head, delta.head_kind),
           format_delta(delta)]
    if with_ci:
        row.append(_ci(model.significance_of(delta), delta))
    row.append(f"{STATUS_ICONS[delta.status]} {status_label(delta.status)}")
    return row


def _metrics_table(model: ModelComparison, deltas: Sequence[MetricDelta],
                   limits: Limits) -> list[str]:
    with_path = len({d.path for d in model.metrics}) > 1
    with_ci = bool(model.significance)
    ordered = sorted(deltas, key=lambda d: (STATUS_ORDER.index(d.status), d.path, d.name))
    header = ["Metric", "Base", "Head", "Change", *(["95% CI"] if with_ci else []), "Status"]
    align = [":--", "--:", "--:", "--:", *(["--:"] if with_ci else []), ":--"]
    return _table(header, align, ordered, lambda d: _metric_row(model, d, with_path, with_ci),
                  limits)


def _significance_note(model: ModelComparison) -> list[str]:
    if model.significance:
        first = model.significance[0]
        mismatch = any(_disagrees(model.significance_of(d), d) for d in model.metrics)
        footnote = ("; ‡ the change recomputed from the predictions differs from the "
                    "metrics file's") if mismatch else ""
        return [f"<sub>95% CI: {first.pairing} bootstrap interval of the change "
                f"({first.replicates:,} replicates over {first.samples:,} samples, fixed "
                f"seed); ✓ distinguishable from noise, ≈ not{footnote}.</sub>", ""]
    if model.significance_note:
        return [f"<sub>{escape(model.significance_note)}</sub>", ""]
    return []


# -- params ------------------------------------------------------------------------------


def _param_value(change: ParamChange, side: str) -> str:
    present = change.status != ("added" if side == "base" else "removed")
    value = change.base if side == "base" else change.head
    return cell(value, kind_of(value) if present else None)


def _param_row(p: ParamChange) -> list[str]:
    return [escape(f"{p.path}: {p.name}"), _param_value(p, "base"), _param_value(p, "head"),
            p.status]


def _params_sections(params: Sequence[ParamChange], limits: Limits) -> list[str]:
    if not params:
        return []
    changed = [p for p in params if p.status != "unchanged"]
    lines: list[str] = []
    header, align = ("Param", "Base", "Head", ""), (":--", "--:", "--:", ":--")
    if changed:
        lines += [f"**Params changed ({len(changed)}):**", "",
                  *_table(header, align, changed, _param_row, limits), ""]
    if limits.details:
        lines += _details(f"All params ({len(params)})",
                          _table(header, align, params, _param_row, limits))
    return lines


# -- per model -----------------------------------------------------------------------------


def _charts(charts: Sequence[Chart]) -> list[str]:
    lines: list[str] = []
    for chart in charts:
        if not drawable(chart):
            points = ", ".join(f"{s.label} {len(s.y):,}" for s in chart.series)
            lines += [f"<sub>{escape(chart.title)}: a {chart.kind} plot ({points} points), "
                      "drawn in the HTML report; every point is in `--format json`</sub>", ""]
            continue
        lines += [render_chart(chart), ""]
        note = legend(chart)
        if note:
            lines += [f"<sub>{escape(note)}</sub>", ""]
    return lines


def _coverage_lines(model: ModelComparison) -> list[str]:
    """'Read 5 of 5 metrics files declared at the head (4 of 5 at the base)', and each
    file not read with why: the verdict never rests on files nobody looked at."""
    head, base = model.head_coverage, model.base_coverage
    if head is None or base is None or not (head.declared or base.declared):
        return []
    line = head.line("head").capitalize()
    if (base.declared, base.read) != (head.declared, head.read):
        line += f" ({base.read} of {base.declared} at the base)"
    lines = [f"<sub>{escape(line)}</sub>"]
    lines += [f"<sub>Not read at the {side}: {code(path)}: {escape(reason)}</sub>"
              for side, coverage in (("head", head), ("base", base))
              for path, reason in coverage.unread]
    return [*lines, ""]


def _model_section(model: ModelComparison, limits: Limits) -> list[str]:
    lines = [f"#### Model {code(model.model)}", ""]
    for problem in model.head_problems:
        lines.append(f"> ⛔ **Head metrics unavailable:** {escape(problem)}")
    for problem in model.base_problems:
        lines.append(f"> ⚠️ **Base metrics unavailable:** {escape(problem)}")
    if model.head_problems or model.base_problems:
        lines.append("")
    lines += _coverage_lines(model)
    changed = [d for d in model.metrics if d.status != "unchanged"]
    # Metrics with a direction (or a gate, or that appeared/vanished) lead; changes of
    # metrics nobody said how to judge (per-group breakdowns...) wait one click away.
    judged = [d for d in changed if d.status != "changed"]
    if judged:
        lines += [*_metrics_table(model, judged, limits), ""]
    elif changed:
        lines += ["No metric with a direction or a gate moved; "
                  f"{plural(len(changed), 'metric')} without a direction changed.", ""]
    elif model.metrics:
        lines += [f"All {plural(len(model.metrics), 'metric')} unchanged.", ""]
    lines += _significance_note(model)
    lines += slice_section(model.slices, model.slices_note, charts=limits.charts,
                           details=limits.details)
    lines += _params_sections(model.params, limits)
    undirected = len(changed) - len(judged)
    if limits.details and undirected and judged:
        lines += _details(f"{plural(undirected, 'other change')} (metrics without a "
                          "direction)", _metrics_table(model, [d for d in changed
                                                               if d.status == "changed"],
                                                       limits))
    if (limits.details and len(changed) < len(model.metrics)) or (
            limits.details and not judged and changed):
        lines += _details(f"All metrics ({len(model.metrics)})",
                          _metrics_table(model, model.metrics, limits))
    if limits.charts and model.trend:
        lines += _details(f"Metric trend ({plural(len(model.trend), 'chart')})",
                          _charts(model.trend))
    return lines


# -- project-level sections ------------------------------------------------------------------


def _data_row(change: DataChange) -> list[str]:
    base_size = human_size(change.base.size) if change.base else "—"
    head_size = human_size(change.head.size) if change.head else "—"
    delta = change.size_delta
    size = f"{base_size} → {head_size}" + (
        f" ({'+' if delta > 0 else ''}{human_size(delta)})" if delta else "")
    return [escape(change.path), change.status, size, code((change.md5 or "?")[:10]),
            escape(change.source)]


def _data_section(data: Sequence[DataChange], limits: Limits) -> list[str]:
    if not data:
        return []
    changed = [d for d in data if d.status != "unchanged"]
    summary = (f"Data and outputs: {len(changed)} of {plural(len(data), 'tracked path')} "
               "changed" if changed else
               f"Data and outputs: {plural(len(data), 'tracked path')}, unchanged")
    ordered = changed + [d for d in data if d.status == "unchanged"]
    return _details(summary, _table(("Path", "Change", "Size", "md5", "Tracked by"),
                                    (":--", ":--", "--:", ":--", ":--"), ordered, _data_row,
                                    limits))


def _cost_section(costs: CostComparison | None, limits: Limits) -> list[str]:
    if costs is None or not (costs.base or costs.head):
        return []
    names = costs.stage_names()
    body = _table(("Stage", "Wall time", "Peak memory"), (":--", "--:", "--:"), names,
                  lambda n: [escape(n), *describe_stage(costs, n)], limits) if names else []
    for record, missing in ((costs.base, costs.base_missing), (costs.head, costs.head_missing)):
        if record is None and missing:
            body += ["", f"*{escape(missing)}*"]
    for side, record in (("base", costs.base), ("head", costs.head)):
        if record and record.run_url:
            body += ["", f"{side} run: {escape(record.run_url)}"]
    return _details("Training cost", body) if limits.details else []


def _lineage_row(stage: StageLineage) -> list[str]:
    def fp(value: str | None) -> str:
        return code(value) if value else "—"

    return [escape(stage.stage), fp(stage.base), fp(stage.head),
            "changed" if stage.changed else "same"]


def _lineage_section(comparison: Comparison, limits: Limits) -> list[str]:
    if not limits.details:
        return []
    base, head = comparison.base, comparison.head
    body = [f"- base: {code(base.label)} @ {code(base.sha or 'workspace')}",
            f"- head: {code(head.label)} @ {code(head.sha or 'workspace')}", ""]
    if comparison.lineage:
        body += ["dvc.lock stage fingerprints (hash of each stage's deps, params and outs):", "",
                 *_table(("Stage", "Base", "Head", ""), (":--", ":--", ":--", ":--"),
                         comparison.lineage, _lineage_row, limits)]
    return _details("Lineage", body)


def _holdout_lines(notes: tuple[str, ...]) -> list[str]:
    """How the sealed holdout was scored: said near the verdict, not among plot notes."""
    return [line for n in notes if n.startswith(HOLDOUT_NOTE_PREFIX) for line in (
        f"**{HOLDOUT_NOTE_PREFIX.strip()}** {escape(n[len(HOLDOUT_NOTE_PREFIX):])}", "")]


def _plots_section(comparison: Comparison, limits: Limits) -> list[str]:
    charts = comparison.plots if limits.charts else ()
    notes = [n for n in comparison.notes if not n.startswith(HOLDOUT_NOTE_PREFIX)]
    if not (charts or notes):
        return []  # notes stay even without charts: a plot DVC shows is never dropped silently
    body = _charts(charts) if charts else []
    body += [f"<sub>{escape(n)}</sub>" for n in notes]
    return _details(f"Plots ({len(comparison.plots)})", body)


# -- trusted evaluation ------------------------------------------------------------------


def _scored_cell(value: object, absent: str) -> str:
    return absent if value is None else cell(value, kind_of(value))


def _self_reported_row(row: SelfReported) -> list[str]:
    return [f"{escape(row.path)}: {escape(row.name)}", _scored_cell(row.trusted, "not measured"),
            f"⚠️ {_scored_cell(row.reported, 'not reported')}"]


def _trusted_section(trusted: TrustedEvaluation | None, limits: Limits) -> list[str]:
    """Who scored the PR's model, and every value where the PR's own evaluation said
    something else (a reviewer's first question when a PR touches its evaluation)."""
    if trusted is None:
        return []
    who = f"{code(trusted.stage)} as of {_revision(Revision(trusted.base, trusted.base_sha))}"
    if not trusted.scored:
        outcome = "The PR's own scores below are self-reported and cannot pass" \
            if trusted.mode == "enforced" else \
            "The PR's own scores below decide, self-reported (`evaluation.mode: advisory`)"
        lines = [f"> {'❌' if trusted.mode == 'enforced' else '⚠️'} **Trusted evaluation "
                 f"failed:** {who} could not score this PR's model: "
                 f"{escape(trusted.problem or '')}. {outcome}.", ""]
    else:
        lines = [f"**Trusted evaluation:** scored by {who} in a separate work tree, on this "
                 "PR's model and prepared data; the PR's own evaluation code did not produce "
                 "the numbers below.", ""]
        differences = trusted.differences
        if differences:
            lines += [f"> ⚠️ **{plural(len(differences), 'self-reported value')} "
                      f"{'differs' if len(differences) == 1 else 'differ'}** from what "
                      "trusted evaluation measured (the verdict uses the trusted values):",
                      "", *_table(("Metric", "Trusted (judged)", "Self-reported"),
                                  (":--", "--:", "--:"), differences, _self_reported_row,
                                  limits), ""]
        elif trusted.rows:
            lines += [f"The PR's own evaluation reported the same "
                      f"{plural(len(trusted.rows), 'value')}.", ""]
    if trusted.where:
        lines += [f"<sub>{escape(trusted.where)}</sub>", ""]
    return lines


# -- whole comment -------------------------------------------------------------------------


def _header(comparison: Comparison, title: str) -> list[str]:
    verdict = comparison.verdict
    lines = [f"### {'✅' if verdict.passed else '❌'} {title}: {verdict.word}", "",
             f"**{escape(verdict.line)}**", "",
             f"Base {_revision(comparison.base)} → head {_revision(comparison.head)}"]
    costs = comparison.costs
    if costs is not None and (costs.base or costs.head):
        parts = [f"{escape(name)} {wall}" for name, wall in cost_parts(costs)
                 if not wall.startswith("not re-run")]
        if costs.base is None and costs.base_missing:
            parts.append(f"*{escape(costs.base_missing)}*")
        lines += ["", "Training cost: " + "; ".join(parts or ["no stage re-ran"])]
        lines += [f"<br>{line}" for line in engine_lines(costs)]
    return [*lines, ""]


def _revision(rev: Revision) -> str:
    if rev.label in (rev.short, rev.sha):
        return code(rev.short)
    return f"{code(rev.label)} @ {code(rev.short)}"


def _render(comparison: Comparison, report_id: str, title: str, limits: Limits,
            artifact: str | None) -> str:
    lines = [marker(report_id), *_header(comparison, title)]
    if limits.degraded:
        where = f" ({escape(artifact)})" if artifact else ""
        charts = " and charts left out" if not limits.charts else ""
        lines += ["> **Note:** shortened to fit GitHub's 65,536-character limit: long tables "
                  f"are cut{charts}. The full report is the HTML artifact of this run{where}.",
                  ""]
    lines += _trusted_section(comparison.trusted, limits)
    lines += _holdout_lines(comparison.notes)
    for model in comparison.models:
        lines += _model_section(model, limits)
    lines += _data_section(comparison.data, limits)
    lines += _plots_section(comparison, limits)
    lines += _cost_section(comparison.costs, limits)
    lines += _lineage_section(comparison, limits)
    lines.append("<sub>Posted by jx-mlops; re-runs update this comment in place.</sub>")
    return "\n".join(lines) + "\n"


def render_comment(comparison: Comparison, *, report_id: str = "default",
                   title: str = "jx-mlops evaluation", limit: int = COMMENT_LIMIT,
                   artifact: str | None = None) -> str:
    """The full PR comment, starting with its hidden marker, at most ``limit`` characters."""
    body = ""
    longest = max((len(m.metrics) for m in comparison.models), default=0)
    # Each row is at least ~40 characters: no use rendering thousands only to cut them.
    viable = [lim for lim in DEGRADATION
              if (lim.rows is not None and lim.rows * 40 < limit) or longest * 40 < limit]
    for limits in viable or DEGRADATION[-1:]:
        body = _render(comparison, report_id, title, limits, artifact)
        if github_length(body) <= limit - _SAFETY:
            return body
    # Still too long (e.g. thousands of models): keep the head of it, cut at a line.
    cut = body[: limit - 2 * _SAFETY]
    cut = cut[: cut.rfind("\n")]
    return f"{cut}\n\n*… cut to fit the comment size limit; see the full HTML report.*\n"
