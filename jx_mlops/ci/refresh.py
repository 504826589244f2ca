"""`jx-mlops ci refresh`: when the base branch moves, open PRs' verdicts go stale.

A PR's evaluation compared it with the base as it was. After another PR merges, that
verdict says nothing about what merging this one would do now, so CI on pushes to the
default branch marks each open PR's evaluation status *pending* ("main moved: re-run")
until `ci pr` checks it again; a protected base then refuses to merge it meanwhile. PRs
already containing the new base tip, and PRs never checked, are left alone; a verdict
computed against another branch (a retargeted PR) is stale whatever the history.
"""

from __future__ import annotations

from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.config.project import ProjectConfig
from jx_mlops.forge.base import STATUS_CONTEXT, Forge, PullRequest, evaluated_base
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo


@dataclass(frozen=True)
class RefreshResult:
    """Which open PRs were marked stale, and which were left as they were (and why)."""

    base: str
    base_sha: str
    stale: tuple[int, ...]
    kept: tuple[tuple[int, str], ...]


def stale_description(base: str, base_sha: str) -> str:
    return f"{base} moved to {base_sha[:7]}: re-run the evaluation (jx-mlops ci pr)"


def _fetch(repo: GitRepo, forge: Forge, base: str, pulls: list[PullRequest]) -> str:
    refspecs = [f"+refs/heads/{base}:refs/remotes/origin/{base}",
                *(f"+refs/heads/{p.head}:refs/remotes/origin/{p.head}" for p in pulls)]
    repo.fetch("origin", refspecs, env=forge.git_env())
    return repo.rev_parse(f"refs/remotes/origin/{base}")


def _why_kept(repo: GitRepo, forge: Forge, config: ProjectConfig, pull: PullRequest,
              base_sha: str) -> str | None:
    """Why ``pull``'s verdict still holds, or None when it is stale."""
    status = next((s for s in forge.get_statuses(config.forge.repo, pull.head_sha)
                   if s.context == STATUS_CONTEXT), None)
    if status is None:
        return "not evaluated yet"
    if status.state == "pending":
        return "evaluation pending"
    if evaluated_base(status.description) not in (None, pull.base):
        return None  # computed against another branch (the PR was retargeted)
    if repo.is_ancestor(base_sha, pull.head_sha):
        return "up to date"
    return None


def refresh_open_pulls(config: ProjectConfig, *, run_url: str | None = None) -> RefreshResult:
    """Mark the evaluation of every open PR into the default branch stale if it moved."""
    forge = open_forge(config.forge)
    repo = GitRepo.open(config.root)
    try:
        base = forge.get_repo(config.forge.repo).default_branch
        pulls = forge.list_pulls(config.forge.repo, base=base)
        with console.step(f"Fetching {base} and {len(pulls)} open pull request(s)"):
            base_sha = _fetch(repo, forge, base, pulls)
        stale, kept = [], []
        for pull in pulls:
            reason = _why_kept(repo, forge, config, pull, base_sha)
            if reason is not None:
                kept.append((pull.number, reason))
                continue
            forge.set_status(config.forge.repo, pull.head_sha, state="pending",
                             context=STATUS_CONTEXT,
                             description=stale_description(base, base_sha),
                             target_url=run_url)
            stale.append(pull.number)
        return RefreshResult(base, base_sha, tuple(stale), tuple(kept))
    finally:
        repo.close()
