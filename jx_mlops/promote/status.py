"""`jx-mlops status`: which version of which model runs in which environment; and
`jx-mlops history`: what ran there before.

Records are read from ONE tree (the tip of each environment's default branch) of a cached
mirror, so the cost is one incremental fetch and one ``git cat-file`` per environment,
however long the environments' histories are.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig, ProjectConfig
from jx_mlops.environments.records import DeploymentRecord, Hold
from jx_mlops.environments.repo import EnvironmentRepo, in_parallel
from jx_mlops.errors import NotFoundError
from jx_mlops.forge.base import Forge
from jx_mlops.promote.freezes import describe, in_force

if TYPE_CHECKING:
    from jx_mlops.environments.history import HistoryEvent


@dataclass(frozen=True)
class StatusEntry:
    """One model in one environment (``version`` None: never deployed there)."""

    environment: str
    model: str
    version: str | None
    state: str | None = None
    since: str | None = None
    by: str | None = None
    source_commit: str | None = None
    source_pull: int | None = None
    action: str | None = None
    pull_request: int | None = None
    previous_version: str | None = None
    forced: bool = False
    source_repo: str | None = None
    holds: tuple[Hold, ...] = ()  # the held versions of the model in the environment

    @property
    def held(self) -> bool:
        """Whether the version running here is on hold."""
        return any(h.version == self.version for h in self.holds)
    frozen: str | None = None  # the environment's freeze in force, described
    canary_percent: int | None = None  # a canary step: its share of the traffic
    stable_version: str | None = None  # ... and the version serving the rest
    approved_by: tuple[str, ...] = ()  # who approved the promotion that put it here

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "held": self.held}


def _entry(env: str, name: str, record: DeploymentRecord | None,
           holds: tuple[Hold, ...] = ()) -> StatusEntry:
    if record is None:
        return StatusEntry(env, name, None, holds=holds)
    return StatusEntry(env, name, record.version, record.state, record.promoted_at,
                       record.promoted_by, record.source_commit, record.source_pull,
                       record.action, record.pull_request, record.previous_version,
                       record.forced, record.source_repo, holds, None, record.canary_percent,
                       record.rollout.get("stable_version"), record.approved_by)


_Found = tuple[dict[str, DeploymentRecord], dict[str, tuple[Hold, ...]], str | None]


def _records(forge: Forge, env: EnvironmentConfig, models: list[str] | None) -> _Found | None:
    """The records (of ``models``, or all), each recorded or wanted model's holds, and the
    environment's freeze in force (described); None when the forge has no such
    environment repository."""
    env_repo = EnvironmentRepo(forge, env.repo)
    try:
        if not env_repo.exists:
            return None
        records = {r.model: r for r in env_repo.records(env.name, models)}
        names = sorted(set(models or ()) | set(records))
        holds = {n: tuple(sorted(env_repo.holds(n, env.name).values(),
                                 key=lambda h: h.version)) for n in names}
        freeze = in_force(env_repo.freeze(env.name), time.time())
        return records, holds, describe(freeze) if freeze else None
    finally:
        env_repo.close()


def check_environments_exist(forge: Forge, envs: list[EnvironmentConfig]) -> None:
    """NotFoundError when the forge has none of the environment repositories (see
    ``_missing``); reading them would show nothing, as if nothing had ever happened."""
    if envs and all(forge.find_repo(e.repo) is None for e in envs):
        _missing(forge, envs)


def _missing(forge: Forge, envs: list[EnvironmentConfig]) -> None:
    """Every environment repository is missing: the forge is not the project's (another
    JX_MLOPS_HOME?) or they were never made. Said, not shown as nothing deployed."""
    names = ", ".join(e.repo for e in envs)
    try:
        forge.get_repo(envs[0].repo)
    except NotFoundError as exc:
        where = exc.message.split(" not found ", 1)[-1]
        raise NotFoundError(f"environment repositories {names} not found {where}",
                            hint="is JX_MLOPS_HOME the one the project was created with? "
                                 "`jx-mlops forge repo create` in the project makes them") \
            from None


def collect_status(config: ProjectConfig, forge: Forge, *, all_models: bool = False,
                   environment: str | None = None) -> list[StatusEntry]:
    """One entry per (environment, model) of the project, environments in promotion order.

    With ``all_models``, every model recorded in the environment repositories is listed,
    whichever project it comes from.
    """
    wanted = [m.name for m in config.models]
    envs = [config.environment(environment)] if environment else list(config.environments)
    found = in_parallel([functools.partial(_records, forge, env,
                                           None if all_models else wanted) for env in envs])
    if envs and all(f is None for f in found):
        _missing(forge, envs)
    entries = []
    for env, got in zip(envs, found, strict=True):
        if got is None:
            console.warn(f"environment repository {env.repo} ({env.name}) is not on the "
                         "forge yet: nothing deployed there")
        records, holds, frozen = got or ({}, {}, None)
        names = sorted(set(wanted) | set(records)) if all_models else wanted
        entries += [replace(_entry(env.name, name, records.get(name), holds.get(name, ())),
                            frozen=frozen)
                    for name in names]
    return entries


def gto_stage_status(config: ProjectConfig) -> list[StatusEntry]:
    """For a project without environments: the stages GTO's tags show each version in,
    one entry per (stage, model), as ``gto show`` lists them."""
    from jx_mlops.registry.listing import collect_versions

    entries = [StatusEntry(stage, v.model, v.version, "serving", source_commit=v.commit,
                           action="gto stage")
               for v in collect_versions(config.root) for stage in v.stages]
    return sorted(entries, key=lambda e: (e.environment, e.model))


def model_history(start: Path, model: str, *, environment: str | None = None
                  ) -> tuple[str, list[HistoryEvent]]:
    """(model name, its events newest first) for `jx-mlops history MODEL` run in ``start``:
    the promotions, rollbacks and disables in the project's environments (``environment``:
    one of them); for a model jx-mlops deploys nowhere (no mlops.yaml, no environments, not
    one of its models), the events of GTO's tags."""
    from jx_mlops.config.project import CONFIG_FILE, find_project_root, load_config

    root = find_project_root(start)
    config = load_config(root) if (root / CONFIG_FILE).is_file() else None
    if config is None or not config.environments or \
            all(m.name != model for m in config.models):
        from jx_mlops.promote.stage_tags import gto_history

        return gto_history(start, model)
    from jx_mlops.environments.repo import collect_history
    from jx_mlops.forge.kinds import open_forge

    envs = [config.environment(environment)] if environment else list(config.environments)
    forge = open_forge(config.forge)
    check_environments_exist(forge, envs)
    return model, collect_history(forge, [(e.name, e.repo) for e in envs], [model])[model]
