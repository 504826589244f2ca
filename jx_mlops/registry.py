"""Model versions as annotated git tags in GTO's grammar: ``MODEL@vX.Y.Z``.

The tag message starts with GTO's own sentence ("Registering artifact M version V") and
carries jx-mlops metadata as JSON after a blank line, so ``gto show`` lists our versions
and ``jx-mlops lineage`` can answer without checking anything out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from jx_mlops.errors import RegistryError
from jx_mlops.git import GitRepo, TagInfo

Bump = Literal["major", "minor", "patch"]
VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
TAG = re.compile(r"^(?P<model>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)@(?P<version>v\d+\.\d+\.\d+)$")
FIRST_VERSION = "v0.0.1"  # what `gto register` picks for a new artifact


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model."""

    model: str
    version: str
    tag: str
    commit: str
    registered_at: int
    registered_by: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int, int]:
        return parse_version(self.version)


def parse_version(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of ``vX.Y.Z``; RegistryError for anything else."""
    match = VERSION.match(version)
    if not match:
        raise RegistryError(
            f"invalid version {version!r}: expected vMAJOR.MINOR.PATCH, e.g. v1.2.0")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def bump_version(version: str, part: Bump) -> str:
    major, minor, patch = parse_version(version)
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def tag_name(model: str, version: str) -> str:
    return f"{model}@{version}"


def _metadata(message: str) -> dict[str, Any]:
    start = message.find("{")
    if start < 0:
        return {}
    try:
        data = json.loads(message[start:])
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _to_version(tag: TagInfo) -> ModelVersion | None:
    match = TAG.match(tag.name)
    if not match or not tag.annotated:
        return None  # GTO ignores lightweight tags too
    return ModelVersion(model=match["model"], version=match["version"], tag=tag.name,
                        commit=tag.target, registered_at=tag.tagged_at,
                        registered_by=tag.tagger, metadata=_metadata(tag.message))


def list_versions(repo: GitRepo, model: str | None = None) -> list[ModelVersion]:
    """Registered versions (of ``model``, or all), oldest first by semver."""
    tags = repo.tags(f"{model}@v*" if model else "*@v*")
    versions = [v for v in map(_to_version, tags) if v is not None
                and (model is None or v.model == model)]
    return sorted(versions, key=lambda v: (v.model, v.key))


def get_version(repo: GitRepo, model: str, version: str) -> ModelVersion:
    """One registered version; RegistryError naming the known ones when it does not exist."""
    parse_version(version)
    for candidate in list_versions(repo, model):
        if candidate.version == version:
            return candidate
    known = ", ".join(v.version for v in list_versions(repo, model)[-5:]) or "none registered"
    raise RegistryError(f"{tag_name(model, version)} is not registered (latest: {known})")


def register_version(repo: GitRepo, model: str, commit: str, metadata: dict[str, Any], *,
                     version: str | None = None, bump: Bump = "patch") -> tuple[ModelVersion, bool]:
    """Tag ``commit`` as the next version of ``model``; returns (version, created).

    Registering a commit that already has a version of this model returns that version
    unchanged: re-running a release is a no-op.
    """
    existing = list_versions(repo, model)
    for known in existing:
        if known.commit == commit and (version is None or known.version == version):
            return known, False
    if version is None:
        version = bump_version(existing[-1].version, bump) if existing else FIRST_VERSION
    elif any(v.version == version for v in existing):
        raise RegistryError(f"{tag_name(model, version)} already exists at another commit; "
                            "versions are immutable, pick a new one")
    parse_version(version)
    message = (f"Registering artifact {model} version {version}\n\n"
               f"{json.dumps(metadata, indent=2, sort_keys=True)}\n")
    repo.create_tag(tag_name(model, version), commit, message)
    return get_version(repo, model, version), True
