"""`forge pr create`: propose the current branch, as ``gh pr create`` does.

So a change to code, not only to params (`retrain`), can become a pull request from the
CLI: the branch is pushed when the forge does not have its commits yet, then the PR opens.
"""

from __future__ import annotations

from jx_mlops import console
from jx_mlops.config.project import ProjectConfig
from jx_mlops.errors import UsageError
from jx_mlops.forge.base import Forge, PullRequest
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo


def _branch_to_propose(repo: GitRepo, base: str) -> str:
    branch = repo.current_branch()
    if branch is None:
        raise UsageError("not on a branch: check out the branch to propose")
    if branch == base:
        raise UsageError(f"you are on {base}, the base: create a branch with your change "
                         "first (git switch -c NAME)")
    return branch


def _push_if_needed(repo: GitRepo, forge: Forge, branch: str) -> None:
    """Push ``branch`` unless the forge already has exactly its commits."""
    remote = repo.run("ls-remote", "--heads", "origin", f"refs/heads/{branch}",
                      env=forge.git_env() or None).split()
    if remote and remote[0] == repo.head_sha():
        return
    with console.step(f"Pushing {branch}"):
        repo.push("origin", [f"HEAD:refs/heads/{branch}"], env=forge.git_env())
    repo.run("branch", "--quiet", f"--set-upstream-to=origin/{branch}", branch, check=False)


def create_pull_from_branch(config: ProjectConfig, *, title: str | None, body: str = "",
                            base: str | None = None, draft: bool = False) -> PullRequest:
    """Open a pull request from the checked-out branch into ``base`` (default branch)."""
    forge = open_forge(config.forge)
    repo = GitRepo.open(config.root)
    try:
        base = base or forge.get_repo(config.forge.repo).default_branch
        branch = _branch_to_propose(repo, base)
        repo.fetch("origin", [f"+refs/heads/{base}:refs/remotes/origin/{base}"],
                   env=forge.git_env())
        dirty = repo.dirty_paths()
        if dirty:
            console.warn(f"uncommitted changes in {', '.join(dirty[:3])} are not proposed")
        if repo.merge_base(branch, f"origin/{base}") == repo.head_sha():
            raise UsageError(f"{branch} has no commits that {base} lacks; commit your change")
        existing = forge.list_pulls(config.forge.repo, head=branch, base=base)
        if existing:
            raise UsageError(f"pull request #{existing[0].number} is already open from "
                             f"{branch} into {base}")
        subject = title or repo.log("HEAD", max_count=1)[0].summary
        _push_if_needed(repo, forge, branch)
        return forge.create_pull(config.forge.repo, title=subject, body=body, head=branch,
                                 base=base, draft=draft)
    finally:
        repo.close()
