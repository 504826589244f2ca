"""GTO stage tags for what lands in an environment repository.

The environment repository is the source of truth; the stage tag (``MODEL#ENV#N``, the
tag ``gto assign`` makes) is its reflection in the project's registry, so ``gto show``
and DVC Studio see where each version runs. A promotion or rollback that merged assigns
the environment's stage to the version; a disable unassigns it from every version
holding it (``MODEL#ENV!#N``).
Nothing is written when GTO already shows the same thing, so re-runs add no tags.
A tag that cannot be pushed does not undo the deployment: it is a warning, and
``jx-mlops audit`` reports the disagreement until a later run writes it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jx_mlops import console
from jx_mlops.environments.history import HistoryEvent
from jx_mlops.errors import JxMlopsError
from jx_mlops.failpoints import failpoint
from jx_mlops.git.repo import GitRepo
from jx_mlops.git.values import TagInfo
from jx_mlops.registry.listing import open_scope, resolve_model
from jx_mlops.registry.tags import ModelVersion, read_state, versions_of, write_stage_tag


def shown_in(repo: GitRepo, model: str, stage: str) -> ModelVersion | None:
    """The version of ``model`` (a full name) ``gto show`` shows in ``stage``, if any."""
    for version in versions_of(read_state(repo, model), model, deprecated=True):
        if stage in version.stages:
            return version
    return None


def _push(repo: GitRepo, tags: list[str], git_env: dict[str, str]) -> None:
    """Push ``tags`` in one push (a no-op for those the forge has already)."""
    if not tags:
        return
    try:
        repo.push("origin", [f"refs/tags/{tag}" for tag in tags], env=git_env)
    except JxMlopsError as exc:
        console.warn(f"GTO stage tags {', '.join(tags)} not pushed: {exc.user_message()} "
                     "(`jx-mlops audit` reports it until they are)")


def _local_tags(repo: GitRepo, pattern: str) -> list[str]:
    return [tag.name for tag in repo.tags(pattern)]


def assign_stage(repo: GitRepo, version: ModelVersion, stage: str, *,
                 git_env: dict[str, str], details: dict[str, object]) -> str | None:
    """Assign ``stage`` to ``version`` as ``gto assign`` would, and push the tag; None when
    GTO shows that version there already."""
    shown = shown_in(repo, version.model, stage)
    if shown is not None and shown.version == version.version:
        # Shown here, but a run killed between writing the tag and pushing it left it
        # only here: push the stage's tags (a no-op when the forge has them).
        _push(repo, _local_tags(repo, f"{version.model}#{stage}#*"), git_env)
        return None
    tag = write_stage_tag(repo, version, stage, assign=True, details=details)
    failpoint("stage-tagged")
    _push(repo, [tag], git_env)
    return tag


def unassign_stage(repo: GitRepo, model: str, stage: str, *, git_env: dict[str, str],
                   details: dict[str, object]) -> list[str]:
    """Unassign ``stage`` from every version of ``model`` that holds it: GTO shows the
    newest assignment still in effect, so unassigning only the shown version would make
    an older one reappear there."""
    state = read_state(repo, model)
    artifact = state.artifact(model)
    holding = {r.version for r in (artifact.live_versions() if artifact else [])
               if stage in dict(r.active_stages())}
    tags = []
    for version in versions_of(state, model, deprecated=True, unregistered=True):
        if version.version in holding:
            tags.append(write_stage_tag(repo, version, stage, assign=False, details=details))
    _push(repo, tags, git_env)
    if not tags:  # as in assign_stage: complete the push of a killed run's tags
        _push(repo, _local_tags(repo, f"{model}#{stage}!#*"), git_env)
    return tags


_PRIORITY = {"deprecate": 2, "register": 3, "deregister": 4, "assign": 5, "unassign": 6}


def gto_history(start: Path, model: str) -> tuple[str, list[HistoryEvent]]:
    """(full name, every GTO event of ``model`` newest first), as ``gto history`` lists
    them: for a repository where jx-mlops deploys nothing (no mlops.yaml, no
    environments)."""
    scope = open_scope(start)
    repo = GitRepo.open(scope.repo_root)
    try:
        state = read_state(repo)
        name = resolve_model(scope, state, model)
    finally:
        repo.close()
    artifact = state.artifact(name)
    if artifact is None:
        return name, []
    events = [_event(name, "deprecate", "", "", tag) for tag in artifact.deprecations]
    for record in artifact.versions:
        events += [_event(name, "register", record.version, "", t)
                   for t in record.registrations]
        events += [_event(name, "deregister", record.version, "", t)
                   for t in record.deregistrations]
        events += [_event(name, "assign" if e.assigned else "unassign", record.version,
                          e.stage, e.tag)
                   for stage_events in record.stage_events.values() for e in stage_events]
    # GTO's order: time, then its event priority (deprecate < register < ... < unassign).
    return name, sorted(events, key=lambda e: (e.timestamp, _PRIORITY[e.action]),
                        reverse=True)


def _event(model: str, action: str, version: str, stage: str, tag: TagInfo) -> HistoryEvent:
    at = datetime.fromtimestamp(tag.tagged_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return HistoryEvent(environment=stage, model=model, action=action, version=version,
                        at=at, by=tag.tagger, timestamp=tag.tagged_at, commit=tag.target,
                        tag=tag.name)


def registry_names(registry: GitRepo, model: str) -> list[str]:
    """The registry's artifact names of ``model`` (``path:model`` or ``model``)."""
    return [name for name in read_state(registry).artifacts
            if name.rsplit(":", 1)[-1] == model]
