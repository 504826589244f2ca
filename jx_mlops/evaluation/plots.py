"""Plots DVC declares at two revisions, as ``dvc plots diff`` names and draws them.

Definitions come from the resolved pipeline at both revisions (a plot renamed or removed
keeps its base side). Each plot id of ``dvc plots diff`` is one chart: a plot whose path
is a directory (dvclive's ``plots/metrics``) stands for every file inside it, each its own
id; a plot with several files or fields draws one series per file (or field) and side.
Every point of the data is kept; the template says how it is drawn (lines, a scatter,
bars, a confusion matrix as a table of counts); an image is named with its path and
whether it changed; and every plot that is not drawn is named in a note, so nothing DVC
shows disappears without a word.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from typing import Any

import yaml

from jx_mlops.compare.charts import (
    Chart,
    ChartKind,
    bar_chart,
    bars_from_records,
    curve_chart,
    points_from_records,
)
from jx_mlops.dvc.pipeline import PlotDefinition, PlotSource
from jx_mlops.evaluation.formats import load_records
from jx_mlops.evaluation.snapshot import Snapshot, list_dir, read_bytes

MAX_PLOTS = 6
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif")
CONFUSION = ("confusion", "confusion_normalized")
# DVC's bar templates: x is the value, y the category (a feature, a class).
BARS = ("bar_horizontal", "bar_horizontal_sorted")
SCATTERS = ("scatter", "scatter_jitter")


def _default_y(records: list[dict[str, Any]], x: str | None) -> str | None:
    fields = [k for k in (records[0] if records else {}) if k not in (x, "timestamp", "rev")]
    return fields[-1] if fields else None


def _records(snap: Snapshot, file: str) -> tuple[list[dict[str, Any]] | None, str]:
    data, reason = read_bytes(snap, file)
    if data is None:
        return None, reason or ""
    try:
        return load_records(file, data), ""
    except (ValueError, yaml.YAMLError) as exc:
        return None, f"{file} at {snap.where}: {exc}"


def _points(snap: Snapshot,
            source: PlotSource) -> tuple[list[tuple[float, float]], str, str | None]:
    """The (x, y) points of ``source`` at ``snap``, why there are none, and the y field
    (DVC's default: the last column that is not x)."""
    records, reason = _records(snap, source.file)
    if records is None:
        return [], reason, None
    y = source.y or _default_y(records, source.x)
    return (points_from_records(records, source.x, y) if y else []), "", y


def _definitions(base: Snapshot, head: Snapshot) -> list[PlotDefinition]:
    """Head's plot definitions, then base's that head no longer has (renamed, removed)."""
    found: dict[str, PlotDefinition] = {}
    for snap in (head, base):
        for plot in snap.pipeline().plots:
            found.setdefault(plot.name, plot)
    return list(found.values())


def _expand(plot: PlotDefinition, base: Snapshot, head: Snapshot) -> list[PlotDefinition]:
    """A plot whose path is a directory stands for its files (union of both sides), each
    its own plot named by its path, as ``dvc plots diff`` expands it."""
    if not plot.path_id or len(plot.sources) != 1:
        return [plot]
    source = plot.sources[0]
    files = sorted(set(list_dir(base, source.file)) | set(list_dir(head, source.file)))
    if not files:
        return [plot]
    return [replace(plot, name=f, title=f, sources=(PlotSource(f, source.y, source.x),))
            for f in files]


def _distinct_parts(files: list[str]) -> list[str]:
    """What tells files apart: ``eval/roc/train.json``, ``eval/roc/test.json`` -> train, test."""
    parts = [os.path.splitext(f)[0].split("/") for f in files]
    lead = 0
    while all(len(p) > lead + 1 for p in parts) and len({p[lead] for p in parts}) == 1:
        lead += 1
    trail = 0
    while all(len(p) > lead + trail + 1 for p in parts) and \
            len({p[-1 - trail] for p in parts}) == 1:
        trail += 1
    return ["/".join(p[lead:len(p) - trail]) for p in parts]


def _source_names(plot: PlotDefinition) -> list[str]:
    """What tells a plot's sources apart in a series label ('' for a single source)."""
    sources = plot.sources
    if len(sources) == 1:
        return [""]
    files = Counter(s.file for s in sources)
    ys = Counter(s.y for s in sources)
    labels = _distinct_parts([s.file for s in sources])
    names = []
    for source, label in zip(sources, labels, strict=True):
        if files[source.file] > 1 or len(files) == 1:
            names.append(source.y or label)
        else:
            names.append(label if ys[source.y] > 1 or not source.y else f"{label} {source.y}")
    return names


def _kind(plot: PlotDefinition) -> ChartKind:
    return "scatter" if plot.template in SCATTERS else "line"


def _curve(plot: PlotDefinition, base: Snapshot,
           head: Snapshot) -> tuple[Chart | None, list[str]]:
    curves: list[tuple[str, list[tuple[float, float]]]] = []
    notes: list[str] = []
    y_label = plot.y_label
    for source, name in zip(plot.sources, _source_names(plot), strict=True):
        for side, snap in (("base", base), ("head", head)):
            points, note, y = _points(snap, source)
            notes += [note] if note else []
            y_label = y_label or y or ""
            curves.append((f"{side} {snap.label}{f' {name}' if name else ''}", points))
    chart = curve_chart(plot.title, plot.x_label, y_label, curves, kind=_kind(plot),
                        plot=plot.name, template=plot.template)
    if chart is None and not notes:  # unreadable data already says why it is not drawn
        fields = ", ".join(sorted({s.y or "y" for s in plot.sources}))
        notes.append(f"{plot.title}: not charted (no numeric {fields} values on either side)")
    return chart, notes


def _bars(plot: PlotDefinition, base: Snapshot,
          head: Snapshot) -> tuple[Chart | None, list[str]]:
    """One bar per category (``y``) of value ``x``, base and head (first source)."""
    source = plot.sources[0]
    category, value = source.y, source.x
    if not (category and value):
        return None, [f"{plot.title}: not charted ({plot.template} needs x (the value) and y "
                      "(the category) in dvc.yaml)"]
    sides, notes = [], []
    for side, snap in (("base", base), ("head", head)):
        records, reason = _records(snap, source.file)
        notes += [reason] if reason else []
        sides.append((f"{side} {snap.label}", bars_from_records(records or [], category, value)))
    chart = bar_chart(plot.title, plot.y_label or category, plot.x_label or value, sides,
                      sort=plot.template.endswith("_sorted"))
    if chart is None and not notes:
        notes.append(f"{plot.title}: not charted ({source.file} has no numeric {value} "
                     f"values per {category} on either side)")
    return (replace(chart, plot=plot.name, template=plot.template) if chart else None), notes


def _confusion(plot: PlotDefinition, base: Snapshot, head: Snapshot) -> str:
    """A confusion matrix as a table of (actual, predicted) counts, base -> head."""
    source = plot.sources[0]
    x, y = source.x or "actual", source.y or "predicted"
    counts = []
    for snap in (base, head):
        records, _reason = _records(snap, source.file)
        counts.append(Counter((str(r.get(x)), str(r.get(y))) for r in records or []))
    cells = sorted(set(counts[0]) | set(counts[1]))
    table = "; ".join(f"{a}→{p}: {counts[0][(a, p)]} → {counts[1][(a, p)]}"
                      for a, p in cells)
    return f"{plot.title} (confusion matrix, {x}→{y}, base → head): {table or 'no data'}"


def _image(plot: PlotDefinition, base: Snapshot, head: Snapshot) -> str:
    """An image plot named with its path and what happened to it."""
    path = plot.sources[0].file
    before, after = (read_bytes(snap, path)[0] for snap in (base, head))
    how = ("new" if before is None else "removed" if after is None else
           "unchanged" if before == after else "changed") if before or after else "absent"
    where = "" if plot.title == path else f" ({path})"
    return f"{plot.title}: an image{where}, {how}; not drawn here (`dvc plots diff` " \
           "renders it)"


def _planned(base: Snapshot, head: Snapshot) -> list[PlotDefinition]:
    return [p for d in _definitions(base, head) for p in _expand(d, base, head)]


def plot_charts(base: Snapshot, head: Snapshot) -> tuple[list[Chart], list[str]]:
    """One chart per plot id, base and head as series; notes name every plot that is not
    drawn (images, confusion matrices as tables, unreadable data, past the limit)."""
    charts: list[Chart] = []
    notes: list[str] = []
    skipped: list[str] = []
    for plot in _planned(base, head):
        if plot.sources[0].file.lower().endswith(IMAGE_SUFFIXES):
            notes.append(_image(plot, base, head))
        elif plot.template in CONFUSION:
            notes.append(_confusion(plot, base, head))
        elif len(charts) == MAX_PLOTS:
            skipped.append(plot.title)
        else:
            chart, chart_notes = (_bars if plot.template in BARS else _curve)(plot, base, head)
            notes += chart_notes
            charts += [chart] if chart else []
    if skipped:
        notes.append(f"not charted here (more than {MAX_PLOTS} plots): {', '.join(skipped)}")
    return charts, list(dict.fromkeys(notes))


def plot_names(base: Snapshot, head: Snapshot) -> list[str]:
    """Every plot id, as `dvc plots diff` lists them (for tests, docs)."""
    return sorted({p.name for p in _planned(base, head)})
