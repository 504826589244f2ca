"""`jx-mlops lineage MODEL@V`: where a version comes from and where it runs.

The provenance is the registry tag's metadata (commit, params, data and model hashes,
metrics, CI run); for a version GTO made (no metadata in its tag) it is read from the
commit itself, and what cannot be known is said, with the reason. The deployments are
the environments' records, or, where jx-mlops deploys nothing (no mlops.yaml, no
environments), the stages GTO's tags show the version in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jx_mlops.config.project import ProjectConfig
from jx_mlops.forge.base import Forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.promote.status import StatusEntry, collect_status
from jx_mlops.registry.listing import open_scope, resolve_model
from jx_mlops.registry.provenance import commit_metadata
from jx_mlops.registry.signatures import SignatureCheck, project_trust, verify_copy
from jx_mlops.registry.tags import ModelVersion, get_version, read_state, versions_of
from jx_mlops.signing import Trust


@dataclass(frozen=True)
class Lineage:
    """A registered version and the environments where it is deployed now."""

    version: ModelVersion
    deployments: tuple[StatusEntry, ...]
    metadata: dict[str, Any] = field(default_factory=dict)  # the tag's, or the commit's
    unknown: dict[str, str] = field(default_factory=dict)  # fact -> why it is unknown
    signature: dict[str, Any] = field(default_factory=dict)  # see signature_facts

    def to_json(self) -> dict[str, Any]:
        v, meta = self.version, self.metadata or self.version.metadata
        return {
            "model": v.model, "version": v.version, "tag": v.tag, "commit": v.commit,
            "tag_object": v.tag_object, "registered_at": v.registered_at,
            "registered_by": v.registered_by, "stages": list(v.stages),
            "source_repo": meta.get("source_repo"), "source_pull": meta.get("source_pull"),
            "run_url": meta.get("run_url"), "project_path": meta.get("project_path", ""),
            "artifact": _artifact(meta.get("artifact")),
            "signature": self.signature or signature_facts(meta, None, Trust()),
            "metrics": meta.get("metrics", {}),
            "params": meta.get("params", {}), "params_sha256": meta.get("params_sha256"),
            "dvc_lock_sha256": meta.get("dvc_lock_sha256"), "data": meta.get("data", []),
            "bom": meta.get("bom"),  # the ML-BOM written at registration (registry.oci)
            "deployments": [d.to_json() for d in self.deployments],
            "unknown": dict(self.unknown),
        }


def _artifact(artifact: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tag's artifact facts, with ``sha256`` even for versions signed before it."""
    return {**artifact, "sha256": artifact.get("sha256")} if artifact else None


def signature_facts(meta: dict[str, Any], check: SignatureCheck | None, trust: Trust
                    ) -> dict[str, Any]:
    """``signature`` of ``lineage --json``: where the bundle and the key a verifier needs
    are, and whether the published copy verifies now. Unsigned is never verified."""
    signed = meta.get("signature") or {}
    if check is None:
        check = SignatureCheck("unsigned", "registered without a signature") if not signed \
            else SignatureCheck("unverified", "signed; no mlops.yaml here names whom to trust")
    key = trust.public_key if signed.get("method") == "key" else None
    return {"status": check.status, "verified": check.verified, "detail": check.detail,
            "method": signed.get("method"), "bundle": signed.get("bundle"),
            "sha256": signed.get("sha256"),
            "public_key": str(key) if key is not None else None,
            "public_key_sha256": signed.get("public_key_sha256"),
            "identity": signed.get("identity"), "issuer": signed.get("issuer"),
            "files": list(check.files)}


def _signature(version: ModelVersion, trust: Trust) -> dict[str, Any]:
    meta = version.metadata
    artifact = meta.get("artifact") or {}
    check = verify_copy(artifact.get("serving_uri"), meta.get("signature"), trust)
    return signature_facts(meta, check, trust)


def _made_by_jx(version: ModelVersion) -> bool:
    return bool(version.metadata.get("artifact"))


def _no_source(meta: dict[str, Any]) -> dict[str, str]:
    """``unknown`` for a tag that names no source repository: registered in a project
    whose mlops.yaml names no forge."""
    if meta.get("source_repo"):
        return {}
    return {"source_repo": "registered in a project whose mlops.yaml names no forge"}


def collect_lineage(config: ProjectConfig, forge: Forge | None, version: ModelVersion, *,
                    repo: GitRepo | None = None) -> Lineage:
    """``version``'s provenance plus the environments running it (GTO's stages when there
    are no environments, or no forge to read them from)."""
    name = version.name
    entries = collect_status(config, forge) if config.environments and forge is not None \
        else _stage_entries(version)
    here = tuple(e for e in entries if e.model in (name, version.model)
                 and e.version == version.version)
    if _made_by_jx(version) or repo is None:
        return Lineage(version, here, unknown=_no_source(version.metadata),
                       signature=_signature(version, project_trust(config)))
    model = next((m for m in config.models if m.name == name), None)
    prefix = version.model.rsplit(":", 1)[0] if ":" in version.model else ""
    meta, unknown = commit_metadata(repo, config.root, version, model=model, directory=prefix)
    return Lineage(version, here, meta, unknown)


def _stage_entries(version: ModelVersion) -> list[StatusEntry]:
    return [StatusEntry(stage, version.model, version.version, "serving",
                        source_commit=version.commit, action="gto stage")
            for stage in version.stages]


def lineage_of(start: Path, reference: str) -> Lineage:
    """`jx-mlops lineage MODEL@VERSION` from the directory ``start``: in a project (an
    mlops.yaml), through its registry, environments and trusted key; in any other git
    repository, from GTO's tags."""
    from jx_mlops.config.project import CONFIG_FILE, find_project_root, load_config
    from jx_mlops.registry.registration import parse_reference

    model, version = parse_reference(reference)
    root = find_project_root(start)
    if not (root / CONFIG_FILE).is_file():
        return repository_lineage(start, model, version)
    return project_lineage(load_config(root), model, version)


def project_lineage(config: ProjectConfig, model: str, version: str,
                    forge: Forge | None = None) -> Lineage:
    """The lineage of the project's ``model`` at ``version`` (fetching the forge's tags
    when this clone lacks it), with the stages GTO's tags give it."""
    from jx_mlops import console
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.registry.registration import resolve_version

    if forge is None and config.forge.configured:
        forge = open_forge(config.forge)
    registry = GitRepo.open(config.root)

    def fetch_tags() -> None:
        assert forge is not None
        with console.step("Fetching registry tags"):
            registry.fetch("origin", tags=True, env=forge.git_env())

    try:
        # Without a forge, the registry is this clone's tags: nothing to fetch more from.
        found = resolve_version(config, registry, model, version,
                                fetch=fetch_tags if forge is not None else None)
        staged = [v for v in versions_of(read_state(registry, found.model), found.model,
                                         deprecated=True) if v.version == found.version]
        return collect_lineage(config, forge, staged[0] if staged else found, repo=registry)
    finally:
        registry.close()


def repository_lineage(start: Path, model: str, version: str) -> Lineage:
    """Lineage in any git repository with GTO tags, without mlops.yaml: provenance from
    the tag (or the commit), deployments from GTO's stages."""
    scope = open_scope(start)
    repo = GitRepo.open(scope.repo_root)
    try:
        state = read_state(repo)
        name = resolve_model(scope, state, model)
        found = get_version(repo, name, version)
        staged = [v for v in versions_of(state, name, deprecated=True)
                  if v.version == found.version]
        found = staged[0] if staged else found
        if _made_by_jx(found):  # no mlops.yaml: no key to trust, a signature is not verified
            return Lineage(found, tuple(_stage_entries(found)),
                           unknown=_no_source(found.metadata))
        prefix = name.rsplit(":", 1)[0] if ":" in name else ""
        meta, unknown = commit_metadata(repo, scope.repo_root, found, directory=prefix)
        return Lineage(found, tuple(_stage_entries(found)), meta, unknown)
    finally:
        repo.close()
