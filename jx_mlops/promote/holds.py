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
from typing import Any

import yaml

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig
from jx_mlops.environments.history import iso, trailers
from jx_mlops.environments.repo import dump_yaml, ensure_environment_repo, load_yaml, mirror
from jx_mlops.errors import ConflictError, JxMlopsError, PromotionError
from jx_mlops.forge.base import Forge, can_write
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import commit_identity

_LAND_ATTEMPTS = 25


@dataclass(frozen=True)
class Hold:
    """One held version of one model in one environment."""

    model: str
    environment: str
    version: str
    reason: str
    by: str
    at: str


@dataclass(frozen=True)
class HoldResult:
    """What `hold` / `hold clear` did (``changed`` False: it was already so)."""

    hold: Hold
    held: bool
    changed: bool
    pull_request: int | None = None


def hold_path(model: str) -> str:
    return f"holds/{model}.yaml"


def read_holds(repo: GitRepo, rev: str, model: str, environment: str) -> dict[str, Hold]:
    """The held versions of ``model`` at ``rev`` of an environment repository."""
    raw = repo.read_blob(rev, hold_path(model))
    try:
        data: Any = load_yaml(raw) if raw else None
    except (yaml.YAMLError, ValueError, JxMlopsError) as exc:
        raise PromotionError(f"{hold_path(model)} in {environment}: unreadable holds file "
                             f"({str(exc).splitlines()[0][:120]})") from None
    entries = data.get("holds") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    holds = {}
    for version, entry in entries.items():
        info = entry if isinstance(entry, dict) else {}
        holds[str(version)] = Hold(model, environment, str(version),
                                   str(info.get("reason", "")), str(info.get("by", "")),
                                   str(info.get("at", "")))
    return holds


def refuse_held(repo: GitRepo, rev: str, environment: str, model: str, version: str) -> None:
    """A PromotionError when ``version`` of ``model`` is on hold in ``environment``."""
    hold = read_holds(repo, rev, model, environment).get(version)
    if hold is None:
        return
    raise PromotionError(
        f"{model} {version} is on hold in {environment} since {hold.at} (by {hold.by}: "
        f"{hold.reason})",
        hint=f"lift it with `jx-mlops hold clear {model}@{version} --env {environment}`")


def _content(holds: dict[str, Hold]) -> bytes | None:
    if not holds:
        return None
    return dump_yaml({"holds": {v: {"reason": h.reason, "by": h.by, "at": h.at}
                                for v, h in sorted(holds.items())}}).encode()


def _message(hold: Hold, held: bool) -> str:
    action = "hold" if held else "hold-clear"
    subject = (f"chore: hold {hold.model} {hold.version} in {hold.environment}" if held else
               f"chore: clear the hold of {hold.model} {hold.version} in {hold.environment}")
    return subject + "\n\n" + (hold.reason + "\n\n" if hold.reason else "") + trailers({
        "Action": action, "Model": hold.model, "Environment": hold.environment,
        "Version": hold.version, "By": hold.by, "Reason": hold.reason}) + "\n"



class _HoldChange:
    """One hold or clear, landed as a pull request on the environment's latest tip."""

    def __init__(self, forge: Forge, env: EnvironmentConfig, hold: Hold, held: bool) -> None:
        self.forge, self.env, self.hold, self.held = forge, env, hold, held
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
        return repo.commit_files(base, {hold_path(self.hold.model): _content(holds)},
                                 _message(self.hold, self.held),
                                 env=commit_identity(self.hold.by))

    def _pull(self, base_branch: str, commit: str) -> int:
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
        """Merge the change; returns its pull request (None: nothing was to change)."""
        for attempt in range(_LAND_ATTEMPTS):
            repo, base_branch = mirror(self.forge, self.env.repo)
            try:
                commit = self._commit(repo, repo.rev_parse(base_branch))
                if commit is None:
                    return None
                repo.push("origin", [f"+{commit}:refs/heads/{self.branch}"],
                          env=self.forge.git_env())
            finally:
                repo.close()
            number = self._pull(base_branch, commit)
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

    def _delete_branch(self) -> None:
        repo, _branch = mirror(self.forge, self.env.repo)
        try:
            repo.push("origin", [f":refs/heads/{self.branch}"], env=self.forge.git_env())
        except Exception as exc:  # the merge is done; a leftover branch is harmless
            console.warn(f"could not delete branch {self.branch} of {self.env.repo}: {exc}")
        finally:
            repo.close()


def set_hold(forge: Forge, env: EnvironmentConfig, model: str, version: str, *,
             held: bool, reason: str = "") -> HoldResult:
    """Put (``held``) or lift a hold on ``version`` of ``model`` in ``env``."""
    user = forge.user()
    permission = forge.get_permission(env.repo, user)
    if not can_write(permission):
        verb = "hold" if held else "clear a hold"
        raise PromotionError(f"{user} cannot {verb} in {env.name}: needs write permission on "
                             f"{env.repo} (has {permission})")
    ensure_environment_repo(forge, env.repo, env.name)
    hold = Hold(model, env.name, version, reason or ("held by hand" if held else "cleared"),
                user, iso(time.time()))
    number = _HoldChange(forge, env, hold, held).land()
    return HoldResult(hold, held, changed=number is not None, pull_request=number)
