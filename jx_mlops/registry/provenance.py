"""The lineage of a version made without jx-mlops (by ``gto register``), from its commit.

A jx-mlops registration carries its lineage in the tag. A GTO-made tag carries only GTO's
sentence, so the facts are read from the commit itself: the artifact's path from
mlops.yaml or dvc.yaml ``artifacts:`` at that commit, its hash from dvc.lock (or the git
blob), params and metrics files, digests of params and dvc.lock. A fact that cannot be
known is listed in ``unknown`` with the reason, never left as a silent null.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from jx_mlops.config.project import ModelConfig
from jx_mlops.errors import JxMlopsError
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.registration import (
    ProjectSnapshot,
    artifact_facts,
    data_inputs,
    digest,
    metrics_at,
    params_at,
)
from jx_mlops.registry.tags import ModelVersion
from jx_mlops.yamlio import safe_load

_NOT_BY_JX = "the tag was not made by a jx-mlops release (gto register records no {what})"


def _dvc_yaml(snap: ProjectSnapshot) -> dict[str, Any]:
    try:
        data = safe_load(snap.read("dvc.yaml") or b"")
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _metrics_files(data: dict[str, Any]) -> list[str]:
    """Metrics files dvc.yaml names: top-level ``metrics:`` and each stage's ``metrics:``
    (a path, or a one-key mapping of path to options)."""
    entries = list(data.get("metrics") or [])
    for stage in (data.get("stages") or {}).values():
        if isinstance(stage, dict):
            entries += list(stage.get("metrics") or [])
    files = []
    for entry in entries:
        if isinstance(entry, str):
            files.append(entry)
        elif isinstance(entry, dict):
            files += [str(key) for key in entry]
    return files


def model_at_commit(snap: ProjectSnapshot, name: str) -> ModelConfig | None:
    """The model as the commit's dvc.yaml declares it (path; metrics and params of the
    pipeline), or None when it declares no such artifact."""
    data = _dvc_yaml(snap)
    declared = (data.get("artifacts") or {}).get(name)
    if not isinstance(declared, dict) or not isinstance(declared.get("path"), str):
        return None
    metrics = tuple(dict.fromkeys(_metrics_files(data)))
    params = ("params.yaml",) if snap.read("params.yaml") is not None else ()
    return ModelConfig(name, declared["path"], metrics=metrics, params=params)


def _artifact(model: ModelConfig | None, snap: ProjectSnapshot,
              unknown: dict[str, str]) -> dict[str, Any] | None:
    if model is None:
        unknown["artifact"] = (f"no artifact path: the model is in neither mlops.yaml nor "
                               f"dvc.yaml artifacts at {snap.where}")
        return None
    try:
        return artifact_facts(model, snap, snap.lock())
    except JxMlopsError as exc:
        unknown["artifact"] = exc.message
        return None


def commit_metadata(repo: GitRepo, root: Path, version: ModelVersion, *,
                    model: ModelConfig | None = None,
                    directory: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """(metadata as a jx-mlops tag would carry it, {fact: why it is unknown})."""
    snap = ProjectSnapshot(repo, root, version.commit, "commit", prefix=directory)
    model = model or model_at_commit(snap, version.name)
    unknown: dict[str, str] = {
        "source_pull": _NOT_BY_JX.format(what="pull request"),
        "run_url": _NOT_BY_JX.format(what="CI run"),
    }
    artifact = _artifact(model, snap, unknown)
    lock_bytes = snap.read("dvc.lock")
    if lock_bytes is None:
        unknown["dvc_lock_sha256"] = f"no dvc.lock at {snap.where}"
    metrics = metrics_at(snap, model) if model else {}
    if not metrics:
        unknown["metrics"] = f"no readable metrics file declared for it at {snap.where}"
    params = params_at(snap, model) if model else {}
    if not params:
        unknown["params"] = f"no params file at {snap.where}"
    raw_params = b"".join(snap.read(p) or b"" for p in (model.params if model else ()))
    try:
        lock = snap.lock()
    except JxMlopsError:
        lock = None
    source = repo.remote_url("origin")
    if source is None:
        unknown["source_repo"] = "the repository has no origin remote"
    return {
        "model": version.name, "name": version.model, "source_repo": source,
        "source_commit": version.commit, "project_path": directory,
        "source_pull": None, "run_url": None, "artifact": artifact,
        "metrics": metrics, "params": params,
        "data": data_inputs(snap, lock) if lock else [],
        "params_sha256": digest(raw_params) if raw_params else None,
        "dvc_lock_sha256": digest(lock_bytes),
    }, unknown
