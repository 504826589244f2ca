"""Chart data: series extracted from plot records and metric history, kept small (pure).

Renderers (Mermaid in the PR comment, SVG in the HTML report) draw these; this module only
decides what the points are. Long series are downsampled so a comment stays small: x/y
curves are resampled on an even x grid (which is also what Mermaid's xychart needs, since
its line values are spread evenly over the x axis).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 25


@dataclass(frozen=True)
class Series:
    """A named line: y values over either numeric x values or the chart's categories."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    """A line chart; ``categories`` set means a categorical x axis (e.g. commits)."""

    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    categories: tuple[str, ...] = ()
    note: str = ""


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


def _interpolate(points: Sequence[tuple[float, float]], at: float) -> float:
    if at <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= at <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (at - x0) / (x1 - x0)
    return points[-1][1]


def resample(points: Sequence[tuple[float, float]], low: float, high: float,
             count: int = MAX_POINTS) -> tuple[float, ...]:
    """y of a curve at ``count`` evenly spaced x in [low, high] (linear interpolation)."""
    ordered = sorted(points)
    if not ordered:
        return ()
    if count < 2 or high == low:
        return (ordered[-1][1],)
    step = (high - low) / (count - 1)
    return tuple(_interpolate(ordered, low + i * step) for i in range(count))


def curve_chart(title: str, x_label: str, y_label: str,
                curves: Sequence[tuple[str, Sequence[tuple[float, float]]]]) -> Chart | None:
    """Several (label, points) curves on one even x grid; None when there is nothing to draw."""
    drawn = [(label, pts) for label, pts in curves if pts]
    if not drawn:
        return None
    xs = [x for _label, pts in drawn for x, _y in pts]
    low, high = min(xs), max(xs)
    count = min(MAX_POINTS, max(len(pts) for _label, pts in drawn))
    grid = tuple(low + i * (high - low) / (count - 1) for i in range(count)) if count > 1 \
        else (low,)
    series = tuple(Series(label, grid, resample(pts, low, high, count)) for label, pts in drawn)
    return Chart(title, x_label, y_label, series)


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
