"""One small change of an environment repository's files (a hold, a freeze), landed as a
pull request that is merged at once, rebuilt on the new tip when the repository moved."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.errors import ConflictError, PromotionError
from jx_mlops.forge.base import Forge, can_write
from jx_mlops.git.repo import GitRepo

_LAND_ATTEMPTS = 25

# The change's commit on a base commit of a repository; None: that base is already so.
Build = Callable[[GitRepo, str], "str | None"]


def require_writer(forge: Forge, env: EnvironmentConfig, doing: str, *,
                   repo_exists: bool = True) -> str:
    """The acting user, who must have write permission on ``env``'s repository to do
    ``doing`` ("freeze staging"); refused in one line before anything is fetched or pushed.
    A repository not made yet is the user's to make (``repo_exists`` False)."""
    user = forge.user()
    permission = forge.get_permission(env.repo, user) if repo_exists else "admin"
    if not can_write(permission):
        raise PromotionError(f"{user} cannot {doing}: needs write permission on {env.repo} "
                             f"(has {permission})")
    return user


class FileChange:
    """A change built by ``build``, on branch ``branch``, as a pull request titled
    ``title``."""

    def __init__(self, env_repo: EnvironmentRepo, env: EnvironmentConfig, *, branch: str,
                 build: Build, title: str, body: str) -> None:
        self.env_repo, self.env, self.branch = env_repo, env, branch
        self.build, self.title, self.body = build, title, body
        self.forge = env_repo.forge

    def _pull(self, base_branch: str) -> int:
        found = self.forge.list_pulls(self.env.repo, head=self.branch, base=base_branch)
        if found:
            return found[0].number
        return self.forge.create_pull(self.env.repo, title=self.title, body=self.body,
                                      head=self.branch, base=base_branch).number

    def land(self) -> int | None:
        """Merge the change; returns its pull request (None: nothing was to change).

        The first attempt builds on the tip this command already fetched (a flow that read
        the repository, as ``verify`` did, fetches nothing more): the forge's three-way
        merge refuses a change to the same file made meanwhile, and only then is the
        tip fetched again and the change rebuilt on it. Finding nothing to change proves
        nothing on an older tip, so that is confirmed on the latest one.
        """
        number: int | None = None
        for attempt in range(_LAND_ATTEMPTS):
            repo = self.env_repo.latest() if attempt else self.env_repo.git
            commit = self.build(repo, repo.rev_parse(self.env_repo.branch))
            if commit is None and attempt == 0:
                repo = self.env_repo.latest()
                commit = self.build(repo, repo.rev_parse(self.env_repo.branch))
            if commit is None:
                self._abandon(number)
                return None
            self.env_repo.push([f"+{commit}:refs/heads/{self.branch}"])
            number = self._pull(self.env_repo.branch)
            try:
                self.forge.merge_pull(self.env.repo, number)
            except ConflictError:
                console.info(f"{self.env.repo} moved on; rebuilding #{number} on its new tip")
                time.sleep(random.uniform(0.02, 0.1) * min(attempt + 1, 8))
                continue
            self._delete_branch()
            return number
        raise PromotionError(f"{self.branch}: the environment kept moving "
                             f"({_LAND_ATTEMPTS} attempts)", hint="run the command again")

    def _abandon(self, number: int | None) -> None:
        """Close the pull request of an attempt that a concurrent run made unnecessary."""
        if number is None:
            return
        console.info(f"{self.env.repo} already has the change; closing #{number}")
        self.forge.update_pull(self.env.repo, number, state="closed")
        self._delete_branch()

    def _delete_branch(self) -> None:
        try:  # best effort, as GitHub's "automatically delete head branches"
            self.env_repo.push([f":refs/heads/{self.branch}"])
        except Exception as exc:  # the merge is done; a leftover branch is harmless
            console.warn(f"could not delete branch {self.branch} of {self.env.repo}: {exc}")
