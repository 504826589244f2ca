"""Charts as Mermaid ``xychart-beta`` blocks, which GitHub renders natively (pure).

Lines over a numeric or categorical x axis; bar charts as ``xychart-beta horizontal``.

No image host is involved: the chart is text inside the comment. Everything from the
project (titles, labels) is reduced to characters that cannot end the code block or the
quoted string they sit in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from jx_mlops.compare.charts import Chart
from jx_mlops.yamlio import shorten

_UNSAFE = re.compile(r"[`\"<>\[\]{}\\\r\n]")


def _text(value: str, limit: int = 60) -> str:
    return shorten(_UNSAFE.sub("'", value).strip(), limit) or "-"


def _num(value: float) -> str:
    return f"{value:.4g}"


def _range(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (abs(low) * 0.05 or 0.05) if low == high else (high - low) * 0.08
    # Rates and probabilities stay in their natural [0, 1] frame.
    floor = 0.0 if low >= 0 else low - pad
    ceiling = 1.0 if high <= 1 and low >= 0 else high + pad
    return max(low - pad, floor), min(high + pad, ceiling)


def _bar_range(values: Sequence[float]) -> tuple[float, float]:
    """Bars grow from zero, so zero is always in frame."""
    low, high = min(0.0, *values), max(0.0, *values)
    pad = (high - low) * 0.08 or 0.05
    return (low - pad if low < 0 else 0.0), (high + pad if high > 0 else 0.0)


def _bar_chart(chart: Chart) -> str:
    """Horizontal bars (xychart's ``horizontal``): the last series as bars, an earlier one
    (the base) as a line across them, as overlapping bars would hide each other."""
    ys = [y for s in chart.series for y in s.y if math.isfinite(y)]
    low, high = _bar_range(ys) if ys else (0.0, 1.0)
    labels = ", ".join(f'"{_text(c, 24)}"' for c in chart.categories)
    lines = ["```mermaid", "xychart-beta horizontal", f'    title "{_text(chart.title, 80)}"',
             f'    x-axis "{_text(chart.x_label)}" [{labels}]',
             f'    y-axis "{_text(chart.y_label)}" {_num(low)} --> {_num(high)}']
    *others, last = chart.series
    lines.append("    bar [" + ", ".join(_num(_finite(y)) for y in last.y) + "]")
    for series in others:
        lines.append("    line [" + ", ".join(_num(_finite(y)) for y in series.y) + "]")
    lines.append("```")
    return "\n".join(lines)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def render_chart(chart: Chart) -> str:
    """A fenced ```mermaid block; line k is the chart's k-th series (bars: see _bar_chart)."""
    if chart.kind == "bar" and chart.categories and chart.series:
        return _bar_chart(chart)
    ys = [y for s in chart.series for y in s.y if math.isfinite(y)]
    low, high = _range(ys) if ys else (0.0, 1.0)
    lines = ["```mermaid", "xychart-beta", f'    title "{_text(chart.title, 80)}"']
    if chart.categories:
        labels = ", ".join(f'"{_text(c, 12)}"' for c in chart.categories)
        lines.append(f"    x-axis [{labels}]")
    else:
        xs = [x for s in chart.series for x in s.x]
        lines.append(f'    x-axis "{_text(chart.x_label)}" {_num(min(xs))} --> {_num(max(xs))}')
    lines.append(f'    y-axis "{_text(chart.y_label)}" {_num(low)} --> {_num(high)}')
    for series in chart.series:
        lines.append("    line [" + ", ".join(_num(y) for y in series.y) + "]")
    lines.append("```")
    return "\n".join(lines)


def legend(chart: Chart) -> str:
    """Mermaid's xychart has no legend: say in words which line is which."""
    if chart.kind == "bar" and chart.series:
        *others, last = chart.series
        parts = [f"bars: {_text(last.label)}",
                 *(f"line: {_text(s.label)}" for s in others), chart.note]
        return "; ".join(p for p in parts if p)
    if len(chart.series) < 2:
        return chart.note
    names = ["first", "second", "third", "fourth"]
    parts = [f"{names[i] if i < len(names) else i + 1} line: {_text(s.label)}"
             for i, s in enumerate(chart.series)]
    return "; ".join(parts)
