"""`jx-mlops insights`: DORA's four keys per model and environment, from git history alone.

Three sources, all git: the environment repositories' promotion commits (what landed
where and when, see ``history``), the project repository (when the change behind each
version began: the oldest commit of the pull request its merge commit brought in), and
the registry tags the promotions name. Nothing is stored anywhere else, so the figures
can be recomputed by anyone with read access, at any time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from jx_mlops.compare.dora import DoraKeys, ModelEvent, dora_keys
from jx_mlops.config.project import ProjectConfig
from jx_mlops.environments.history import HistoryEvent
from jx_mlops.environments.repo import collect_history
from jx_mlops.errors import JxMlopsError
from jx_mlops.forge.base import Forge
from jx_mlops.git.repo import GitRepo


class InsightsError(JxMlopsError):
    """Bad input to `insights` (an unknown --since date)."""


@dataclass(frozen=True)
class Insights:
    """The keys of every (model, environment) asked for, in promotion order."""

    keys: tuple[DoraKeys, ...]
    since: int | None
    until: int
    reason: str | None = None  # why there are no keys at all


def parse_since(value: str | None) -> int | None:
    """``--since``: an ISO date or date-time (UTC unless it says otherwise)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InsightsError(f"--since: {value[:40]!r} is not a date (use YYYY-MM-DD or "
                            "YYYY-MM-DDTHH:MM:SS)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


def change_started(repo: GitRepo, commit: str) -> int | None:
    """When the change behind ``commit`` began: the oldest author date of the commits a
    merge brought in (its second parent's side), else the commit's own author date."""
    if repo.try_rev_parse(f"{commit}^{{commit}}") is None:
        return None
    parents = repo.parents(commit)
    span = f"{parents[0]}..{parents[1]}" if len(parents) == 2 else f"{commit}^!"
    out = repo.run("log", "--format=%at", span, "--")
    stamps = [int(line) for line in out.split() if line.isdigit()]
    return min(stamps) if stamps else None


def _lead_starts(repo: GitRepo | None, events: Sequence[HistoryEvent]) -> dict[str, int]:
    starts: dict[str, int] = {}
    if repo is None:
        return starts
    for event in events:
        commit = (event.source or "").rpartition("@")[2]
        if event.action == "promote" and commit and event.version not in starts:
            started = change_started(repo, commit)
            if started is not None:
                starts[event.version] = started
    return starts


def _keys(model: str, env: str, events: Sequence[HistoryEvent], repo: GitRepo | None,
          since: int | None, until: int) -> DoraKeys:
    # Oldest first; events of one second keep the order git gave them.
    mine = [e for e in reversed(events) if e.environment == env]
    simple = [ModelEvent(e.action, e.version, e.timestamp, e.canary_percent) for e in mine]
    return dora_keys(model, env, simple, _lead_starts(repo, mine), since=since, until=until)


def collect_insights(config: ProjectConfig, forge: Forge | None = None, *,
                     model: str | None = None, environment: str | None = None,
                     since: str | None = None, now: float | None = None) -> Insights:
    """The four keys of each model (or ``model``) in each environment (or ``environment``);
    without environments there is nothing to measure, and no forge is needed to say so."""
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.promote.status import check_environments_exist

    start = parse_since(since)
    until = int(now if now is not None else time.time())
    models = [config.model(model).name] if model else [m.name for m in config.models]
    envs = [config.environment(environment)] if environment else list(config.environments)
    if not envs:
        return Insights((), start, until, reason=(
            f"no environments in {config.path.name}: nothing is deployed through jx-mlops, "
            "so there is no delivery to measure (docs/environments.md adds them)"))
    forge = forge or open_forge(config.forge)
    check_environments_exist(forge, envs)
    try:
        repo: GitRepo | None = GitRepo.open(config.root)
    except JxMlopsError:
        repo = None
    try:
        history = collect_history(forge, [(e.name, e.repo) for e in envs], models)
        keys = [_keys(name, env.name, history[name], repo, start, until)
                for name in models for env in envs]
    finally:
        if repo is not None:
            repo.close()
    return Insights(tuple(keys), start, until)
