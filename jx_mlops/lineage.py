"""What changed in the pipeline between two snapshots: data inputs, stages, plots.

All of it is read from DVC's metadata at each revision (.dvc files, dvc.lock, dvc.yaml)
and from small git-tracked plot files; no data is downloaded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from typing import TYPE_CHECKING, Any

import yaml

from jx_mlops import dvc
from jx_mlops.compare.charts import Chart, curve_chart, points_from_records
from jx_mlops.compare.comparison import StageLineage
from jx_mlops.compare.datadiff import DataChange, compare_data
from jx_mlops.errors import DvcError
from jx_mlops.yamlio import json_loads, safe_load

if TYPE_CHECKING:
    from jx_mlops.evaluate import Snapshot

MAX_PLOTS = 6


def data_inputs(snap: Snapshot) -> list[dvc.OutputInfo]:
    """Everything `dvc add` / `dvc import` tracks at ``snap`` (the outs of its .dvc files)."""
    outputs: list[dvc.OutputInfo] = []
    for path in snap.repo.list_files(snap.sha, "*.dvc"):
        data = snap.read(path)
        if data is not None:
            outputs += dvc.parse_dvc_file(data.decode("utf-8", "replace"), path)
    return outputs


def pipeline_outputs(snap: Snapshot) -> list[dvc.OutputInfo]:
    """Cached outputs of the pipeline's stages in dvc.lock (models, prepared data...);
    outputs kept in git (``cache: false``: metrics, plots) are git's diff, not DVC's."""
    try:
        lock = snap.lock()
        spec = snap.read("dvc.yaml")
        in_git = dvc.uncached_outputs(spec.decode("utf-8", "replace")) if spec else set()
    except DvcError:
        return []
    outputs = []
    for stage in lock.stages if lock else ():
        outputs += [dvc.OutputInfo(o.path, o.md5, o.size, o.nfiles, f"stage {stage.name}")
                    for o in stage.outs if os.path.normpath(o.path) not in in_git]
    return outputs


def compare_inputs(base: Snapshot, head: Snapshot) -> list[DataChange]:
    """Tracked data (.dvc files) and stage outputs (dvc.lock), compared by hash."""
    return compare_data(data_inputs(base) + pipeline_outputs(base),
                        data_inputs(head) + pipeline_outputs(head))


def _fingerprint(stage: dvc.StageLock) -> str:
    """A short hash of what a stage consumed and produced, to spot which stages changed."""
    payload = {"cmd": stage.cmd, "params": stage.params,
               "deps": sorted((d.path, d.md5) for d in stage.deps),
               "outs": sorted((o.path, o.md5) for o in stage.outs)}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return digest[:12]


def _stages(snap: Snapshot) -> dict[str, str]:
    try:
        lock = snap.lock()
    except DvcError:
        return {}
    return {s.name: _fingerprint(s) for s in lock.stages} if lock else {}


def compare_stages(base: Snapshot, head: Snapshot) -> list[StageLineage]:
    before, after = _stages(base), _stages(head)
    names = list(after) + [n for n in before if n not in after]
    return [StageLineage(n, before.get(n), after.get(n)) for n in names]


def load_records(name: str, data: bytes) -> list[dict[str, Any]]:
    """Plot data as a list of records: JSON/YAML lists (or one list under a key), CSV/TSV."""
    text = data.decode("utf-8", errors="replace")
    lower = name.lower()
    if lower.endswith((".csv", ".tsv")):
        dialect = "excel-tab" if lower.endswith(".tsv") else "excel"
        return list(csv.DictReader(io.StringIO(text), dialect=dialect))
    parsed = json_loads(text) if lower.endswith(".json") else safe_load(text)
    if isinstance(parsed, dict):
        parsed = next((v for v in parsed.values() if isinstance(v, list)), [])
    return [r for r in parsed if isinstance(r, dict)] if isinstance(parsed, list) else []


def _default_y(records: list[dict[str, Any]], x: str | None) -> str | None:
    fields = [k for k in (records[0] if records else {}) if k != x]
    return fields[-1] if fields else None


def _points(snap: Snapshot, source: dvc.PlotSource) -> tuple[list[tuple[float, float]], str]:
    from jx_mlops.evaluate import read_bytes

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
