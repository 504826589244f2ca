"""The sealed holdout: score a pull request's ONNX export on data the PR never sees.

``evaluation.holdout`` (the *base's* mlops.yaml: a PR cannot remove or redirect it) names
a CSV tracked by a ``.dvc`` file on the base branch. Its bytes are read from
``holdout_remote`` by the hash that base ``.dvc`` file records, straight into memory:
never from the local DVC cache (a PR's job could have written it), never onto disk, so no
row reaches the PR's workspace or artifacts. The PR's and the base's models are scored
from their ONNX exports (``meta.onnx`` of dvc.yaml's artifact) by onnxruntime, and the
metrics are computed by jx-mlops (``compare.modelmetrics``); only aggregates are shown.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from jx_mlops.compare.comparison import Comparison
from jx_mlops.compare.metrics import MetricDelta, compare_metrics
from jx_mlops.compare.modelmetrics import (
    HOLDOUT_NOTE_PREFIX,
    HOLDOUT_ROW_SUFFIX,
    Array,
    model_metrics,
)
from jx_mlops.compare.trusted import with_holdout
from jx_mlops.config.evaluation import HoldoutConfig
from jx_mlops.config.project import CONFIG_FILE, ModelConfig, ProjectConfig, parse_config
from jx_mlops.dvc.lockfile import parse_dvc_file
from jx_mlops.dvc.storage import read_object, read_remote_object, remote_names
from jx_mlops.errors import ConfigError, DvcError
from jx_mlops.evaluation.onnxscore import OnnxScoringError, load_onnx, predict
from jx_mlops.evaluation.snapshot import Snapshot

ONNX_NOTE = ("scored by the trusted job from the PR's ONNX export with onnxruntime; "
             "no file from the PR was unpickled")
# An export the head could not provide: the model is unscored, which fails it.
HeadExport = bytes | str


@dataclass(frozen=True)
class HoldoutTable:
    """The holdout's features (float matrix, the model's column order) and labels."""

    path: str
    x: Array
    y: Array

    @property
    def rows(self) -> int:
        return len(self.y)


def base_holdout(base: Snapshot) -> HoldoutConfig | None:
    """``evaluation.holdout`` of the base's mlops.yaml (None: no holdout, or no base)."""
    data = base.read(CONFIG_FILE)
    if data is None:
        return None
    try:
        return parse_config(data.decode("utf-8", "replace"),
                            base.root / CONFIG_FILE).evaluation.holdout
    except ConfigError:
        return None  # the base's config is the base's problem, reported elsewhere


def locate(config: ProjectConfig, base: Snapshot, holdout: HoldoutConfig) -> str:
    """The holdout's hash as the base's ``.dvc`` file records it, after checking that the
    remote is configured: ConfigError (one line, naming the key) otherwise."""
    dvc_file = f"{holdout.path}.dvc"
    data = base.read(dvc_file)
    if data is None:
        raise ConfigError(f"{CONFIG_FILE}: evaluation.holdout: {holdout.path} is not tracked "
                          f"by {dvc_file} at {base.where} (`dvc add {holdout.path}` there)")
    try:
        outs = parse_dvc_file(data.decode("utf-8", "replace"), dvc_file)
    except DvcError as exc:
        raise ConfigError(f"{CONFIG_FILE}: evaluation.holdout: {exc.message}") from None
    out = next((o for o in outs if o.path == holdout.path and o.md5), None)
    if out is None or out.md5 is None or out.md5.endswith(".dir"):
        raise ConfigError(f"{CONFIG_FILE}: evaluation.holdout: {dvc_file} at {base.where} "
                          f"does not track {holdout.path} as one file")
    names = remote_names(config.root)
    if holdout.remote not in names:
        raise ConfigError(f"{CONFIG_FILE}: evaluation.holdout_remote: no DVC remote "
                          f"{holdout.remote!r} is configured (have: "
                          f"{', '.join(names) or 'none'})")
    return out.md5


def fetch_holdout(config: ProjectConfig, holdout: HoldoutConfig, md5: str) -> HoldoutTable:
    """The holdout's table, read from its remote into memory only."""
    try:
        data = read_remote_object(config.root, md5, holdout.remote)
    except DvcError as exc:
        raise DvcError(f"{CONFIG_FILE}: evaluation.holdout: {holdout.path} cannot be read "
                       f"from remote {holdout.remote!r}: {exc.message}") from None
    return parse_table(data, holdout)


def parse_table(data: bytes, holdout: HoldoutConfig) -> HoldoutTable:
    """The CSV's label column and feature matrix; a bad cell names its column and row."""
    where = f"{holdout.path} (evaluation.holdout)"
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", "replace")))
    header = next(reader, None) or []
    rows = [row for row in reader if row]
    if holdout.target not in header:
        raise ConfigError(f"{where}: no column {holdout.target!r} (evaluation.holdout_target)")
    columns = {name: [row[i] if i < len(row) else "" for row in rows]
               for i, name in enumerate(header)}
    features = list(holdout.features) or [
        name for name in header if name != holdout.target and _numeric(columns[name])]
    missing = [f for f in features if f not in columns]
    if missing or not features or not rows:
        raise ConfigError(f"{where}: no rows or features (missing columns: "
                          f"{', '.join(missing) or 'none'}; evaluation.holdout_features)")
    matrix = np.column_stack([_floats(columns[f], f, where) for f in features])
    return HoldoutTable(holdout.path, matrix,
                        _floats(columns[holdout.target], holdout.target, where))


def _numeric(values: list[str]) -> bool:
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    return True


def _floats(values: list[str], column: str, where: str) -> Array:
    try:
        out = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        bad = next(i for i, v in enumerate(values) if not _numeric([v]))
        raise ConfigError(f"{where}: column {column!r}, row {bad + 2}: not a number "
                          f"({values[bad][:40]!r})") from None
    if not np.all(np.isfinite(out)):
        raise ConfigError(f"{where}: column {column!r} has missing or infinite values")
    return out


def score(export: bytes, table: HoldoutTable, where: str) -> dict[str, float]:
    """The metrics of the model ``export`` (ONNX bytes) on ``table``."""
    model = load_onnx(export, where)
    scores = predict(model, table.x, where)
    return model_metrics(model.task, table.y, scores)


def onnx_path(base: Snapshot, model: ModelConfig) -> str | None:
    """Where dvc.yaml (the base's) says ``model``'s ONNX export is: ``meta.onnx``."""
    artifact = next((a for a in base.pipeline().artifacts
                     if a.path == os.path.normpath(model.artifact or "-")), None)
    return artifact.onnx if artifact is not None and artifact.onnx else None


def base_export(config: ProjectConfig, base: Snapshot, model: ModelConfig) -> bytes | str:
    """The base's ONNX export of ``model`` (DVC cache, else default remote); a reason
    when there is none."""
    path = onnx_path(base, model)
    lock = base.lock()
    found = lock.containing(path) if lock is not None and path else None
    if path is None or found is None or not found[0].md5 or found[1]:
        return f"{base.label} has no ONNX export of {model.name} (dvc.yaml meta.onnx, dvc.lock)"
    try:
        return read_object(config.root, found[0].md5)
    except DvcError as exc:
        return exc.message


def _scored(export: bytes | str, table: HoldoutTable, where: str
            ) -> tuple[dict[str, float] | None, str | None]:
    if isinstance(export, str):
        return None, export
    try:
        return score(export, table, where), None
    except OnnxScoringError as exc:
        return None, exc.message


def _json_safe(metrics: dict[str, float] | None) -> dict[str, float | None] | None:
    """NaN (roc_auc of a one-class holdout) shown as absent rather than as a number."""
    if metrics is None:
        return None
    return {k: None if math.isnan(v) else v for k, v in metrics.items()}


def score_holdout(config: ProjectConfig, comparison: Comparison, base: Snapshot,
                  table: HoldoutTable, head_export: Callable[[ModelConfig], HeadExport],
                  base_label: str) -> Comparison:
    """``comparison`` with every model's holdout metrics: the head's ONNX export (from
    ``head_export``: bytes, or why there is none) against the base's, both scored here.
    A head that cannot be scored fails its model; a base that cannot be shown as new."""
    rows: dict[str, list[MetricDelta]] = {}
    problems: dict[str, list[str]] = {}
    path = f"{table.path}{HOLDOUT_ROW_SUFFIX}"
    for model in config.models:
        base_metrics, _ = _scored(base_export(config, base, model), table,
                                  f"{base_label}'s ONNX export of {model.name}")
        head_metrics, problem = _scored(head_export(model), table,
                                        f"the PR's ONNX export of {model.name}")
        if problem is not None:
            problems[model.name] = [f"holdout: not scored: {problem}"]
        rows[model.name] = compare_metrics(path, _json_safe(base_metrics),
                                           _json_safe(head_metrics), model.policy_for)
    note = (f"{HOLDOUT_NOTE_PREFIX}{table.path} ({table.rows:,} rows, never in the PR's work tree; "
            f"only aggregates are shown), {ONNX_NOTE}.")
    return with_holdout(comparison, rows, problems, note)


def without_claims(comparison: Comparison) -> Comparison:
    """An artifact's comparison without what only the trusted job may say: holdout rows
    and the holdout note (a fork could write any)."""
    models = tuple(replace(m, metrics=tuple(d for d in m.metrics
                                            if not d.path.endswith(HOLDOUT_ROW_SUFFIX)))
                   for m in comparison.models)
    notes = tuple(n for n in comparison.notes if not n.startswith(HOLDOUT_NOTE_PREFIX))
    return replace(comparison, models=models, notes=notes)


def head_export_reader(read: Callable[[ModelConfig], bytes | None],
                       where: Mapping[str, str]) -> Callable[[ModelConfig], HeadExport]:
    """Adapt ``read`` (None: absent) to ``score_holdout``'s bytes-or-reason."""
    def export(model: ModelConfig) -> HeadExport:
        data = read(model)
        return data if data is not None else \
            f"no ONNX export of {model.name} ({where.get(model.name, 'meta.onnx')})"
    return export
