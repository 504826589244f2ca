"""The PR comment's "Where it got worse" section: the slices of the evaluation rows on
which the head is significantly worse, the better ones collapsed, a chart (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from jx_mlops.compare.charts import Chart, Series
from jx_mlops.compare.slices.findings import SliceFinding, SliceReport, SliceResult
from jx_mlops.report.format import format_number
from jx_mlops.report.mdtext import escape
from jx_mlops.report.mermaid import legend, render_chart

SHOWN = 5
TITLE = "Where it got worse"


def _num(value: float) -> str:
    return format_number(value)


def _rows(result: SliceResult) -> str:
    if result.rows == result.base_rows:
        return f"{result.rows:,}"
    return f"{result.base_rows:,} → {result.rows:,}"


def _q(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 else "<0.0001"


def _metric(finding: SliceFinding) -> str:
    lead = escape(finding.lead.metric)
    if not finding.also:
        return lead
    return f"{lead} (also {', '.join(escape(r.metric) for r in finding.also)})"


def _row(finding: SliceFinding, failing: dict[str, SliceFinding] | None) -> str:
    r = finding.lead
    cells = [escape(r.slice), _rows(r), _metric(finding), f"{_num(r.base)} → {_num(r.head)}",
             f"{r.delta:+.4f} [{r.low:+.4f}, {r.high:+.4f}]", _q(r.q)]
    if failing is not None:
        fails = failing.get(r.slice)
        cells.append(f"⛔ fails ({escape(fails.lead.metric)})" if fails else "passes")
    return "| " + " | ".join(cells) + " |"


def _table(findings: Sequence[SliceFinding], report: SliceReport) -> list[str]:
    gated = report.policy.fail_on == "regression" and findings[0].lead.status == "worse"
    failing = {f.lead.slice: f for f in report.failures()} if gated else None
    header = ["Slice", "Rows", "Metric", "Base → Head", "Change [95% CI]", "q",
              *(["Verdict"] if gated else [])]
    align = [":--", "--:", ":--", "--:", "--:", "--:", *([":--"] if gated else [])]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += [_row(f, failing) for f in findings[:SHOWN]]
    if len(findings) > SHOWN:
        lines += ["", f"*… {len(findings) - SHOWN:,} more (every slice is in `--format json` "
                      "and the HTML report)*"]
    return lines


def _result(report: SliceReport, name: str, metric: str) -> SliceResult | None:
    return next((r for r in report.results if r.slice == name and r.metric == metric), None)


def slice_chart(report: SliceReport) -> Chart | None:
    """The change of one metric (the most significant finding's) in each slice shown."""
    worse, better = report.worse()[:SHOWN], report.better()[:SHOWN]
    if not (worse or better):
        return None
    metric = (worse or better)[0].lead.metric
    shown = [r for f in (*worse, *better) if (r := _result(report, f.lead.slice, metric))]
    # Mermaid's labels cannot hold '<' or '>': the full-width signs read the same.
    labels = tuple(r.slice.replace(" and ", " & ").replace(" = ", "=")
                   .replace("<", "\N{FULLWIDTH LESS-THAN SIGN}")
                   .replace(">", "\N{FULLWIDTH GREATER-THAN SIGN}") for r in shown)
    return Chart(title=f"{metric}: change per slice (head - base)", x_label="slice",
                 y_label=f"change in {metric}",
                 series=(Series(f"change in {metric}", (), tuple(r.delta for r in shown)),),
                 categories=labels, kind="bar",
                 note=f"{metric} is {shown[0].direction}-is-better")


def _method(report: SliceReport) -> str:
    policy = report.policy
    depth = "one feature's level or two features' levels together" \
        if policy.max_depth > 1 else "one feature's level"
    return (f"<sub>A slice is {depth} ({escape(', '.join(policy.features))}; numeric "
            f"columns in {policy.bins} quantile bands), with at least {policy.min_rows:,} "
            f"rows: {report.slices:,} slices x {len(report.metrics)} "
            f"{'metric' if len(report.metrics) == 1 else 'metrics'} = {report.tests:,} "
            f"tests. 95% CI: {report.pairing} Poisson bootstrap of the change "
            f"({report.replicates:,} replicates, fixed seed); q: Benjamini-Hochberg "
            f"q-value across all tests, significant at q ≤ {_num(policy.fdr)} (the expected "
            f"share of chance findings among those reported).</sub>")


def _left_out(report: SliceReport) -> list[str]:
    subsumed = {r.slice for r in report.results
                if r.subsumed_by is not None and r.status == "worse"}
    notes = [escape(n) for n in report.notes]
    if subsumed:
        notes.append(f"{len(subsumed):,} two-feature slices significantly worse within the "
                     "interval of their one-feature slice are not listed")
    return [f"<sub>Notes: {'; '.join(notes)}.</sub>", ""] if notes else []


def _chart_lines(report: SliceReport) -> list[str]:
    chart = slice_chart(report)
    if chart is None:
        return []
    lines = [render_chart(chart), ""]
    note = legend(chart)
    return [*lines, f"<sub>{escape(note)}</sub>", ""] if note else lines


def slice_section(report: SliceReport | None, note: str | None, *, charts: bool = True,
                  details: bool = True) -> list[str]:
    """The section's markdown lines (none when no slice search is configured)."""
    if report is None:
        return [f"**{TITLE}:** {escape(note)}", ""] if note else []
    worse, better = report.worse(), report.better()
    if not report.tests:
        lines = [f"**{TITLE}:** no slice tested.", ""]
    elif worse:
        lines = [f"**{TITLE}:** {len(worse):,} of {report.slices:,} slices significantly "
                 "worse", "", *_table(worse, report), ""]
    else:
        lines = [f"**{TITLE}:** no slice is significantly worse ({report.slices:,} slices "
                 "tested).", ""]
    if charts:
        lines += _chart_lines(report)
    if better and details:
        lines += [f"<details><summary>{len(better):,} slices significantly better"
                  "</summary>", "", *_table(better, report), "", "</details>", ""]
    return [*lines, _method(report), "", *_left_out(report)]
