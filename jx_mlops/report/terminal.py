"""The comparison as rich renderables for a terminal (pure: returns renderables)."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision
from jx_mlops.compare.cost import cost_summary
from jx_mlops.compare.slices.findings import SliceFinding
from jx_mlops.report.format import (
    STATUS_ORDER,
    format_delta,
    format_value,
    status_label,
)
from jx_mlops.report.slices import SHOWN

_STYLES = {
    "improved": "green", "regressed": "bold red", "within_tolerance": "yellow",
    "within_noise": "yellow",
    "unchanged": "dim", "changed": "cyan", "new": "blue", "removed": "magenta",
    "failed_threshold": "bold red", "unreadable": "bold yellow",
}


def _cells(model: ModelComparison) -> tuple[list[str], list[list[str | Text]]]:
    """The metric table's headers and rows, most telling status first."""
    with_ci = bool(model.significance)
    with_path = len({d.path for d in model.metrics}) > 1
    headers = ["Metric", "Base", "Head", "Change", *(("95% CI",) if with_ci else ()), "Status"]
    rows = []
    ordered = sorted(model.metrics, key=lambda d: (STATUS_ORDER.index(d.status), d.path, d.name))
    for d in ordered:
        name = f"{d.path}: {d.name}" if with_path else d.name
        row: list[str | Text] = [name, format_value(d.base, d.base_kind),
                                 format_value(d.head, d.head_kind), format_delta(d)]
        if with_ci:
            sig = model.significance_of(d)
            row.append(Text(f"[{sig.low:+.4f}, {sig.high:+.4f}]",
                            style="bold" if sig.significant else "dim") if sig else "—")
        row.append(Text(status_label(d.status), style=_STYLES[d.status]))
        rows.append(row)
    return headers, rows


def _widths(headers: list[str], rows: list[list[str | Text]], room: int) -> list[int]:
    """Column widths within ``room`` cells of content: first the change, interval and
    status go onto two lines (at their spaces), then the metric's name folds (down to 12);
    the values are never narrowed."""
    def width(i: int, words: bool) -> int:
        texts = [headers[i], *(str(row[i]) for row in rows)]
        if words:
            return max(cell_len(w) for t in texts for w in t.split())
        return max(cell_len(t) for t in texts)

    widths = [width(i, False) for i in range(len(headers))]
    for i in range(3, len(headers)):  # Change, 95% CI, Status
        if sum(widths) > room:
            widths[i] = width(i, True)
    if sum(widths) > room:
        widths[0] = max(12, room - sum(widths[1:]))
    return widths


class _MetricTable:
    """A model's metric table, laid out for the width it is rendered at."""

    def __init__(self, model: ModelComparison) -> None:
        self.model = model

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        headers, rows = _cells(self.model)
        # The box draws a border before each column and after the last, and pads each
        # column with a space on either side.
        room = options.max_width - 3 * len(headers) - 1
        table = Table(title=f"model {self.model.model}", title_justify="left", expand=False)
        for name, size in zip(headers, _widths(headers, rows, room), strict=True):
            table.add_column(name, justify="left" if name in ("Metric", "Status") else "right",
                             width=size, overflow="fold", no_wrap=name in ("Base", "Head"))
        for row in rows:
            table.add_row(*row)
        yield table


def _model_parts(model: ModelComparison) -> list[RenderableType]:
    parts: list[RenderableType] = [_MetricTable(model)]
    parts += [Text(f"head metrics unavailable: {p}", style="red") for p in model.head_problems]
    parts += [Text(f"base metrics unavailable: {p}", style="yellow")
              for p in model.base_problems]
    for side, coverage in (("head", model.head_coverage), ("base", model.base_coverage)):
        if coverage is not None and coverage.unread:
            parts.append(Text(coverage.line(side) + "; not read: " + "; ".join(
                f"{path} ({reason})" for path, reason in coverage.unread), style="yellow"))
        elif coverage is not None and coverage.declared and side == "head":
            parts.append(Text(coverage.line(side), style="dim"))
    if model.significance_note:
        parts.append(Text(model.significance_note, style="dim"))
    parts += _slice_parts(model)
    for p in (p for p in model.params if p.status != "unchanged"):
        parts.append(Text(f"param {p.path}: {p.name}: {format_value(p.base, 'string')} -> "
                          f"{format_value(p.head, 'string')} ({p.status})", style="cyan"))
    return parts


def _slice_table(findings: list[SliceFinding], title: str, style: str) -> Table:
    """Dense enough for 80 columns: base and head are in the markdown and JSON."""
    table = Table(title=title, title_justify="left", expand=False, box=box.SIMPLE_HEAD)
    table.add_column("Slice", overflow="fold", style=style)
    table.add_column("Rows", justify="right", no_wrap=True)
    table.add_column("Metric", overflow="fold")
    table.add_column("Change", justify="right", no_wrap=True)
    table.add_column("95% CI", justify="right", no_wrap=True)
    table.add_column("q", justify="right", no_wrap=True)
    for finding in findings[:SHOWN]:
        r = finding.lead
        metric = r.metric + (f" +{len(finding.also)}" if finding.also else "")
        table.add_row(r.slice, f"{r.rows:,}", metric, f"{r.delta:+.3f}",
                      f"[{r.low:+.3f}, {r.high:+.3f}]", f"{r.q:.1g}")
    return table


def _slice_parts(model: ModelComparison) -> list[RenderableType]:
    report = model.slices
    if report is None:
        return [Text(model.slices_note, style="yellow")] if model.slices_note else []
    worse, better = report.worse(), report.better()
    parts: list[RenderableType] = []
    if worse:
        parts.append(_slice_table(worse, f"where it got worse: {len(worse)} of "
                                         f"{report.slices} slices", "bold red"))
    else:
        parts.append(Text(f"no slice is significantly worse ({report.slices} slices, "
                          f"{report.tests} tests)", style="green"))
    if better:
        names = ", ".join(f.lead.slice for f in better[:3])
        more = f" and {len(better) - 3} more" if len(better) > 3 else ""
        parts.append(Text(f"significantly better: {names}{more}", style="green"))
    parts += [Text(f"slices: {note}", style="dim") for note in report.notes]
    return parts


def _revision(rev: Revision) -> str:
    return rev.short if rev.label in (rev.short, rev.sha) else f"{rev.label} @ {rev.short}"


def render_terminal(comparison: Comparison) -> RenderableType:
    """Verdict line, revisions, one table per model, then data and cost summaries."""
    verdict = comparison.verdict
    parts: list[RenderableType] = [
        Text(verdict.line, style="bold green" if verdict.passed else "bold red"),
        Text(f"base {_revision(comparison.base)} -> head {_revision(comparison.head)}",
             style="dim"),
    ]
    for model in comparison.models:
        parts += _model_parts(model)
    for change in (d for d in comparison.data if d.status != "unchanged"):
        parts.append(Text(f"data {change.path}: {change.status}", style="cyan"))
    costs = comparison.costs
    if costs is not None and (costs.base or costs.head):
        parts.append(Text(f"training cost: {cost_summary(costs)}", style="dim"))
    if comparison.plots:
        titles = ", ".join(c.title for c in comparison.plots)
        parts.append(Text(f"{len(comparison.plots)} plots ({titles}): see --format md or "
                          "--html", style="dim"))
    parts += [Text(f"note: {note}", style="dim") for note in comparison.notes]
    return Group(*parts)
