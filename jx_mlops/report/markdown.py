"""The PR comment: verdict first, the changed metrics, details one click away (pure).

Everything that comes from the project (metric names, values, param names, labels) goes
through :func:`escape`, so a metric called ``<img src=x>`` or ``@org/team`` renders as
text and pings nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from jx_mlops.compare.comparison import Comparison, ModelComparison
from jx_mlops.compare.metrics import MetricDelta, ParamChange
from jx_mlops.compare.values import kind_of
from jx_mlops.report.format import (
    STATUS_ICONS,
    STATUS_ORDER,
    format_delta,
    format_value,
    status_label,
)

REPORT_MARKER = "<!-- jx-mlops:report id={id} -->"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def marker(report_id: str = "default") -> str:
    """The hidden first line that identifies the comment of one report on a PR."""
    safe = re.sub(r"[^A-Za-z0-9_.:/-]", "_", report_id)
    return REPORT_MARKER.format(id=safe)


def escape(text: str) -> str:
    """Make ``text`` inert in GitHub markdown: no HTML, no formatting, no @mentions."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("@", "&#64;").replace("\r", " ").replace("\n", " ")
    return text


def code(text: str) -> str:
    """``text`` as an inline code span: literal on GitHub, so only backticks need care."""
    text = text.replace("`", "'").replace("\r", " ").replace("\n", " ")
    return f"`{text}`"


def _table(header: Sequence[str], align: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def cell(value: object, kind: str | None) -> str:
    """A value for a table cell: numbers as we format them, anything else escaped."""
    text = format_value(value, kind)
    return text if kind in (None, "number", "nan", "inf", "bool", "null") else escape(text)


def _metric_row(delta: MetricDelta, with_path: bool) -> list[str]:
    name = escape(delta.name)
    if with_path:
        name = f"{escape(delta.path)}: {name}"
    return [name, cell(delta.base, delta.base_kind), cell(delta.head, delta.head_kind),
            format_delta(delta), f"{STATUS_ICONS[delta.status]} {status_label(delta.status)}"]


def _metrics_table(deltas: Sequence[MetricDelta]) -> list[str]:
    with_path = len({d.path for d in deltas}) > 1
    ordered = sorted(deltas, key=lambda d: (STATUS_ORDER.index(d.status), d.path, d.name))
    return _table(("Metric", "Base", "Head", "Change", "Status"),
                  (":--", "--:", "--:", "--:", ":--"),
                  (_metric_row(d, with_path) for d in ordered))


def _param_value(change: ParamChange, side: str) -> str:
    present = change.status != ("added" if side == "base" else "removed")
    value = change.base if side == "base" else change.head
    return cell(value, kind_of(value) if present else None)


def _params_section(params: Sequence[ParamChange]) -> list[str]:
    changed = [p for p in params if p.status != "unchanged"]
    if not params:
        return []
    rows = ([escape(f"{p.path}: {p.name}"), _param_value(p, "base"), _param_value(p, "head"),
             p.status] for p in (changed or params))
    title = f"Params: {len(changed)} changed" if changed else "Params: unchanged"
    return ["<details><summary>" + title + "</summary>", "",
            *_table(("Param", "Base", "Head", ""), (":--", "--:", "--:", ":--"), rows),
            "", "</details>"]


def _model_section(model: ModelComparison) -> list[str]:
    lines = [f"#### Model {code(model.model)}", ""]
    for problem in model.head_problems:
        lines.append(f"> ⛔ **Head metrics unavailable:** {escape(problem)}")
    for problem in model.base_problems:
        lines.append(f"> ⚠️ **Base metrics unavailable:** {escape(problem)}")
    if model.head_problems or model.base_problems:
        lines.append("")
    changed = [d for d in model.metrics if d.status != "unchanged"]
    if changed:
        lines += _metrics_table(changed)
    elif model.metrics:
        lines.append("All metrics unchanged.")
    unchanged = [d for d in model.metrics if d.status == "unchanged"]
    if changed and unchanged:
        lines += ["", f"<details><summary>{len(unchanged)} unchanged metrics</summary>", "",
                  *_metrics_table(unchanged), "", "</details>"]
    params = _params_section(model.params)
    if params:
        lines += ["", *params]
    return lines


def render_comment(comparison: Comparison, *, report_id: str = "default",
                   title: str = "jx-mlops evaluation") -> str:
    """The full PR comment, starting with its hidden marker."""
    verdict = comparison.verdict
    icon = "✅" if verdict.passed else "❌"
    base, head = comparison.base, comparison.head
    lines = [
        marker(report_id),
        f"### {icon} {title}: {verdict.word}",
        "",
        f"**{escape(verdict.line)}**",
        "",
        f"Base {code(base.label)} @ {code(base.short)} → head {code(head.label)} "
        f"@ {code(head.short)}",
        "",
    ]
    for model in comparison.models:
        lines += _model_section(model)
        lines.append("")
    lines.append("<sub>Posted by jx-mlops; re-runs update this comment in place.</sub>")
    return "\n".join(lines) + "\n"
