"""Holds: a version that failed in an environment may not come back until a person says so.

A hold is a file in the environment repository (``holds/MODEL.yaml``, one entry per held
version, with why, who and when), put there and taken away by pull requests like every
other change, so the environment repository stays the one source of truth and its history
says who held and who cleared what. ``promote``, ``rollback`` and ``ci release`` refuse a
held version (before opening anything); ``jx-mlops hold clear`` lifts it and needs write
permission on the environment repository.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig, ProjectConfig
from jx_mlops.environments.history import iso, trailers
from jx_mlops.environments.records import Hold, hold_path, holds_content, read_holds
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.errors import ConflictError, PromotionError
from jx_mlops.forge.base import Forge, can_write
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import commit_identity

_LAND_ATTEMPTS = 25


@dataclass(frozen=True)
class HoldResult:
    """What `hold` / `hold clear` did (``changed`` False: it was already so)."""

    hold: Hold
    held: bool
    changed: bool
    pull_request: int | None = None


def refuse_held(env_repo: EnvironmentRepo, environment: str, model: str, version: str
                ) -> None:
    """A PromotionError when ``version`` of ``model`` is on hold in ``environment``."""
    hold = env_repo.holds(model, environment).get(version)
    if hold is None:
        return
    raise PromotionError(
        f"{model} {version} is on hold in {environment} since {hold.at} (by {hold.by}: "
        f"{hold.reason})",
        hint=f"lift it with `jx-mlops hold clear {model}@{version} --env {environment}`")


def _message(hold: Hold, held: bool) -> str:
    action = "hold" if held else "hold-clear"
    subject = (f"chore: hold {hold.model} {hold.version} in {hold.environment}" if held else
               f"chore: clear the hold of {hold.model} {hold.version} in {hold.environment}")
    return subject + "\n\n" + (hold.reason + "\n\n" if hold.reason else "") + trailers({
        "Action": action, "Model": hold.model, "Environment": hold.environment,
        "Version": hold.version, "By": hold.by, "Reason": hold.reason}) + "\n"


class _HoldChange:
    """One hold or clear, landed as a pull request."""

    def __init__(self, env_repo: EnvironmentRepo, env: EnvironmentConfig, hold: Hold,
                 held: bool) -> None:
        self.env_repo, self.env, self.hold, self.held = env_repo, env, hold, held
        self.forge = env_repo.forge
        verb = "hold" if held else "hold-clear"
        self.branch = f"{verb}/{env.name}/{hold.model}-{hold.version}"

    def _commit(self, repo: GitRepo, base: str) -> str | None:
        """The change on ``base``; None when ``base`` is already as asked."""
        holds = read_holds(repo, base, self.hold.model, self.env.name)
        if (self.hold.version in holds) == self.held:
            return None
        if self.held:
            holds[self.hold.version] = self.hold
        else:
            del holds[self.hold.version]
        return repo.commit_files(base, {hold_path(self.hold.model): holds_content(holds)},
                                 _message(self.hold, self.held),
                                 env=commit_identity(self.hold.by))

    def _pull(self, base_branch: str) -> int:
        found = self.forge.list_pulls(self.env.repo, head=self.branch, base=base_branch)
        if found:
            return found[0].number
        title = _message(self.hold, self.held).splitlines()[0]
        body = (f"{title[len('chore: '):].capitalize()}.\n\nReason: {self.hold.reason}\n\n"
                f"By {self.hold.by}. A held version is refused by `promote`, `rollback` and "
                "`ci release` until `jx-mlops hold clear`.")
        return self.forge.create_pull(self.env.repo, title=title, body=body, head=self.branch,
                                      base=base_branch).number

    def land(self) -> int | None:
        """Merge the change; returns its pull request (None: nothing was to change).

        The first attempt builds on the tip this command already fetched (a flow that read
        the repository, as ``verify`` did, fetches nothing more): the forge's three-way
        merge refuses a change to this holds file made meanwhile, and only then is the
        tip fetched again and the change rebuilt on it. Finding nothing to change proves
        nothing on an older tip, so that is confirmed on the latest one.
        """
        number: int | None = None
        for attempt in range(_LAND_ATTEMPTS):
            repo = self.env_repo.latest() if attempt else self.env_repo.git
            commit = self._commit(repo, repo.rev_parse(self.env_repo.branch))
            if commit is None and attempt == 0:
                repo = self.env_repo.latest()
                commit = self._commit(repo, repo.rev_parse(self.env_repo.branch))
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


def set_hold(forge: Forge, env: EnvironmentConfig, model: str, version: str, *,
             held: bool, reason: str = "", env_repo: EnvironmentRepo | None = None
             ) -> HoldResult:
    """Put (``held``) or lift a hold on ``version`` of ``model`` in ``env`` (``env_repo``:
    the command's view of ``env``'s repository, if it opened one)."""
    user = forge.user()
    permission = forge.get_permission(env.repo, user)
    if not can_write(permission):
        verb = "hold" if held else "clear a hold"
        raise PromotionError(f"{user} cannot {verb} in {env.name}: needs write permission on "
                             f"{env.repo} (has {permission})")
    opened = env_repo is None
    repo = env_repo or EnvironmentRepo(forge, env.repo)
    try:
        repo.create_if_missing(env.name)
        hold = Hold(model, env.name, version, reason or ("held by hand" if held else "cleared"),
                    user, iso(time.time()))
        number = _HoldChange(repo, env, hold, held).land()
    finally:
        if opened:
            repo.close()
    return HoldResult(hold, held, changed=number is not None, pull_request=number)


def _registered(config: ProjectConfig, forge: Forge, model: str, version: str) -> str:
    """``version`` of ``model`` as the registry names it (``latest`` resolved); a
    RegistryError when it was never registered (the forge's tags fetched once first)."""
    from jx_mlops.registry.registration import resolve_version

    repo = GitRepo.open(config.root)
    try:
        def fetch_tags() -> None:
            with console.step("Fetching registry tags"):
                repo.fetch("origin", tags=True, env=forge.git_env())

        return resolve_version(config, repo, model, version, fetch=fetch_tags).version
    finally:
        repo.close()


def hold_model(config: ProjectConfig, model: str, version: str, environment: str, *,
               held: bool, reason: str = "") -> HoldResult:
    """`jx-mlops hold MODEL@VERSION --env ENV` (``held``) or `hold clear`: a version that
    was never registered cannot be held (a typo would otherwise merge a hold that guards
    nothing); any held version can be cleared."""
    from jx_mlops.forge.kinds import open_forge

    config.model(model)
    env = config.environment(environment)
    forge = open_forge(config.forge)
    if held:
        version = _registered(config, forge, model, version)
    return set_hold(forge, env, model, version, held=held, reason=reason)


def list_holds(config: ProjectConfig, *, model: str | None = None,
               environment: str | None = None) -> list[Hold]:
    """`jx-mlops hold list`: every held version of the project's models (or ``model``) in
    its environments (or ``environment``), in promotion order."""
    from jx_mlops.forge.kinds import open_forge

    models = [config.model(model).name] if model else [m.name for m in config.models]
    envs = [config.environment(environment)] if environment else list(config.environments)
    if not envs:
        return []
    forge = open_forge(config.forge)
    found: list[Hold] = []
    for env in envs:
        env_repo = EnvironmentRepo(forge, env.repo)
        try:
            if not env_repo.exists:
                forge.get_repo(env.repo)  # the forge's NotFoundError: where it looked
            for name in models:
                found += sorted(env_repo.holds(name, env.name).values(),
                                key=lambda h: h.version)
        finally:
            env_repo.close()
    return found
