"""Plots DVC declares at two revisions, drawn as charts of base and head.

Definitions come from dvc.yaml at both revisions (a plot renamed or removed keeps its
base side), a plot path that is a directory (dvclive's ``plots/metrics``) stands for every
data file inside it, and every plot that is not drawn is named in a note, so nothing DVC
shows disappears without a word.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

from jx_mlops.compare.charts import (
    Chart,
    bar_chart,
    bars_from_records,
    curve_chart,
    points_from_records,
)
from jx_mlops.dvc.pipeline import PlotDefinition, PlotSource
from jx_mlops.evaluation.formats import load_records
from jx_mlops.evaluation.snapshot import Snapshot, list_dir, read_bytes

MAX_PLOTS = 6
DATA_SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".tsv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif")
CONFUSION = ("confusion", "confusion_normalized")
# DVC's bar templates: x is the value, y the category (a feature, a class).
BARS = ("bar_horizontal", "bar_horizontal_sorted")


def _default_y(records: list[dict[str, Any]], x: str | None) -> str | None:
    fields = [k for k in (records[0] if records else {}) if k not in (x, "timestamp")]
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


def _definitions(base: Snapshot, head: Snapshot) -> tuple[list[PlotDefinition], list[str]]:
    """Head's plot definitions, then base's that head no longer has (renamed, removed)."""
    found: dict[str, PlotDefinition] = {}
    notes: list[str] = []
    for snap in (head, base):
        for plot in snap.pipeline().plots:
            found.setdefault(plot.name, plot)
    return list(found.values()), notes


def _expand(source: PlotSource, base: Snapshot, head: Snapshot) -> list[PlotSource]:
    """A plot directory stands for its data files (union of both sides), one source each."""
    if source.file.lower().endswith(DATA_SUFFIXES + IMAGE_SUFFIXES):
        return [source]
    files = sorted(set(list_dir(base, source.file)) | set(list_dir(head, source.file)))
    return [PlotSource(f, source.y, source.x) for f in files] or [source]


@dataclass(frozen=True)
class _Series:
    """One chart to draw: a plot's source under a title that says which series it is."""

    title: str
    y_label: str
    source: PlotSource
    definition: PlotDefinition


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


def _series(definition: PlotDefinition, sources: list[PlotSource],
            expanded: bool) -> list[_Series]:
    """Titles that say which series a chart is; a directory's files are named by path,
    as `dvc plots diff` names them."""
    if expanded:
        return [_Series(s.file, s.y or definition.y_label, s, definition) for s in sources]
    if len(sources) == 1:
        return [_Series(definition.title, sources[0].y or definition.y_label, sources[0],
                        definition)]
    ys = Counter(s.y for s in sources)
    files = Counter(s.file for s in sources)
    labels = _distinct_parts([s.file for s in sources])
    named = []
    for source, label in zip(sources, labels, strict=True):
        if files[source.file] > 1 or len(files) == 1:
            which = source.y or label  # one file, several y fields
        else:
            which = label if ys[source.y] > 1 or not source.y else f"{label} {source.y}"
        named.append(_Series(f"{definition.title}: {which}", source.y or definition.y_label,
                             source, definition))
    return named


def _confusion_note(item: _Series, base: Snapshot, head: Snapshot) -> str:
    """A confusion matrix as a table of (actual, predicted) counts, base -> head."""
    x, y = item.source.x or "actual", item.source.y or "predicted"
    counts = []
    for snap in (base, head):
        records, _reason = _records(snap, item.source.file)
        counts.append(Counter((str(r.get(x)), str(r.get(y))) for r in records or []))
    cells = sorted(set(counts[0]) | set(counts[1]))
    table = "; ".join(f"{a}→{p}: {counts[0][(a, p)]} → {counts[1][(a, p)]}"
                      for a, p in cells)
    return f"{item.title} (confusion matrix, {x}→{y}, base → head): {table or 'no data'}"


def _bar_chart(item: _Series, base: Snapshot,
               head: Snapshot) -> tuple[Chart | None, list[str]]:
    """One bar per category (``y``) of value ``x``, base and head."""
    category, value = item.source.y, item.source.x
    if not (category and value):
        return None, [f"{item.title}: not charted ({item.definition.template} needs x (the "
                      "value) and y (the category) in dvc.yaml)"]
    sides, notes = [], []
    for snap in (base, head):
        records, reason = _records(snap, item.source.file)
        notes += [reason] if reason else []
        sides.append((f"{'base' if snap is base else 'head'} {snap.label}",
                      bars_from_records(records or [], category, value)))
    chart = bar_chart(item.title, item.definition.y_label or category,
                      item.definition.x_label or value, sides,
                      sort=item.definition.template.endswith("_sorted"))
    if chart is None and not notes:
        notes.append(f"{item.title}: not charted ({item.source.file} has no numeric {value} "
                     f"values per {category} on either side)")
    return chart, notes


def _chart(item: _Series, base: Snapshot, head: Snapshot) -> tuple[Chart | None, list[str]]:
    if item.definition.template in BARS:
        return _bar_chart(item, base, head)
    base_points, base_note, base_y = _points(base, item.source)
    head_points, head_note, head_y = _points(head, item.source)
    notes = [n for n in (base_note, head_note) if n]
    chart = curve_chart(item.title, item.definition.x_label,
                        item.y_label or head_y or base_y or "",
                        [(f"base {base.label}", base_points),
                         (f"head {head.label}", head_points)])
    if chart is None and not notes:  # unreadable data already says why it is not drawn
        notes.append(f"{item.title}: not charted ({item.source.file} has no numeric "
                     f"{item.source.y or 'y'} values on either side)")
    return chart, notes


def _planned(base: Snapshot, head: Snapshot) -> tuple[list[_Series], list[str]]:
    definitions, notes = _definitions(base, head)
    items: list[_Series] = []
    for definition in definitions:
        sources = [s for src in definition.sources for s in _expand(src, base, head)]
        expanded = [s.file for s in sources] != [s.file for s in definition.sources]
        items += _series(definition, sources, expanded)
    return items, notes


def plot_charts(base: Snapshot, head: Snapshot) -> tuple[list[Chart], list[str]]:
    """One chart per plot series, base and head as two lines; notes name every plot that
    is not drawn (images, confusion matrices as tables, unreadable data, past the limit)."""
    items, notes = _planned(base, head)
    charts: list[Chart] = []
    skipped: list[str] = []
    for item in items:
        lower = item.source.file.lower()
        if lower.endswith(IMAGE_SUFFIXES):
            where = "" if item.title == item.source.file else f" ({item.source.file})"
            notes.append(f"{item.title}: an image{where}, not charted; see `dvc plots diff`")
        elif item.definition.template in CONFUSION:
            notes.append(_confusion_note(item, base, head))
        elif len(charts) == MAX_PLOTS:
            skipped.append(item.title)
        else:
            chart, chart_notes = _chart(item, base, head)
            notes += chart_notes
            charts += [chart] if chart else []
    if skipped:
        notes.append(f"not charted here (more than {MAX_PLOTS} plots): {', '.join(skipped)}")
    return charts, list(dict.fromkeys(notes))


def plot_names(base: Snapshot, head: Snapshot) -> list[str]:
    """The files every plot reads, as `dvc plots diff` lists its plots (for tests, docs)."""
    items, _notes = _planned(base, head)
    return sorted({os.path.normpath(i.source.file) for i in items})
