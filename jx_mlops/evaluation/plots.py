"""Plots DVC declares at two revisions, drawn as charts of base and head."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import yaml

from jx_mlops import dvc
from jx_mlops.compare.charts import Chart, curve_chart, points_from_records
from jx_mlops.errors import DvcError
from jx_mlops.evaluation.snapshot import Snapshot, read_bytes
from jx_mlops.yamlio import safe_load

MAX_PLOTS = 6


def load_records(name: str, data: bytes) -> list[dict[str, Any]]:
    """Plot data as a list of records: JSON/YAML lists (or one list under a key), CSV/TSV."""
    text = data.decode("utf-8", errors="replace")
    lower = name.lower()
    if lower.endswith((".csv", ".tsv")):
        dialect = "excel-tab" if lower.endswith(".tsv") else "excel"
        return list(csv.DictReader(io.StringIO(text), dialect=dialect))
    parsed = json.loads(text) if lower.endswith(".json") else safe_load(text)
    if isinstance(parsed, dict):
        parsed = next((v for v in parsed.values() if isinstance(v, list)), [])
    return [r for r in parsed if isinstance(r, dict)] if isinstance(parsed, list) else []


def _default_y(records: list[dict[str, Any]], x: str | None) -> str | None:
    fields = [k for k in (records[0] if records else {}) if k != x]
    return fields[-1] if fields else None


def _points(snap: Snapshot, source: dvc.PlotSource) -> tuple[list[tuple[float, float]], str]:
    data, reason = read_bytes(snap, source.file)
    if data is None:
        return [], reason or ""
    try:
        records = load_records(source.file, data)
    except (ValueError, yaml.YAMLError) as exc:
        return [], f"{source.file} at {snap.where}: {exc}"
    y = source.y or _default_y(records, source.x)
    return (points_from_records(records, source.x, y) if y else []), ""


def plot_charts(base: Snapshot, head: Snapshot) -> tuple[list[Chart], list[str]]:
    """One chart per declared plot field, base and head as two lines."""
    text = head.read("dvc.yaml") or base.read("dvc.yaml")
    if text is None:
        return [], []
    try:
        definitions = dvc.parse_plot_definitions(text.decode("utf-8", "replace"))
    except DvcError as exc:
        return [], [exc.message]
    charts: list[Chart] = []
    notes: list[str] = []
    for definition in definitions:
        for source in definition.sources:
            if len(charts) == MAX_PLOTS:
                notes.append(f"plots after the first {MAX_PLOTS} are in the HTML report only")
                return charts, notes
            base_points, base_note = _points(base, source)
            head_points, head_note = _points(head, source)
            notes += [n for n in (base_note, head_note) if n]
            title = definition.title if len(definition.sources) == 1 else \
                f"{definition.title}: {source.y or source.file}"
            chart = curve_chart(title, definition.x_label, source.y or definition.y_label,
                                [(f"base {base.label}", base_points),
                                 (f"head {head.label}", head_points)])
            if chart is not None:
                charts.append(chart)
    return charts, notes
