"""`jx-mlops status`: which version of which model runs in which environment.

Records are read from ONE tree (the tip of each environment's default branch) of a cached
mirror, so the cost is one incremental fetch and one ``git cat-file`` per environment,
however long the environments' histories are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from jx_mlops.config import ProjectConfig
from jx_mlops.forge.base import Forge
from jx_mlops.promote.envrepo import mirror, read_records


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def collect_status(config: ProjectConfig, forge: Forge, *, all_models: bool = False,
                   environment: str | None = None) -> list[StatusEntry]:
    """One entry per (environment, model) of the project, environments in promotion order.

    With ``all_models``, every model recorded in the environment repositories is listed,
    whichever project it comes from.
    """
    wanted = [m.name for m in config.models]
    envs = [config.environment(environment)] if environment else list(config.environments)
    entries = []
    for env in envs:
        if forge.find_repo(env.repo) is None:
            entries += [StatusEntry(env.name, name, None) for name in wanted]
            continue
        repo, branch = mirror(forge, env.repo)
        try:
            found = read_records(repo, branch, env.name, None if all_models else wanted)
        finally:
            repo.close()
        records = {r.model: r for r in found}
        names = sorted(set(wanted) | set(records)) if all_models else wanted
        for name in names:
            record = records.get(name)
            if record is None:
                entries.append(StatusEntry(env.name, name, None))
                continue
            entries.append(StatusEntry(
                env.name, name, record.version, record.state, record.promoted_at,
                record.promoted_by, record.source_commit, record.source_pull, record.action,
                record.pull_request, record.previous_version, record.forced,
                record.source_repo))
    return entries
