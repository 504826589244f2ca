"""Charts as Mermaid ``xychart-beta`` blocks, which GitHub renders natively (pure).

Lines over a numeric or categorical x axis; bar charts as ``xychart-beta horizontal``.
xychart spreads a line's values evenly over the x axis and a comment must stay small, so a
line is drawn here, and only here, on what xychart can show (the data keeps every point):
lines over evenly spaced x values (steps) as they are, every k-th point when long; other
lines interpolated on one even x grid. The legend says which. A scatter has no xychart
form: :func:`drawable` says so, and the comment names it instead (the HTML report draws
its dots).

No image host is involved: the chart is text inside the comment. Everything from the
project (titles, labels) is reduced to characters that cannot end the code block or the
quoted string they sit in.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

from jx_mlops.compare.charts import MAX_POINTS, Chart
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


def drawable(chart: Chart) -> bool:
    """Whether Mermaid's xychart can draw ``chart`` (not a scatter)."""
    return chart.kind != "scatter"


def _interpolate(points: Sequence[tuple[float, float]], at: float) -> float:
    if at <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= at <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (at - x0) / (x1 - x0)
    return points[-1][1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _even_steps(chart: Chart) -> bool:
    """All lines share their x values, spaced evenly (steps, epochs): what xychart draws
    exactly, so a long line may skip points instead of being resampled."""
    if len({s.x for s in chart.series}) != 1:
        return False
    xs = chart.series[0].x
    steps = [b - a for a, b in itertools.pairwise(xs)]
    return not steps or (steps[0] > 0 and all(math.isclose(d, steps[0], rel_tol=1e-6)
                                              for d in steps))


def _shortened(chart: Chart) -> tuple[list[tuple[float, ...]], tuple[float, float], str]:
    """The y values of each line as drawn, the x range, and what was done to them."""
    longest = max(len(s.y) for s in chart.series)
    xs = [x for s in chart.series for x in s.x]
    low, high = min(xs), max(xs)
    if _even_steps(chart):
        step = max(1, math.ceil(longest / MAX_POINTS))
        said = f"every {_ordinal(step)} point ({len(range(0, longest, step))} of " \
            f"{longest})" if step > 1 else ""
        return [s.y[::step] for s in chart.series], (low, high), said
    count = min(MAX_POINTS, longest)
    grid = [low + i * (high - low) / (count - 1) for i in range(count)] if count > 1 \
        else [low]
    lines = [tuple(_interpolate(sorted(zip(s.x, s.y, strict=True)), at) for at in grid)
             for s in chart.series]
    return lines, (low, high), f"drawn at {count} evenly spaced {_text(chart.x_label)} " \
                               f"values, interpolated (the data: {longest} points)"


def render_chart(chart: Chart) -> str:
    """A fenced ```mermaid block; line k is the chart's k-th series (bars: see _bar_chart)."""
    if chart.kind == "bar" and chart.categories and chart.series:
        return _bar_chart(chart)
    if chart.categories:
        lines = [s.y for s in chart.series]
        x_range = (0.0, float(len(chart.categories) - 1))
    else:
        lines, x_range, _said = _shortened(chart)
    ys = [y for line in lines for y in line if math.isfinite(y)]
    low, high = _range(ys) if ys else (0.0, 1.0)
    out = ["```mermaid", "xychart-beta", f'    title "{_text(chart.title, 80)}"']
    if chart.categories:
        labels = ", ".join(f'"{_text(c, 12)}"' for c in chart.categories)
        out.append(f"    x-axis [{labels}]")
    else:
        out.append(f'    x-axis "{_text(chart.x_label)}" {_num(x_range[0])} --> '
                   f"{_num(x_range[1])}")
    out.append(f'    y-axis "{_text(chart.y_label)}" {_num(low)} --> {_num(high)}')
    for line in lines:
        out.append("    line [" + ", ".join(_num(_finite(y)) for y in line) + "]")
    out.append("```")
    return "\n".join(out)


def legend(chart: Chart) -> str:
    """Mermaid's xychart has no legend: say in words which line is which, and how a long
    line was shortened."""
    if chart.kind == "bar" and chart.series:
        *others, last = chart.series
        parts = [f"bars: {_text(last.label)}",
                 *(f"line: {_text(s.label)}" for s in others), chart.note]
        return "; ".join(p for p in parts if p)
    said = _shortened(chart)[2] if chart.series and not chart.categories else ""
    names = ["first", "second", "third", "fourth"]
    parts = [f"{names[i] if i < len(names) else f'{i + 1}th'} line: {_text(s.label)}"
             for i, s in enumerate(chart.series)] if len(chart.series) > 1 else []
    return "; ".join(p for p in (*parts, said, chart.note) if p)
