"""Chart data: series extracted from plot records and metric history (pure).

Renderers (Mermaid in the PR comment, SVG in the HTML report, ``--format json``) draw
these; this module only decides what the points are. A plot's series keep every point of
the data, as ``dvc plots diff`` has them: shortening a long series is a rendering choice
(the Mermaid renderer's, which says so under the chart). Bar charts (DVC's
``bar_horizontal`` templates: a value per category, such as feature importances) keep
their largest bars, and metric trends their last commits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

MAX_POINTS = 25
# How a chart is drawn, from DVC's template: line (linear, simple, smooth), scatter
# (scatter, scatter_jitter), bar (bar_horizontal, bar_horizontal_sorted).
ChartKind = Literal["line", "scatter", "bar"]


@dataclass(frozen=True)
class Series:
    """A named line: y values over either numeric x values or the chart's categories."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    """A chart; ``categories`` set means a categorical x axis (commits, features)."""

    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    categories: tuple[str, ...] = ()
    note: str = ""
    # "bar": horizontal bars, one per category (x_label names the categories); a second
    # series is drawn as a line over the bars (Mermaid would hide overlapping bars).
    kind: ChartKind = "line"
    # The plot's id, as `dvc plots diff` names it ('' for a metric trend), and its template.
    plot: str = ""
    template: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def points_from_records(records: Sequence[Mapping[str, Any]], x: str | None,
                        y: str) -> list[tuple[float, float]]:
    """(x, y) pairs from plot records; ``x`` None means the record index (DVC's 'step')."""
    points = []
    for index, record in enumerate(records):
        xv = float(index) if x is None else _number(record.get(x))
        yv = _number(record.get(y))
        if xv is not None and yv is not None:
            points.append((xv, yv))
    return points


def curve_chart(title: str, x_label: str, y_label: str,
                curves: Sequence[tuple[str, Sequence[tuple[float, float]]]], *,
                kind: ChartKind = "line", plot: str = "", template: str = "") -> Chart | None:
    """(label, points) curves, every point kept in the data's order; None when there is
    nothing to draw."""
    series = tuple(Series(label, tuple(x for x, _y in pts), tuple(y for _x, y in pts))
                   for label, pts in curves if pts)
    if not series:
        return None
    return Chart(title, x_label, y_label, series, kind=kind, plot=plot, template=template)


def trend_chart(metric: str, labels: Sequence[str], values: Sequence[float | None],
                note: str = "") -> Chart | None:
    """A metric over commits (oldest first); commits without a value are left out."""
    kept = [(label, v) for label, v in zip(labels, values, strict=True)
            if v is not None and math.isfinite(v)]
    if len(kept) < 2:
        return None
    kept = kept[-MAX_POINTS:]
    categories = tuple(label for label, _v in kept)
    ys = tuple(v for _label, v in kept)
    series = Series(metric, tuple(float(i) for i in range(len(ys))), ys)
    return Chart(f"{metric} over the last {len(ys)} commits", "commit", metric, (series,),
                 categories, note)


def bars_from_records(records: Sequence[Mapping[str, Any]], category: str,
                      value: str) -> dict[str, float]:
    """{category: value} from plot records (the first record of a category wins)."""
    bars: dict[str, float] = {}
    for record in records:
        name, number = record.get(category), _number(record.get(value))
        if isinstance(name, (str, int, float)) and not isinstance(name, bool) \
                and number is not None:
            bars.setdefault(str(name), number)
    return bars


def bar_chart(title: str, category_label: str, value_label: str,
              sides: Sequence[tuple[str, Mapping[str, float]]], *,
              sort: bool) -> Chart | None:
    """Bars per category for each side (base, head); categories in the data's order, or
    largest last-side value first with ``sort``; at most MAX_POINTS (the largest in size),
    and a category one side lacks is 0 there. None when no side has a bar."""
    drawn = [(label, values) for label, values in sides if values]
    if not drawn:
        return None
    order = list(dict.fromkeys(c for _label, values in drawn for c in values))
    last = drawn[-1][1]
    ranked = sorted(order, key=lambda c: -abs(last.get(c, 0.0)))
    kept = set(ranked[:MAX_POINTS])
    # DVC's _sorted template orders by value, largest first (vega-lite's sort "-x").
    categories = sorted(kept, key=lambda c: (-last.get(c, 0.0), order.index(c))) if sort \
        else [c for c in order if c in kept]
    notes = [f"the {MAX_POINTS} largest of {len(order)} bars"] if len(order) > MAX_POINTS \
        else []
    lacking = [f"{c} ({label.split(' ')[0]})" for label, values in drawn for c in categories
               if c not in values]
    if lacking:
        notes.append(f"0 where a side has no such bar: {', '.join(lacking)}")
    note = "; ".join(notes)
    index = tuple(float(i) for i in range(len(categories)))
    series = tuple(Series(label, index, tuple(values.get(c, 0.0) for c in categories))
                   for label, values in drawn)
    return Chart(title, category_label, value_label, series, tuple(categories), note, "bar")
