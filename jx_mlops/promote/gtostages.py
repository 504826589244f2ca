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

from jx_mlops import console
from jx_mlops.errors import JxMlopsError
from jx_mlops.git import GitRepo
from jx_mlops.registry import ModelVersion, read_state, versions_of, write_stage_tag


def shown_in(repo: GitRepo, model: str, stage: str) -> ModelVersion | None:
    """The version of ``model`` (a full name) ``gto show`` shows in ``stage``, if any."""
    for version in versions_of(read_state(repo, model), model, deprecated=True):
        if stage in version.stages:
            return version
    return None


def _push(repo: GitRepo, tag: str, git_env: dict[str, str]) -> None:
    try:
        repo.push("origin", [f"refs/tags/{tag}"], env=git_env)
    except JxMlopsError as exc:
        console.warn(f"GTO stage tag {tag} not pushed: {exc.user_message()} "
                     "(`jx-mlops audit` reports it until it is)")


def assign_stage(repo: GitRepo, version: ModelVersion, stage: str, *,
                 git_env: dict[str, str], details: dict[str, object]) -> str | None:
    """Assign ``stage`` to ``version`` as ``gto assign`` would, and push the tag; None when
    GTO shows that version there already."""
    shown = shown_in(repo, version.model, stage)
    if shown is not None and shown.version == version.version:
        return None
    tag = write_stage_tag(repo, version, stage, assign=True, details=details)
    _push(repo, tag, git_env)
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
    for tag in tags:
        _push(repo, tag, git_env)
    return tags
