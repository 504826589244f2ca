"""Which metrics and params files a model has at a revision: mlops.yaml's lists when it
gives them, else what DVC collects at that revision (`dvc metrics/params show`): every
dvc.yaml's stage and top-level metrics and params, directories standing for every file
inside them, the DVC root's ``params.yaml`` whole, and vars ``${}`` used from files that
are not params files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jx_mlops.compare.values import flatten
from jx_mlops.config.project import ModelConfig
from jx_mlops.dvc.pipeline import Pipeline
from jx_mlops.evaluation.snapshot import Snapshot, list_dir


@dataclass(frozen=True)
class SideFiles:
    """The files one side declares (None: every file is expected on both sides)."""

    base: frozenset[str] | None
    head: frozenset[str] | None
    paths: tuple[str, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (side, reason)
    # Params only: the keys the pipeline tracks per file on either side (absent/None: all).
    keys: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    # Params only: values ``${}`` used from files that are not params files, per side.
    vars_values: tuple[Mapping[str, Mapping[str, Any]], Mapping[str, Mapping[str, Any]]] = \
        ({}, {})

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

    def side(self, side: str) -> frozenset[str] | None:
        return self.base if side == "base" else self.head


def expand_metrics(snap: Snapshot, paths: tuple[str, ...]) -> list[str]:
    """A declared metrics directory stands for every file inside it, recursively, whatever
    its extension (``dvc metrics show`` expands it so: ``try_expand_paths``)."""
    files: list[str] = []
    for path in paths:
        inside = list_dir(snap, path)
        files += inside or [path]
    return list(dict.fromkeys(files))


def _pipeline_problems(snap: Snapshot) -> list[str]:
    return [f"{snap.where}: {p}" for p in snap.pipeline().problems]


def _params_of(pipeline: Pipeline) -> list[str]:
    return list(pipeline.params)


def _declared(explicit: tuple[str, ...], base: Snapshot, head: Snapshot,
              pick: str) -> SideFiles:
    if explicit:
        return SideFiles(None, None, explicit)
    sides: dict[str, list[str]] = {}
    problems = []
    for side, snap in (("base", base), ("head", head)):
        pipeline = snap.pipeline()
        problems += [(side, p) for p in _pipeline_problems(snap)]
        sides[side] = expand_metrics(snap, pipeline.metrics) if pick == "metrics" \
            else _params_of(pipeline)
    paths = tuple(dict.fromkeys(sides["head"] + sides["base"]))
    if pick == "metrics":
        return SideFiles(frozenset(sides["base"]), frozenset(sides["head"]), paths,
                         tuple(problems))
    return SideFiles(frozenset(sides["base"]), frozenset(sides["head"]), paths,
                     tuple(problems), _tracked_keys(base, head),
                     (_vars_values(base), _vars_values(head)))


def _vars_values(snap: Snapshot) -> dict[str, dict[str, Any]]:
    """``{file: {dotted key: value}}`` of the vars ``${}`` used, outside params files."""
    return {file: flatten({key: value for key, value in used.items()})
            for file, used in snap.pipeline().vars_params.items()}


def _tracked_keys(base: Snapshot, head: Snapshot) -> dict[str, frozenset[str] | None]:
    merged: dict[str, frozenset[str] | None] = {}
    for snap in (base, head):
        for path, keys in snap.pipeline().params.items():
            before = merged.get(path, frozenset())
            merged[path] = None if before is None or keys is None else before | set(keys)
    return merged


def metrics_files(model: ModelConfig, base: Snapshot, head: Snapshot) -> SideFiles:
    """The model's metrics files on each side (mlops.yaml's list, else DVC's)."""
    return _declared(model.metrics, base, head, "metrics")


def params_files(model: ModelConfig, base: Snapshot, head: Snapshot) -> SideFiles:
    """The model's params files on each side (mlops.yaml's list, else DVC's)."""
    return _declared(model.params, base, head, "params")


def metrics_at(model: ModelConfig, snap: Snapshot) -> tuple[str, ...]:
    """The model's metrics files at one revision (for lineage, records)."""
    return metrics_files(model, snap, snap).paths


def params_at(model: ModelConfig, snap: Snapshot) -> tuple[str, ...]:
    """The model's params files at one revision (for lineage, retraining)."""
    return params_files(model, snap, snap).paths
