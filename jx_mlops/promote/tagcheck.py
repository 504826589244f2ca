"""Provenance of a version before it is promoted: a tag anyone who can push made by hand
must not pass for a release.

A version tag is only a name on a commit with a message. A writer can tag an unmerged
commit and copy an older version's message (its md5, its serving copy, its signature):
every gate that reads the message then sees the older, reviewed, signed model. So before a
promotion the tag itself is checked against what a release makes:

- its commit is on the project's default branch (a release registers only merged code);
- the message describes that commit (``source_commit``);
- its serving copy is that version's own (``jx-mlops/models/MODEL/VERSION/FILE``), not
  another version's.
"""

from __future__ import annotations

from jx_mlops.dvc.serving import serving_copy_path
from jx_mlops.errors import PromotionError
from jx_mlops.forge.base import Forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.tags import ModelVersion


def default_branch_tip(registry: GitRepo, forge: Forge, repo: str) -> tuple[str, str]:
    """(branch, sha) of ``repo``'s default branch, fetched from the forge now (a clone's
    copy may predate the merge that registered the version)."""
    branch = forge.get_repo(repo).default_branch
    registry.fetch("origin", [f"+refs/heads/{branch}:refs/remotes/origin/{branch}"],
                   env=forge.git_env())
    return branch, registry.rev_parse(f"refs/remotes/origin/{branch}")


def refuse_unreleased(registry: GitRepo, version: ModelVersion, branch: str, tip: str) -> None:
    """PromotionError, naming the cause, when ``version``'s tag is not what a release of
    the default branch ``branch`` (at ``tip``) would have made."""
    what = f"{version.model}@{version.version}"
    if not registry.is_ancestor(version.commit, tip):
        raise PromotionError(f"{what}: its tag is on commit {version.commit[:12]}, which is "
                             f"not on {branch}; only a merged commit's version is promoted "
                             "(a tag on an unmerged commit is made by hand, not by a release)")
    meta = version.metadata
    source = meta.get("source_commit")
    if source and source != version.commit:
        raise PromotionError(f"{what}: its tag is on commit {version.commit[:12]} but its "
                             f"message describes commit {str(source)[:12]} (copied from "
                             "another version?)")
    artifact = meta.get("artifact")
    uri, path = (artifact.get("serving_uri"), artifact.get("path")) \
        if isinstance(artifact, dict) else (None, None)
    if uri and path:
        own = serving_copy_path(version.model, version.version, str(path))
        if not str(uri).endswith(f"/{own}"):
            raise PromotionError(f"{what}: its serving copy is {uri}, not this version's "
                                 f"own ({own}): copied from another version?")
