"""Charts as inline SVG for the self-contained HTML report (pure, no dependencies)."""

from __future__ import annotations

import html
import math

from jx_mlops.compare.charts import Chart
from jx_mlops.yamlio import shorten

WIDTH, HEIGHT = 560, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 40
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def _bounds(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        return low - 0.5, high + 0.5
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _bars_svg(chart: Chart) -> str:
    """Horizontal bars, a group per category (base and head side by side), a legend."""
    values = [y for s in chart.series for y in s.y if math.isfinite(y)]
    if not values or not chart.categories:
        return ""
    low, high = min(0.0, *values), max(0.0, *values)
    left, row, bar = 150, 8 + 7 * len(chart.series), 6
    top = TOP + 13 * len(chart.series)
    height = top + row * len(chart.categories) + BOTTOM
    plot_w = WIDTH - left - RIGHT

    def px(x: float) -> float:
        return left + (x - low) / ((high - low) or 1.0) * plot_w

    title = html.escape(chart.title)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'role="img" aria-label="{title}">',
             f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{title}</text>']
    for index, series in enumerate(chart.series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(f'<text x="{left}" y="{TOP + 10 + 13 * index}" font-size="11" '
                     f'fill="{colour}">■ {html.escape(series.label)}</text>')
    for i, category in enumerate(chart.categories):
        y = top + i * row
        parts.append(f'<text x="{left - 4}" y="{y + row / 2 + 3:.1f}" text-anchor="end" '
                     f'font-size="10">{html.escape(shorten(category, 28))}</text>')
        for index, series in enumerate(chart.series):
            value = series.y[i] if i < len(series.y) and math.isfinite(series.y[i]) else 0.0
            x0, x1 = sorted((px(0.0), px(value)))
            parts.append(f'<rect x="{x0:.1f}" y="{y + 4 + index * (bar + 1)}" '
                         f'width="{x1 - x0:.1f}" height="{bar}" '
                         f'fill="{COLOURS[index % len(COLOURS)]}"><title>'
                         f"{html.escape(series.label)}: {value:.4g}</title></rect>")
    axis_y = top + row * len(chart.categories)
    for value in (low, high):
        parts.append(f'<text x="{px(value):.1f}" y="{axis_y + 14}" text-anchor="middle" '
                     f'font-size="9">{value:.3g}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{axis_y + 30}" text-anchor="middle" '
                 f'font-size="11">{html.escape(chart.y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_svg(chart: Chart) -> str:
    """An <svg> element with axes, one polyline per series (bars for a bar chart) and a
    legend."""
    if chart.kind == "bar":
        return _bars_svg(chart)
    xs = [x for s in chart.series for x in s.x]
    ys = [y for s in chart.series for y in s.y if math.isfinite(y)]
    if not xs or not ys:
        return ""
    x0, x1 = _bounds(xs)
    y0, y1 = _bounds(ys)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'role="img" aria-label="{html.escape(chart.title)}">',
             f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">'
             f"{html.escape(chart.title)}</text>",
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
             'stroke="#999"/>']
    for value, anchor in ((y0, "end"), (y1, "end")):
        parts.append(f'<text x="{LEFT - 4}" y="{py(value) + 4:.1f}" text-anchor="{anchor}" '
                     f'font-size="10">{value:.3g}</text>')
    labels = chart.categories or tuple(f"{v:.3g}" for v in (x0, x1))
    positions = range(len(labels)) if chart.categories else (x0, x1)
    for label, pos in zip(labels, positions, strict=True):
        parts.append(f'<text x="{px(float(pos)):.1f}" y="{HEIGHT - BOTTOM + 14}" '
                     f'text-anchor="middle" font-size="9">{html.escape(str(label))}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" text-anchor="middle" '
                 f'font-size="11">{html.escape(chart.x_label)}</text>')
    for index, series in enumerate(chart.series):
        colour = COLOURS[index % len(COLOURS)]
        finite = [(px(x), py(y)) for x, y in zip(series.x, series.y, strict=True)
                  if math.isfinite(y)]
        if chart.kind == "scatter":  # DVC's scatter templates: dots, not a line
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}" '
                      'fill-opacity="0.7"/>' for x, y in finite]
        else:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in finite)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{points}"/>')
        parts.append(f'<text x="{LEFT + 8}" y="{TOP + 14 + 13 * index}" font-size="11" '
                     f'fill="{colour}">■ {html.escape(series.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
