"""Registering a model version from a project commit: collect its lineage, tag it.

The lineage travels in the tag message as JSON (see ``collect_metadata``), so anything
downstream (promotion PR bodies, deployment records, model cards, ``lineage``, ``audit``)
reads it from the tag without checking the project out.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jx_mlops import console, dvc
from jx_mlops.config import ModelConfig, ProjectConfig
from jx_mlops.errors import RegistryError, UsageError
from jx_mlops.evaluate import Snapshot, read_structured
from jx_mlops.git import GitRepo
from jx_mlops.registry import (
    TAG,
    Bump,
    ModelVersion,
    full_name,
    get_version,
    list_versions,
    next_version,
    register_version,
)

METADATA_SCHEMA = 2
_MAX_PARAMS_JSON = 32_000  # params values larger than this keep only their digest


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one model at one commit."""

    version: ModelVersion
    created: bool
    unchanged_since: ModelVersion | None = None


@dataclass(frozen=True)
class _ProjectSnapshot(Snapshot):
    """A snapshot whose paths are relative to a project in a sub-directory (a monorepo)."""

    prefix: str = ""

    def read(self, path: str) -> bytes | None:
        if self.sha is None or not self.prefix:
            return super().read(path)
        return self.repo.read_blob(self.sha, f"{self.prefix}/{path}")


def project_directory(config: ProjectConfig, repo: GitRepo) -> str:
    """Where the project lives inside its repository ('' at the top)."""
    relative = os.path.relpath(config.root.resolve(), Path(repo.path).resolve())
    return "" if relative == "." else relative.replace(os.sep, "/")


def model_name(config: ProjectConfig, repo: GitRepo, model: str) -> str:
    """The registry (GTO) name of ``model``: ``DIR:MODEL`` for a project in DIR."""
    return full_name(model, project_directory(config, repo))


def _snapshot(config: ProjectConfig, repo: GitRepo, commit: str) -> Snapshot:
    return _ProjectSnapshot(repo, config.root, commit, commit[:7],
                            prefix=project_directory(config, repo))


def _digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _data_inputs(snap: Snapshot, lock: dvc.DvcLock) -> list[dict[str, Any]]:
    """DVC-tracked inputs of the pipeline (deps with a .dvc file): the data lineage."""
    produced = {os.path.normpath(o.path) for s in lock.stages for o in s.outs}
    seen: dict[str, dict[str, Any]] = {}
    for stage in lock.stages:
        for dep in stage.deps:
            path = os.path.normpath(dep.path)
            if path in produced or path in seen or not dep.md5:
                continue
            if snap.read(f"{path}.dvc") is not None:
                seen[path] = {"path": path, "md5": dep.md5, "size": dep.size,
                              "nfiles": dep.nfiles}
    return sorted(seen.values(), key=lambda d: str(d["path"]))


def _params(snap: Snapshot, model: ModelConfig) -> dict[str, Any]:
    params = {}
    for path in model.params:
        values, _problem = read_structured(snap, path)
        params[path] = values or {}
    if len(json.dumps(params, default=str)) > _MAX_PARAMS_JSON:
        return {}
    safe: dict[str, Any] = json.loads(json.dumps(params, default=str))  # JSON-safe values
    return safe


def collect_metadata(config: ProjectConfig, model: ModelConfig, snap: Snapshot, *,
                     source_pull: int | None = None, run_url: str | None = None,
                     directory: str = "") -> dict[str, Any]:
    """Lineage of ``model`` at ``snap``: artifact hash and storage, metrics, params, data
    inputs, and digests of the params files and dvc.lock."""
    lock = snap.lock()
    out = lock.output(model.artifact) if lock else None
    if lock is None or out is None or not out.md5:
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
        "name": full_name(model.name, directory),
        "source_repo": config.forge.repo,
        "source_commit": snap.sha,
        "project_path": directory,
        "source_pull": source_pull,
        "run_url": run_url,
        "artifact": {"path": model.artifact, "md5": out.md5, "size": out.size,
                     "storage": storage,
                     "uri": dvc.remote_object_path(storage, out.md5) if storage else None},
        "metrics": json.loads(json.dumps(metrics, default=str)),
        "params": _params(snap, model),
        "data": _data_inputs(snap, lock),
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
    name = model_name(config, repo, model.name)
    existing = list_versions(repo, name)
    already = [v for v in existing if v.commit == commit]
    if already and version is None:
        return Registration(publish_serving_copy(config, already[-1]), created=False)
    snap = _snapshot(config, repo, commit)
    meta = collect_metadata(config, model, snap, source_pull=source_pull, run_url=run_url,
                            directory=project_directory(config, repo))
    if skip_unchanged and version is None and existing:
        latest = existing[-1]
        if latest.metadata.get("artifact", {}).get("md5") == meta["artifact"]["md5"]:
            return Registration(latest, created=False, unchanged_since=latest)
    version = version or next_version(repo, name, bump)
    artifact = meta["artifact"]
    if artifact.get("storage"):
        artifact["serving_uri"] = (f"{str(artifact['storage']).rstrip('/')}/"
                                   f"{dvc.serving_copy_path(name, version, model.artifact)}")
    registered, created = register_version(repo, name, commit, meta, version=version)
    return Registration(publish_serving_copy(config, registered), created)


def publish_serving_copy(config: ProjectConfig, version: ModelVersion) -> ModelVersion:
    """Make sure the named copy the version's metadata promises is in the DVC remote.

    Idempotent, so a release that stopped after tagging finishes the job when re-run.
    """
    artifact = version.metadata.get("artifact") or {}
    md5, path = artifact.get("md5"), artifact.get("path")
    if artifact.get("serving_uri") and md5 and path:
        with console.step(f"Publishing {path} of {version.tag} for serving"):
            dvc.publish_copy(config.root, str(md5),
                             dvc.serving_copy_path(version.model, version.version, str(path)))
    return version


def parse_reference(reference: str) -> tuple[str, str]:
    """``MODEL@vX.Y.Z`` (or ``DIR:MODEL@...``, or ``MODEL@latest``) as (model, version)."""
    name, sep, version = reference.rpartition("@")
    probe = f"{name.replace(':', '=')}@{'v0.0.0' if version == 'latest' else version}"
    if not sep or not TAG.match(probe):
        raise UsageError(f"{reference!r}: expected MODEL@vX.Y.Z (or MODEL@latest)")
    return name, version


def resolve_version(config: ProjectConfig, repo: GitRepo, model: str, version: str, *,
                    fetch: Any = None) -> ModelVersion:
    """A registered version of the project's ``model``; when the local clone does not know
    it, ``fetch()`` (fetching tags from the forge) is called once and the lookup retried."""
    name = model if ":" in model else model_name(config, repo, model)
    try:
        return get_version(repo, name, version)
    except RegistryError:
        if fetch is None:
            raise
    fetch()
    return get_version(repo, name, version)
