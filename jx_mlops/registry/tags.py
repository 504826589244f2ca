"""Model versions as annotated git tags in GTO's grammar, read with GTO's rules.

A registration tag (``MODEL@vX.Y.Z``) carries GTO's own sentence ("Registering artifact
M version V") and jx-mlops metadata as JSON after a blank line, so ``gto show`` lists our
versions and ``jx-mlops lineage`` answers without checking anything out. Every other GTO
event (deregistration, deprecation, stage assignment and unassignment; see ``grammar``)
is read as GTO reads it (see ``state``), and the stage tags jx-mlops writes
(``assign_stage``) are the ones ``gto assign`` would write.

A model of a project that lives in a sub-directory of its repository (a monorepo) has
GTO's full name ``DIR:MODEL``; in the tag the colon becomes ``=``
(``projects/churn=churn@v0.1.0``), exactly as ``gto register`` writes it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from jx_mlops.errors import RegistryError
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import actor, commit_identity
from jx_mlops.registry.grammar import (
    FULL_NAME,
    SEMVER,
    VERSION,
    event_message,
    event_tag,
    in_tag,
    next_counter,
    parse_tag_name,
)
from jx_mlops.registry.state import RegistryState, VersionRecord, build_state
from jx_mlops.yamlio import json_loads

Bump = Literal["major", "minor", "patch"]
# A registration tag, [DIR=]NAME@vSEMVER[!][#N], kept for callers checking references.
TAG = re.compile(rf"^(?P<artifact>(?:[a-zA-Z0-9-_./]+=)?[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*"
                 rf"[a-zA-Z0-9])?)@(?P<version>{SEMVER})(?P<cancel>!?)(?:#\d+)?$")
FIRST_VERSION = "v0.0.1"  # what `gto register` picks for a new artifact
VersionKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


@dataclass(frozen=True)
class ModelVersion:
    """One version of a model (``model`` is GTO's full name, DIR:NAME).

    ``stages`` are the stages ``gto show`` shows this version in now. A version GTO only
    knows from a stage assignment (no registration) has ``registered`` False and the
    commit sha as its ``version``.
    """

    model: str
    version: str
    tag: str
    commit: str
    registered_at: int
    registered_by: str
    metadata: dict[str, Any] = field(default_factory=dict)
    tag_object: str = ""
    stages: tuple[str, ...] = ()
    registered: bool = True

    @property
    def key(self) -> VersionKey:
        if not self.registered:
            return (-1, 0, 0, 0, ((0, 0, self.version),))  # GTO lists shas after semver
        return version_key(self.version)

    @property
    def name(self) -> str:
        """The model's own name, without the monorepo directory."""
        return self.model.rsplit(":", 1)[-1]


def version_key(version: str) -> VersionKey:
    """A semver sort key for ``vX.Y.Z[-pre]``: a pre-release sorts before its release,
    numeric pre-release parts numerically."""
    match = VERSION.match(version)
    if not match:
        raise RegistryError(
            f"invalid version {version!r}: expected vMAJOR.MINOR.PATCH, e.g. v1.2.0")
    pre = match["pre"]
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                  for p in (pre.split(".") if pre else ()))
    return (int(match["major"]), int(match["minor"]), int(match["patch"]),
            0 if pre else 1, parts)


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
    return f"{in_tag(model)}@{version}"


def _metadata(message: str) -> dict[str, Any]:
    start = message.find("{")
    if start < 0:
        return {}
    try:
        data = json_loads(message[start:])
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def read_state(repo: GitRepo, model: str | None = None) -> RegistryState:
    """The registry as GTO reads it from the tags (of ``model``, or all), in one git call."""
    # for-each-ref's "*" stops at "/", and monorepo tags have slashes: without a model,
    # ask for every tag (the bare prefix) and let the grammar sort them out.
    patterns = (f"{in_tag(model)}@*", f"{in_tag(model)}#*") if model else ("",)
    return build_state(repo.tags(*patterns))


def _to_version(record: VersionRecord, stages: tuple[str, ...]) -> ModelVersion:
    tag = record.registration or record.deregistrations[-1] if record.explicit else None
    if tag is None:  # known only from stage tags
        first = min((e.tag for events in record.stage_events.values() for e in events),
                    key=lambda t: t.tagged_at)
        return ModelVersion(record.artifact, record.version, first.name, record.commit,
                            first.tagged_at, first.tagger, stages=stages, registered=False)
    return ModelVersion(model=record.artifact, version=record.version, tag=tag.name,
                        commit=record.commit, registered_at=tag.tagged_at,
                        registered_by=tag.tagger, metadata=_metadata(tag.message),
                        tag_object=tag.object, stages=stages)


def versions_of(state: RegistryState, model: str | None = None, *,
                deregistered: bool = False, unregistered: bool = False,
                deprecated: bool = False) -> list[ModelVersion]:
    """The versions in ``state`` (of ``model``, or all), by model then semver.

    As ``gto show`` lists them: deregistered versions and deprecated artifacts are left
    out unless asked for; versions known only from a stage tag only with ``unregistered``.
    """
    found = []
    for name, artifact in sorted(state.artifacts.items()):
        if (model is not None and name != model) or not (deprecated or artifact.active):
            continue
        current = artifact.current_stages()
        for record in artifact.versions:
            if not (record.active or (deregistered and record.explicit)):
                continue
            if record.registered or (unregistered and not record.explicit):
                stages = tuple(sorted(s for s, v in current.items() if v is record))
                found.append(_to_version(record, stages))
    return sorted(found, key=lambda v: (v.model, v.key))


def list_versions(repo: GitRepo, model: str | None = None, *,
                  deregistered: bool = False) -> list[ModelVersion]:
    """Registered versions (of ``model``, or all), by model then semver, in one git call.

    Versions GTO deregistered are left out, unless ``deregistered``; a deprecated model's
    versions stay listed here (promotion and lineage still need them; ``versions`` hides
    them as ``gto show`` does).
    """
    return versions_of(read_state(repo, model), model, deregistered=deregistered,
                       deprecated=True)


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


def check_model_name(model: str) -> None:
    """RegistryError unless ``model`` is a name GTO accepts (``[DIR:]NAME``)."""
    if not FULL_NAME.match(model):
        raise RegistryError(
            f"invalid model name {model!r}: letters, digits, '-', '_' and '/' only, "
            "starting and ending with a letter or digit")


def plan_registration(repo: GitRepo, model: str, commit: str, *, version: str | None = None,
                      bump: Bump = "patch") -> tuple[str, ModelVersion | None]:
    """The version a registration of ``commit`` gets, and the existing version when the
    commit already has one (then nothing is to be done). Changes nothing."""
    check_model_name(model)
    for known in list_versions(repo, model):
        if known.commit == commit and (version is None or known.version == version):
            return known.version, known
    # A deregistered version keeps its tag: numbers are never reused.
    ever = list_versions(repo, model, deregistered=True)
    if version is None:
        version = next_version(repo, model, bump)
    elif any(v.version == version for v in ever):
        raise RegistryError(f"{tag_name(model, version)} already exists at another commit; "
                            "versions are immutable, pick a new one")
    version_key(version)
    return version, None


def register_version(repo: GitRepo, model: str, commit: str, metadata: dict[str, Any], *,
                     version: str | None = None, bump: Bump = "patch") -> tuple[ModelVersion, bool]:
    """Tag ``commit`` as the next version of ``model``; returns (version, created).

    Registering a commit that already has a version of this model returns that version
    unchanged: re-running a release is a no-op.
    """
    version, existing = plan_registration(repo, model, commit, version=version, bump=bump)
    if existing is not None:
        return existing, False
    message = (f"{event_message('register', model, version=version)}\n\n"
               f"{json.dumps(metadata, indent=2, sort_keys=True)}\n")
    repo.create_tag(tag_name(model, version), commit, message,
                    identity=commit_identity(actor()))
    return get_version(repo, model, version), True


def _next_stage_tag(repo: GitRepo, version: ModelVersion, stage: str, *,
                    assign: bool) -> tuple[str, int]:
    """The tag ``gto assign`` (or ``gto unassign``) would create now, in GTO's default
    non-simple notation ``MODEL#STAGE#N`` (``MODEL#STAGE!#N``), and the time to date it:
    now, or one second past the newest event of that stage. GTO orders events by tagger
    time in whole seconds; two promotions in one second would otherwise tie, and GTO
    breaks the tie against the newer one."""
    tags = repo.tags(f"{in_tag(version.model)}@*", f"{in_tag(version.model)}#*")
    name = event_tag("assign" if assign else "unassign", version.model, stage=stage,
                     counter=next_counter(version.model, [t.name for t in tags]))
    same_stage = [t.tagged_at for t in tags
                  if (parsed := parse_tag_name(t.name)) is not None and parsed.stage == stage]
    return name, max(int(time.time()), max(same_stage, default=0) + 1)


def write_stage_tag(repo: GitRepo, version: ModelVersion, stage: str, *, assign: bool,
                    details: dict[str, Any] | None = None) -> str:
    """Create the GTO tag assigning ``stage`` to ``version`` (or unassigning it) on the
    version's commit; its message is GTO's, with ``details`` as JSON after a blank line."""
    name, tagged_at = _next_stage_tag(repo, version, stage, assign=assign)
    message = event_message("assign" if assign else "unassign", version.model,
                            version=version.version, stage=stage)
    if details:
        message += f"\n\n{json.dumps(details, indent=2, sort_keys=True)}\n"
    repo.create_tag(name, version.commit, message, tagged_at=tagged_at,
                    identity=commit_identity(actor()))
    return name
