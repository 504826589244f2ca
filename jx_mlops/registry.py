"""Model versions as annotated git tags in GTO's grammar: ``MODEL@vX.Y.Z``.

The tag message starts with GTO's own sentence ("Registering artifact M version V") and
carries jx-mlops metadata as JSON after a blank line, so ``gto show`` lists our versions
and ``jx-mlops lineage`` can answer without checking anything out.

A model of a project that lives in a sub-directory of its repository (a monorepo) has
GTO's full name ``DIR:MODEL``; in the tag the colon becomes ``=``
(``projects/churn=churn@v0.1.0``), exactly as ``gto register`` writes it. GTO's
deregistration tags (``MODEL@vX.Y.Z!``) hide a version, as they do in ``gto show``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from jx_mlops.errors import RegistryError
from jx_mlops.git import GitRepo, TagInfo
from jx_mlops.yamlio import json_loads

Bump = Literal["major", "minor", "patch"]
_SEMVER = (r"v(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
           r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
VERSION = re.compile(f"^{_SEMVER}$")
_NAME = r"[a-z0-9](?:[a-z0-9-/]*[a-z0-9])?"
# GTO's registration tag: [DIR=]NAME@vSEMVER, with a trailing "!" for a deregistration.
TAG = re.compile(rf"^(?:(?P<dir>[a-z0-9-_./]+)=)?(?P<model>{_NAME})@(?P<version>{_SEMVER})"
                 rf"(?P<cancel>!?)(?:#\d+)?$")
FIRST_VERSION = "v0.0.1"  # what `gto register` picks for a new artifact


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model (``model`` is GTO's full name, DIR:NAME)."""

    model: str
    version: str
    tag: str
    commit: str
    registered_at: int
    registered_by: str
    metadata: dict[str, Any] = field(default_factory=dict)
    tag_object: str = ""

    @property
    def key(self) -> tuple[int, int, int, int, str]:
        return version_key(self.version)

    @property
    def name(self) -> str:
        """The model's own name, without the monorepo directory."""
        return self.model.rsplit(":", 1)[-1]


def version_key(version: str) -> tuple[int, int, int, int, str]:
    """A sort key for ``vX.Y.Z[-pre]``: a pre-release sorts before its release."""
    match = VERSION.match(version)
    if not match:
        raise RegistryError(
            f"invalid version {version!r}: expected vMAJOR.MINOR.PATCH, e.g. v1.2.0")
    pre = match["pre"]
    return (int(match["major"]), int(match["minor"]), int(match["patch"]),
            0 if pre else 1, pre or "")


def parse_version(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of ``vX.Y.Z``; RegistryError for anything else."""
    major, minor, patch, _final, _pre = version_key(version)
    return major, minor, patch


def bump_version(version: str, part: Bump) -> str:
    """The next version after ``version``."""
    major, minor, patch = parse_version(version)
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def full_name(model: str, directory: str = "") -> str:
    """GTO's name of ``model`` defined in ``directory`` of the repository (``DIR:MODEL``)."""
    directory = directory.strip("/")
    return f"{directory}:{model}" if directory and directory != "." else model


def tag_name(model: str, version: str) -> str:
    """The registration tag of ``model`` (a full name) at ``version``."""
    return f"{model.replace(':', '=')}@{version}"


def _metadata(message: str) -> dict[str, Any]:
    start = message.find("{")
    if start < 0:
        return {}
    try:
        data = json_loads(message[start:])
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _parse(tag: TagInfo) -> tuple[str, str, bool] | None:
    match = TAG.match(tag.name)
    if not match or not tag.annotated:
        return None  # GTO ignores lightweight tags too
    return full_name(match["model"], match["dir"] or ""), match["version"], bool(match["cancel"])


def _to_version(tag: TagInfo, model: str, version: str) -> ModelVersion:
    return ModelVersion(model=model, version=version, tag=tag.name, commit=tag.target,
                        registered_at=tag.tagged_at, registered_by=tag.tagger,
                        metadata=_metadata(tag.message), tag_object=tag.object)


def list_versions(repo: GitRepo, model: str | None = None, *,
                  deregistered: bool = False) -> list[ModelVersion]:
    """Registered versions (of ``model``, or all), by model then semver, in one git call.

    Versions GTO deregistered are left out, unless ``deregistered``.
    """
    # for-each-ref's "*" stops at "/", and monorepo tags have slashes: without a model,
    # ask for every tag (the bare prefix) and let the grammar sort them out.
    pattern = f"{tag_name(model, 'v')}*" if model else ""
    versions: dict[tuple[str, str], ModelVersion] = {}
    cancelled: set[tuple[str, str]] = set()
    for tag in repo.tags(pattern):
        parsed = _parse(tag)
        if parsed is None or (model is not None and parsed[0] != model):
            continue
        name, version, cancel = parsed
        if cancel:
            cancelled.add((name, version))
        else:
            versions[(name, version)] = _to_version(tag, name, version)
    kept = [v for key, v in versions.items() if deregistered or key not in cancelled]
    return sorted(kept, key=lambda v: (v.model, v.key))


def find_version(repo: GitRepo, model: str, version: str) -> ModelVersion | None:
    """One registered version, or None."""
    version_key(version)
    for candidate in list_versions(repo, model):
        if candidate.version == version:
            return candidate
    return None


def get_version(repo: GitRepo, model: str, version: str) -> ModelVersion:
    """One registered version (``latest`` for the highest); RegistryError naming the
    known ones when it does not exist."""
    if version == "latest":
        versions = list_versions(repo, model)
        if not versions:
            raise RegistryError(f"{model} has no registered version",
                                hint=f"register one with `jx-mlops register {model}`")
        return versions[-1]
    found = find_version(repo, model, version)
    if found is not None:
        return found
    known = ", ".join(v.version for v in list_versions(repo, model)[-5:]) or "none registered"
    raise RegistryError(f"{tag_name(model, version)} is not registered (latest: {known})")


def next_version(repo: GitRepo, model: str, bump: Bump = "patch") -> str:
    """The version the next registration of ``model`` gets (deregistered numbers count:
    a number is never reused)."""
    ever = list_versions(repo, model, deregistered=True)
    return bump_version(ever[-1].version, bump) if ever else FIRST_VERSION


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
    # A deregistered version keeps its tag: numbers are never reused.
    ever = list_versions(repo, model, deregistered=True)
    if version is None:
        version = next_version(repo, model, bump)
    elif any(v.version == version for v in ever):
        raise RegistryError(f"{tag_name(model, version)} already exists at another commit; "
                            "versions are immutable, pick a new one")
    version_key(version)
    message = (f"Registering artifact {model} version {version}\n\n"
               f"{json.dumps(metadata, indent=2, sort_keys=True)}\n")
    repo.create_tag(tag_name(model, version), commit, message)
    return get_version(repo, model, version), True
