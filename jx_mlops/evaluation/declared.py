"""Which metrics and params files a model has at a revision: mlops.yaml's lists when it
gives them, else what dvc.yaml declares at that revision, as `dvc metrics/params diff` read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jx_mlops.config.project import ModelConfig
from jx_mlops.dvc.pipeline import DEFAULT_PARAMS, DvcSpec
from jx_mlops.errors import DvcError
from jx_mlops.evaluation.snapshot import Snapshot, list_dir

METRIC_SUFFIXES = (".json", ".yaml", ".yml", ".toml")


@dataclass(frozen=True)
class SideFiles:
    """The files one side declares (None: every file is expected on both sides)."""

    base: frozenset[str] | None
    head: frozenset[str] | None
    paths: tuple[str, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (side, reason)
    # Params only: the keys dvc.yaml tracks per file on either side (absent/None: all).
    keys: Mapping[str, frozenset[str] | None] = field(default_factory=dict)

    def tracked(self, path: str, values: dict[str, Any] | None) -> dict[str, Any] | None:
        """``values`` limited to the keys the pipeline tracks (``train`` covers
        ``train.lr``), as `dvc params diff` shows them."""
        keys = self.keys.get(path)
        if values is None or keys is None:
            return values
        return {k: v for k, v in values.items()
                if k in keys or any(k.startswith(f"{key}.") for key in keys)}

    def wanted(self, side: str, path: str) -> bool:
        declared = self.base if side == "base" else self.head
        return declared is None or path in declared


def _spec(snap: Snapshot) -> tuple[DvcSpec, str | None]:
    try:
        return snap.spec(), None
    except DvcError as exc:
        return DvcSpec(), exc.message


def expand_metrics(snap: Snapshot, paths: tuple[str, ...]) -> list[str]:
    """A declared metrics directory stands for the metrics files inside it."""
    files: list[str] = []
    for path in paths:
        if path.lower().endswith(METRIC_SUFFIXES):
            files.append(path)
            continue
        inside = [f for f in list_dir(snap, path) if f.lower().endswith(METRIC_SUFFIXES)]
        files += inside or [path]
    return files


def _declared(explicit: tuple[str, ...], base: Snapshot, head: Snapshot,
              pick: str) -> SideFiles:
    if explicit:
        return SideFiles(None, None, explicit)
    sides: dict[str, list[str]] = {}
    problems = []
    for side, snap in (("base", base), ("head", head)):
        spec, problem = _spec(snap)
        if problem:
            problems.append((side, problem))
        if pick == "metrics":
            sides[side] = expand_metrics(snap, spec.metrics)
        else:
            has_spec = snap.read("dvc.yaml") is not None
            # Without a dvc.yaml at all, params.yaml is DVC's default params file.
            sides[side] = list(spec.params) if has_spec else [DEFAULT_PARAMS]
    paths = tuple(dict.fromkeys(sides["head"] + sides["base"]))
    return SideFiles(frozenset(sides["base"]), frozenset(sides["head"]), paths,
                     tuple(problems), _tracked_keys(base, head) if pick == "params" else {})


def _tracked_keys(base: Snapshot, head: Snapshot) -> dict[str, frozenset[str] | None]:
    merged: dict[str, frozenset[str] | None] = {}
    for snap in (base, head):
        for path, keys in _spec(snap)[0].param_keys.items():
            before = merged.get(path, frozenset())
            merged[path] = None if before is None or keys is None else before | keys
    return merged


def metrics_files(model: ModelConfig, base: Snapshot, head: Snapshot) -> SideFiles:
    """The model's metrics files on each side (mlops.yaml's list, else dvc.yaml's)."""
    return _declared(model.metrics, base, head, "metrics")


def params_files(model: ModelConfig, base: Snapshot, head: Snapshot) -> SideFiles:
    """The model's params files on each side (mlops.yaml's list, else dvc.yaml's)."""
    return _declared(model.params, base, head, "params")


def metrics_at(model: ModelConfig, snap: Snapshot) -> tuple[str, ...]:
    """The model's metrics files at one revision (for lineage, records)."""
    return metrics_files(model, snap, snap).paths


def params_at(model: ModelConfig, snap: Snapshot) -> tuple[str, ...]:
    """The model's params files at one revision (for lineage, retraining)."""
    return params_files(model, snap, snap).paths
