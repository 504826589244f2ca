"""Registering a model version from a project commit: collect its lineage, tag it.

The lineage travels in the tag message as JSON (see ``collect_metadata``), so anything
downstream (promotion PR bodies, deployment records, model cards, ``lineage``, ``audit``)
reads it from the tag without checking the project out.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jx_mlops import console
from jx_mlops.config.project import (
    CONFIG_FILE,
    ModelConfig,
    ProjectConfig,
    find_project_root,
    load_config,
)
from jx_mlops.dvc.lockfile import DvcLock
from jx_mlops.dvc.serving import PublishedCopy, publish_copy, serving_copy_path
from jx_mlops.dvc.storage import default_remote_url, remote_object_path
from jx_mlops.errors import ConfigError, DvcError, RegistryError, UsageError
from jx_mlops.evaluation.declared import metrics_at as declared_metrics
from jx_mlops.evaluation.declared import params_at as declared_params
from jx_mlops.evaluation.snapshot import Snapshot, read_structured
from jx_mlops.forge.base import ForgeConfig
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.declared import declared_artifacts, dvc_root_of
from jx_mlops.registry.signatures import project_signer, sign_copy
from jx_mlops.registry.tags import (
    TAG,
    Bump,
    ModelVersion,
    check_model_name,
    full_name,
    get_version,
    list_versions,
    plan_registration,
    register_version,
)
from jx_mlops.signing import Signer

METADATA_SCHEMA = 2
# Pushes a version to mlops.yaml's registry.oci while it is registered, from (name,
# version, metadata so far, the hash-checked local copy, the signer, a work directory);
# returns the tag's ``artifact.oci``. Given by the caller (it builds the ML-BOM).
OciPublisher = Callable[[str, str, dict[str, Any], Path, "Signer | None", Path],
                        dict[str, Any]]
_MAX_PARAMS_JSON = 32_000  # params values larger than this keep only their digest


@dataclass(frozen=True)
class Registration:
    """The outcome of registering one model at one commit."""

    version: ModelVersion
    created: bool
    unchanged_since: ModelVersion | None = None


def project_directory(config: ProjectConfig, repo: GitRepo) -> str:
    """Where the project lives inside its repository ('' at the top)."""
    relative = os.path.relpath(config.root.resolve(), Path(repo.path).resolve())
    return "" if relative == "." else relative.replace(os.sep, "/")


def model_name(config: ProjectConfig, repo: GitRepo, model: str) -> str:
    """The registry (GTO) name of ``model``: mlops.yaml's ``registry_name``, else
    ``DIR:MODEL`` for a project in DIR."""
    found = next((m for m in config.models if m.name == model), None)
    if found is not None and found.registry_name:
        return found.registry_name
    return full_name(model, project_directory(config, repo))


def _snapshot(config: ProjectConfig, repo: GitRepo, commit: str) -> Snapshot:
    return Snapshot(repo, config.root, commit, commit[:7],
                    prefix=project_directory(config, repo))


def digest(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def data_inputs(snap: Snapshot, lock: DvcLock) -> list[dict[str, Any]]:
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


def params_at(snap: Snapshot, model: ModelConfig) -> dict[str, Any]:
    params = {}
    for path in declared_params(model, snap):
        values, _problem = read_structured(snap, path)
        if values:
            params[path] = values
    if len(json.dumps(params, default=str)) > _MAX_PARAMS_JSON:
        return {}
    safe: dict[str, Any] = json.loads(json.dumps(params, default=str))  # JSON-safe values
    return safe


def artifact_facts(model: ModelConfig, snap: Snapshot,
                    lock: DvcLock | None) -> dict[str, Any]:
    """Where the model's artifact is and its hash: a DVC output (in the DVC remote), a
    git-tracked file (md5 and size of the blob), or a remote URI (as it is)."""
    path = model.artifact or _declared_artifact(model, snap)
    if "://" in path:
        return {"path": path, "md5": None, "size": None, "storage": None, "uri": path}
    out = lock.output(path) if lock else None
    if out is not None and out.md5:
        storage = default_remote_url(snap.root)
        return {"path": path, "md5": out.md5, "size": out.size, "storage": storage,
                "uri": remote_object_path(storage, out.md5) if storage else None}
    blob = snap.read(path)
    if blob is not None:
        return {"path": path, "md5": hashlib.md5(blob, usedforsecurity=False).hexdigest(),
                "size": len(blob), "storage": "git", "uri": None}
    raise RegistryError(
        f"{path} (model {model.name}) is neither a DVC output in dvc.lock nor a file "
        f"tracked by git at {snap.where}; run the pipeline (`dvc repro`) and commit "
        "dvc.lock, commit the file, or give a remote URI")


def _declared_artifact(model: ModelConfig, snap: Snapshot) -> str:
    """The path dvc.yaml's ``artifacts:`` gives a model that mlops.yaml names without one."""
    pipeline = snap.pipeline()
    wanted = (model.registry_name, full_name(model.name, snap.prefix), model.name)
    for artifact in pipeline.artifacts:
        if artifact.name in wanted:
            return artifact.path
    problems = "; ".join(pipeline.problems)
    raise RegistryError(f"model {model.name} has no artifact: give mlops.yaml "
                        f"models.{model.name}.artifact, or declare it in dvc.yaml artifacts:"
                        + (f" ({problems})" if problems else ""))


def metrics_at(snap: Snapshot, model: ModelConfig) -> dict[str, Any]:
    """The metrics values, flattened as the report reads them; an unreadable file is
    left out (never an empty object that looks like a file without metrics)."""
    metrics = {}
    for path in declared_metrics(model, snap):
        values, _problem = read_structured(snap, path)
        if values:
            metrics[path] = values
    safe: dict[str, Any] = json.loads(json.dumps(metrics, default=str))
    return safe


def collect_metadata(config: ProjectConfig, model: ModelConfig, snap: Snapshot, *,
                     source_pull: int | None = None, run_url: str | None = None,
                     directory: str = "") -> dict[str, Any]:
    """Lineage of ``model`` at ``snap``: artifact hash and storage, metrics, params, data
    inputs, and digests of the params files and dvc.lock."""
    lock = snap.lock()
    artifact = artifact_facts(model, snap, lock)
    if artifact["storage"] == "git":
        artifact["storage"] = None
    params = b"".join((snap.read(p) or b"") for p in declared_params(model, snap))
    return {
        "schema": METADATA_SCHEMA,
        "model": model.name,
        "name": model.registry_name or full_name(model.name, directory),
        "source_repo": config.forge.repo,
        "source_commit": snap.sha,
        "project_path": directory,
        "source_pull": source_pull,
        "run_url": run_url,
        "artifact": artifact,
        "metrics": metrics_at(snap, model),
        "params": params_at(snap, model),
        "data": data_inputs(snap, lock) if lock else [],
        "params_sha256": digest(params),
        "dvc_lock_sha256": digest(snap.read("dvc.lock")),
    }


def register_model(config: ProjectConfig, repo: GitRepo, model: ModelConfig, commit: str, *,
                   version: str | None = None, bump: Bump = "patch",
                   source_pull: int | None = None, run_url: str | None = None,
                   skip_unchanged: bool = False, publish: bool = True,
                   unsigned: str | None = None, oci: OciPublisher | None = None
                   ) -> Registration:
    """Register ``model`` at ``commit`` (idempotent for the same commit).

    The serving copy is published BEFORE the tag is made: a publish that fails leaves no
    tag and nothing else changed, and a retry starts over. With ``skip_unchanged``, a
    commit whose model artifact has the same md5 as the latest version registers
    nothing: a docs-only merge does not mint a new model version. Where mlops.yaml
    configures signing, a version that would not be signed (no DVC remote to publish the
    copy to, ``publish`` off, no key here) is refused unless ``unsigned`` says why; the
    reason is recorded in the tag. With ``oci``, the published copy is also pushed as an
    OCI artifact before the tag is made, and the tag records its digest.
    """
    name = model.registry_name or model_name(config, repo, model.name)
    existing = list_versions(repo, name)
    already = [v for v in existing if v.commit == commit]
    if already and version is None:
        return Registration(publish_serving_copy(config, already[-1]) if publish
                            else already[-1], created=False)
    if already and all(v.version != version for v in already):
        raise RegistryError(f"--version {version}: commit {commit[:12]} is already "
                            f"registered as {already[-1].tag}; a commit gets one version "
                            "(register a new commit, or use that version)")
    snap = _snapshot(config, repo, commit)
    meta = collect_metadata(config, model, snap, source_pull=source_pull, run_url=run_url,
                            directory=project_directory(config, repo))
    if skip_unchanged and version is None and existing:
        latest = existing[-1]
        md5 = meta["artifact"]["md5"]
        if md5 and latest.metadata.get("artifact", {}).get("md5") == md5:
            return Registration(latest, created=False, unchanged_since=latest)
    version, known = plan_registration(repo, name, commit, version=version, bump=bump)
    if known is not None:
        return Registration(known, created=False)
    artifact = meta["artifact"]
    publishing = bool(artifact.get("storage") and publish)
    # A wrong or missing key stops before anything is published.
    signer = project_signer(config) if publishing and unsigned is None else None
    if unsigned is None and config.signing is not None and signer is None:
        raise RegistryError(f"{name}@{version} not registered: mlops.yaml configures signing "
                            f"but {_why_unsigned(artifact, publish)}, so it would be "
                            "unsigned", hint="fix that, or register with --unsigned REASON "
                                             "(recorded in the version's tag)")
    if unsigned is not None:
        meta["unsigned"] = {"reason": unsigned[:500]}
    if oci is not None and not publishing:
        console.warn(f"{name}@{version} is not pushed to mlops.yaml registry.oci: only a "
                     "serving copy in the DVC remote is (--no-publish, a file tracked by "
                     "git, or no default DVC remote)")
    if publishing:
        _publish_and_sign(config, name, version, meta, signer, oci)
    registered, created = register_version(repo, name, commit, meta, version=version)
    return Registration(registered, created)


def _publish_and_sign(config: ProjectConfig, name: str, version: str, meta: dict[str, Any],
                      signer: Signer | None, oci: OciPublisher | None = None) -> None:
    """Write the serving copy (hash-checked on the way) and sign the verified local bytes,
    never what the remote holds now; the metadata gains the copy's URI, sha256, signature
    (and, with ``oci``, the OCI artifact those same bytes were pushed as)."""
    artifact = meta["artifact"]
    artifact["serving_uri"] = (f"{str(artifact['storage']).rstrip('/')}/"
                               f"{serving_copy_path(name, version, str(artifact['path']))}")
    with tempfile.TemporaryDirectory(prefix="jx-mlops-publish-") as tmp:
        published = _publish(config, name, version, artifact, Path(tmp))
        if published.sha256 is not None:
            artifact["sha256"] = published.sha256
        if signer is not None:
            meta["signature"] = sign_copy(name, version, artifact, signer, published.local)
        if oci is not None:
            artifact["oci"] = oci(name, version, meta, published.local, signer, Path(tmp))


def _why_unsigned(artifact: dict[str, Any], publish: bool) -> str:
    if not publish:
        return "--no-publish writes no serving copy to sign"
    if "://" in str(artifact["path"]):
        return f"{artifact['path']} is a remote URI, which jx-mlops does not copy or sign"
    if not artifact.get("storage"):
        return (f"{artifact['path']} has no copy in a DVC remote to sign (a file tracked by "
                "git, or no default DVC remote)")
    return "this machine cannot sign (keyless signing happens in the release workflow)"


def register(config: ProjectConfig, model: str, *, ref: str = "HEAD", path: str | None = None,
             version: str | None = None, bump: Bump = "patch", run_url: str | None = None,
             publish: bool = True, push: bool = False, unsigned: str | None = None,
             oci: OciPublisher | None = None) -> Registration:
    """`jx-mlops register MODEL`: register the commit ``ref`` names (see
    ``register_model``); with ``push``, push the version's tag to origin, with the
    forge's git credentials; ``unsigned``: why this version may go unsigned."""
    repo, _prefix = GitRepo.enclosing(config.root)
    try:
        found = model_to_register(config, repo, model, path)
        commit = repo.rev_parse(ref)
        before = list_versions(repo, model_name(config, repo, found.name))
        registration = register_model(config, repo, found, commit, version=version,
                                      bump=bump, run_url=run_url, publish=publish,
                                      unsigned=unsigned, oci=oci)
        if registration.created and before:
            _warn_if_older(repo, registration.version, before[-1])
        if push:
            repo.push("origin", [f"refs/tags/{registration.version.tag}"],
                      env=open_forge(config.forge).git_env())
        return registration
    finally:
        repo.close()


def _warn_if_older(repo: GitRepo, new: ModelVersion, latest: ModelVersion) -> None:
    """A new version on a commit older than the latest version's: the numbers no longer
    follow the history (`register --ref HEAD~1` after HEAD was registered)."""
    if new.commit != latest.commit and repo.is_ancestor(new.commit, latest.commit):
        console.warn(f"{new.tag} is on {new.commit[:12]}, older than {latest.tag} "
                     f"({latest.commit[:12]}): its higher number does not mean a newer "
                     f"model; `gto deregister {new.model} {new.version}` undoes it if that "
                     "was a mistake")


def _publish(config: ProjectConfig, model: str, version: str, artifact: dict[str, Any],
             workdir: Path) -> PublishedCopy:
    """Write the version's named copy into the DVC remote from its object, checked against
    the artifact's md5 (and sha256, once recorded); RegistryError naming the remote or the
    mismatch when it cannot be (nothing is registered then)."""
    path, md5 = str(artifact["path"]), str(artifact["md5"])
    sha256 = artifact.get("sha256") if not md5.endswith(".dir") else None
    with console.step(f"Publishing {path} of {model}@{version} for serving"):
        try:
            return publish_copy(config.root, md5, serving_copy_path(model, version, path),
                                workdir, sha256=str(sha256) if sha256 else None)
        except DvcError as exc:
            if not exc.message.startswith("cannot publish "):  # bytes that do not match
                raise RegistryError(f"{model}@{version} not registered: {exc.message}"
                                    ) from None
            # "cannot publish PATH to the DVC remote: WHY": keep the why.
            why = exc.message.split(": ", 1)[-1]
            raise RegistryError(
                f"{model}@{version} not registered: cannot write its serving copy to DVC "
                f"remote {artifact['storage']} ({why})",
                hint="fix the remote (or its credentials) and re-run, or register with "
                     "--no-publish") from None


def publish_serving_copy(config: ProjectConfig, version: ModelVersion) -> ModelVersion:
    """Make sure the named copy the version's metadata promises is in the DVC remote, and
    is the version's bytes (its md5, and its sha256 when the tag records one).

    Idempotent, so a release re-run after a lost copy finishes the job.
    """
    artifact = version.metadata.get("artifact") or {}
    md5, path = artifact.get("md5"), artifact.get("path")
    if artifact.get("serving_uri") and md5 and path:
        with tempfile.TemporaryDirectory(prefix="jx-mlops-publish-") as tmp:
            _publish(config, version.model, version.version, artifact, Path(tmp))
    return version


def model_to_register(config: ProjectConfig, repo: GitRepo, name: str,
                      path: str | None = None) -> ModelConfig:
    """The model called ``name``: from mlops.yaml, else declared by a dvc.yaml
    ``artifacts:`` or GTO's artifacts.yaml (by its full name, as ``gto register`` takes
    it), else (with ``path``, a file in the project or a remote URI) a model known only by
    its tags. ``path`` overrides where the artifact is."""
    for model in config.models:
        if name in (model.name, model.registry_name):
            return replace(model, artifact=path) if path else model
    directory = project_directory(config, repo)
    declared = declared_artifacts(repo, None, dvc_root_of(repo.path, config.root), directory)
    for artifact in declared:
        if artifact.name in (name, full_name(name, directory)):
            return ModelConfig(artifact.name.rsplit(":", 1)[-1], path or artifact.path,
                               metrics=(), params=(), description=artifact.desc,
                               registry_name=artifact.name)
    if path:
        check_model_name(name)
        return ModelConfig(name, path, metrics=(), params=())
    known = ", ".join([m.name for m in config.models] + [a.name for a in declared])
    raise ConfigError(f"no model named {name!r} in mlops.yaml, dvc.yaml artifacts or "
                      f"artifacts.yaml (models: {known or 'none'})",
                      hint="give the artifact with --path PATH|URI")


def registry_config(start: Path) -> ProjectConfig:
    """mlops.yaml at or above ``start``; without one, the repository as GTO sees it: no
    models of its own (dvc.yaml and artifacts.yaml declare them), no forge, the DVC root
    (or the top of the repository) as the project."""
    root = find_project_root(start)
    if (root / CONFIG_FILE).is_file():
        return load_config(root)
    repo, _prefix = GitRepo.enclosing(start.resolve())
    try:
        top = repo.path
    finally:
        repo.close()
    dvc_root = dvc_root_of(top, start)
    project = top / dvc_root if dvc_root else top
    return ProjectConfig(path=project / CONFIG_FILE, name=project.name, forge=ForgeConfig(),
                         models=(), environments=())


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
