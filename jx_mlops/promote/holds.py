"""Holds: a version that failed in an environment may not come back until a person says so.

A hold is a file in the environment repository (``holds/MODEL.yaml``, one entry per held
version, with why, who and when), put there and taken away by pull requests like every
other change, so the environment repository stays the one source of truth and its history
says who held and who cleared what. ``promote``, ``rollback`` and ``ci release`` refuse a
held version (before opening anything); ``jx-mlops hold clear`` lifts it and needs write
permission on the environment repository.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig, ProjectConfig
from jx_mlops.environments.history import iso, trailers
from jx_mlops.environments.records import Hold, hold_path, holds_content, read_holds
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.errors import PromotionError
from jx_mlops.forge.base import Forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import commit_identity
from jx_mlops.promote.landing import FileChange, require_writer


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


def _hold_change(env_repo: EnvironmentRepo, env: EnvironmentConfig, hold: Hold,
                 held: bool) -> FileChange:
    """One hold or clear, as a pull request."""

    def build(repo: GitRepo, base: str) -> str | None:
        holds = read_holds(repo, base, hold.model, env.name)
        if (hold.version in holds) == held:
            return None
        if held:
            holds[hold.version] = hold
        else:
            del holds[hold.version]
        return repo.commit_files(base, {hold_path(hold.model): holds_content(holds)},
                                 _message(hold, held), env=commit_identity(hold.by))

    verb = "hold" if held else "hold-clear"
    title = _message(hold, held).splitlines()[0]
    body = (f"{title[len('chore: '):].capitalize()}.\n\nReason: {hold.reason}\n\n"
            f"By {hold.by}. A held version is refused by `promote`, `rollback` and "
            "`ci release` until `jx-mlops hold clear`.")
    return FileChange(env_repo, env, branch=f"{verb}/{env.name}/{hold.model}-{hold.version}",
                      build=build, title=title, body=body)


def set_hold(forge: Forge, env: EnvironmentConfig, model: str, version: str, *,
             held: bool, reason: str = "", env_repo: EnvironmentRepo | None = None
             ) -> HoldResult:
    """Put (``held``) or lift a hold on ``version`` of ``model`` in ``env`` (``env_repo``:
    the command's view of ``env``'s repository, if it opened one)."""
    user = require_writer(forge, env, f"{'hold' if held else 'clear a hold'} in {env.name}")
    opened = env_repo is None
    repo = env_repo or EnvironmentRepo(forge, env.repo)
    try:
        repo.create_if_missing(env.name)
        hold = Hold(model, env.name, version, reason or ("held by hand" if held else "cleared"),
                    user, iso(time.time()))
        number = _hold_change(repo, env, hold, held).land()
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
