"""The comparison as a rich table for a terminal (pure: returns renderables)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from jx_mlops.compare.comparison import Comparison, ModelComparison
from jx_mlops.report.format import STATUS_ORDER, format_delta, format_value, status_label

_STYLES = {
    "improved": "green", "regressed": "bold red", "within_tolerance": "yellow",
    "unchanged": "dim", "changed": "cyan", "new": "blue", "removed": "magenta",
    "failed_threshold": "bold red",
}


def _model_table(model: ModelComparison) -> Table:
    table = Table(title=f"model {model.model}", title_justify="left", expand=False)
    table.add_column("Metric")
    table.add_column("Base", justify="right")
    table.add_column("Head", justify="right")
    table.add_column("Change", justify="right")
    table.add_column("Status")
    ordered = sorted(model.metrics, key=lambda d: (STATUS_ORDER.index(d.status), d.path, d.name))
    for d in ordered:
        style = _STYLES[d.status]
        table.add_row(Text(f"{d.path}: {d.name}"), format_value(d.base, d.base_kind),
                      format_value(d.head, d.head_kind), format_delta(d),
                      Text(status_label(d.status), style=style))
    return table


def render_terminal(comparison: Comparison) -> RenderableType:
    """Verdict line, revisions, then one table per model and any unreadable inputs."""
    verdict = comparison.verdict
    parts: list[RenderableType] = [
        Text(verdict.line, style="bold green" if verdict.passed else "bold red"),
        Text(f"base {comparison.base.label} @ {comparison.base.short} -> "
             f"head {comparison.head.label} @ {comparison.head.short}", style="dim"),
    ]
    for model in comparison.models:
        parts.append(_model_table(model))
        for problem in model.head_problems:
            parts.append(Text(f"head metrics unavailable: {problem}", style="red"))
        for problem in model.base_problems:
            parts.append(Text(f"base metrics unavailable: {problem}", style="yellow"))
        changed = [p for p in model.params if p.status != "unchanged"]
        for p in changed:
            parts.append(Text(f"param {p.path}: {p.name}: {format_value(p.base, 'string')} -> "
                              f"{format_value(p.head, 'string')} ({p.status})", style="cyan"))
    return Group(*parts)
