"""Registering a model version from a project commit: collect its lineage, tag it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from jx_mlops import dvc
from jx_mlops.config import ModelConfig, ProjectConfig
from jx_mlops.errors import RegistryError
from jx_mlops.evaluate import Snapshot, read_structured
from jx_mlops.git import GitRepo
from jx_mlops.registry import Bump, ModelVersion, list_versions, register_version

METADATA_SCHEMA = 1


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one model at one commit."""

    version: ModelVersion
    created: bool
    unchanged_since: ModelVersion | None = None


def _digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def collect_metadata(config: ProjectConfig, model: ModelConfig, snap: Snapshot, *,
                     source_pull: int | None = None, run_url: str | None = None
                     ) -> dict[str, Any]:
    """Lineage of ``model`` at ``snap``: artifact hash, metrics, params and lock digests."""
    lock = snap.lock()
    out = lock.output(model.artifact) if lock else None
    if out is None or not out.md5:
        raise RegistryError(
            f"{model.artifact} (model {model.name}) is not a DVC output in dvc.lock at "
            f"{snap.where}; run the pipeline (`dvc repro`) and commit dvc.lock first")
    storage = dvc.default_remote_url(snap.root)
    metrics = {}
    for path in model.metrics:
        values, _problem = read_structured(snap, path)
        metrics[path] = values or {}
    params = b"".join((snap.read(p) or b"") for p in model.params)
    return {
        "schema": METADATA_SCHEMA,
        "model": model.name,
        "source_repo": config.forge.repo,
        "source_commit": snap.sha,
        "source_pull": source_pull,
        "run_url": run_url,
        "artifact": {"path": model.artifact, "md5": out.md5, "size": out.size,
                     "storage": storage,
                     "uri": dvc.remote_object_path(storage, out.md5) if storage else None},
        "metrics": metrics,
        "params_sha256": _digest(params),
        "dvc_lock_sha256": _digest(snap.read("dvc.lock")),
    }


def register_model(config: ProjectConfig, repo: GitRepo, model: ModelConfig, commit: str, *,
                   version: str | None = None, bump: Bump = "patch",
                   source_pull: int | None = None, run_url: str | None = None,
                   skip_unchanged: bool = False) -> Registration:
    """Register ``model`` at ``commit`` (idempotent for the same commit).

    With ``skip_unchanged``, a commit whose model artifact has the same md5 as the latest
    version registers nothing: a docs-only merge does not mint a new model version.
    """
    snap = Snapshot(repo, config.root, commit, commit[:7])
    meta = collect_metadata(config, model, snap, source_pull=source_pull, run_url=run_url)
    existing = list_versions(repo, model.name)
    already = [v for v in existing if v.commit == commit]
    if already and version is None:
        return Registration(already[-1], created=False)
    if skip_unchanged and version is None and existing:
        latest = existing[-1]
        if latest.metadata.get("artifact", {}).get("md5") == meta["artifact"]["md5"]:
            return Registration(latest, created=False, unchanged_since=latest)
    registered, created = register_version(repo, model.name, commit, meta, version=version,
                                           bump=bump)
    return Registration(registered, created)
