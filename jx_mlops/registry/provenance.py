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

from jx_mlops.config.project import ModelConfig
from jx_mlops.errors import JxMlopsError
from jx_mlops.evaluation.snapshot import Snapshot
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.registration import (
    artifact_facts,
    data_inputs,
    digest,
    metrics_at,
    params_at,
)
from jx_mlops.registry.tags import ModelVersion

_NOT_BY_JX = "the tag was not made by a jx-mlops release (gto register records no {what})"


def model_at_commit(snap: Snapshot, name: str) -> ModelConfig | None:
    """The model as the commit's pipeline declares artifact ``name`` (a full name, or a
    name in the snapshot's own dvc.yaml): its path, the metrics and params files DVC
    collects there; None when no dvc.yaml declares it."""
    pipeline = snap.pipeline()
    declared = next((a for a in pipeline.artifacts if a.name == name), None) or next(
        (a for a in pipeline.artifacts if a.name.rsplit(":", 1)[-1] == name), None)
    if declared is None:
        return None
    return ModelConfig(declared.name.rsplit(":", 1)[-1], declared.path,
                       metrics=pipeline.metrics, params=tuple(pipeline.params))


def _artifact(model: ModelConfig | None, snap: Snapshot,
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
    snap = Snapshot(repo, root, version.commit, "commit", prefix=directory)
    model = model or model_at_commit(snap, version.model)
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
