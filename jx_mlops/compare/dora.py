"""DORA's four keys for models, from promotion events alone (pure).

The definitions, applied to one model in one environment:

- **Deployments** are promotions that landed (``promote`` events). Rollbacks and disables
  are remediation, not changes, so they are not counted as deployments.
- **Deployment frequency** is deployments per week over the window: from ``since`` (or
  the first deployment) to ``until``, never shorter than one day, so that a history made
  in a few minutes does not read as thousands a week.
- **Lead time for changes** of a deployment runs from the first commit of the change that
  produced the version (the source pull request's oldest commit) to the promotion landing
  in the environment; median and 90th percentile (nearest rank).
- A deployment **failed** when the next event of that model in that environment is a
  rollback, a disable or a hold (which a failed verification puts first). **Change
  failure rate** is failed deployments over deployments.
- **Time to restore** of a failed deployment runs from its landing (when the bad version
  began serving) to the next deployment or rollback that is not itself a failure. A
  failure with nothing after it is still open: counted as a failure, with no restore time.
- **Canary steps** of one version (10 %, 50 %, 100 %) are one deployment, not three. A
  canary that failed at a step (``canary_stops``) is a failure before full rollout; its
  time to restore counts from the failing step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WEEK_S = 7 * 24 * 3600
MIN_WINDOW_S = 24 * 3600

DEPLOY = "promote"
FAILURE_ACTIONS = frozenset({"rollback", "disable", "hold"})
LANDING_ACTIONS = frozenset({"promote", "rollback"})


@dataclass(frozen=True)
class ModelEvent:
    """What the keys need of one landed event (``at`` in seconds since the epoch)."""

    action: str
    version: str
    at: int
    canary_percent: int | None = None  # a canary step below 100 %


@dataclass(frozen=True)
class Deployment:
    """One promotion, with what happened after it."""

    version: str
    at: int
    lead_time_s: int | None
    failed: bool
    failed_by: str | None
    restored_after_s: int | None
    stopped_at_percent: int | None = None  # failed as a canary, at this step


@dataclass(frozen=True)
class DoraKeys:
    """The four keys of one model in one environment."""

    model: str
    environment: str
    deployments: int
    deployment_frequency_per_week: float
    lead_time_median_s: float | None
    lead_time_p90_s: float | None
    change_failure_rate: float | None
    time_to_restore_median_s: float | None
    failures: int
    open_failures: int
    canary_stops: int
    window_start: int | None
    window_end: int
    history: tuple[Deployment, ...]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def median(values: Sequence[float]) -> float | None:
    """The middle value (mean of the two middle ones for an even count)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def _restore_time(events: Sequence[ModelEvent], start: int, failed_at: int) -> int | None:
    """Seconds from ``failed_at`` to the first later landing that is not itself a failure."""
    for index in range(start, len(events)):
        event = events[index]
        if event.action not in LANDING_ACTIONS:
            continue
        following = events[index + 1] if index + 1 < len(events) else None
        healthy = following is None or following.action not in FAILURE_ACTIONS \
            or event.action == "rollback"
        if healthy:
            return event.at - failed_at
    return None


def deployments_of(events: Sequence[ModelEvent], lead_starts: Mapping[str, int]
                   ) -> list[Deployment]:
    """Every promotion in ``events`` (oldest first), with its failure and restore."""
    found = []
    for index, event in enumerate(events):
        previous = events[index - 1] if index else None
        if event.action != DEPLOY or (previous is not None and previous.action == DEPLOY and
                                      previous.version == event.version and
                                      previous.canary_percent is not None):
            continue  # a later canary step of the deployment already counted
        last = index  # the deployment's last step
        while last + 1 < len(events) and events[last + 1].action == DEPLOY and \
                events[last + 1].version == event.version and \
                events[last].canary_percent is not None:
            last += 1
        following = events[last + 1] if last + 1 < len(events) else None
        failed = following is not None and following.action in FAILURE_ACTIONS
        start = lead_starts.get(event.version)
        step = events[last]
        found.append(Deployment(
            version=event.version, at=event.at,
            lead_time_s=max(0, event.at - start) if start is not None else None,
            failed=failed, failed_by=following.action if failed and following else None,
            restored_after_s=_restore_time(events, last + 1, step.at) if failed else None,
            stopped_at_percent=step.canary_percent if failed else None))
    return found


def dora_keys(model: str, environment: str, events: Sequence[ModelEvent],
              lead_starts: Mapping[str, int], *, since: int | None, until: int) -> DoraKeys:
    """The four keys over the events in ``[since, until]`` (``events`` oldest first).

    Events before ``since`` still decide whether a deployment inside the window failed
    and when it was restored only if they come after it, so the window cuts cleanly.
    """
    ordered = sorted(events, key=lambda e: e.at)  # stable: same-second events keep order
    inside = [d for d in deployments_of(ordered, lead_starts)
              if (since is None or d.at >= since) and d.at <= until]
    start = since if since is not None else (inside[0].at if inside else None)
    window = max(MIN_WINDOW_S, until - start) if start is not None else MIN_WINDOW_S
    leads = [float(d.lead_time_s) for d in inside if d.lead_time_s is not None]
    failures = [d for d in inside if d.failed]
    restores = [float(d.restored_after_s) for d in failures if d.restored_after_s is not None]
    return DoraKeys(
        model=model, environment=environment, deployments=len(inside),
        deployment_frequency_per_week=round(len(inside) * WEEK_S / window, 3),
        lead_time_median_s=median(leads), lead_time_p90_s=percentile(leads, 90),
        change_failure_rate=round(len(failures) / len(inside), 4) if inside else None,
        time_to_restore_median_s=median(restores), failures=len(failures),
        open_failures=len(failures) - len(restores),
        canary_stops=sum(1 for d in failures if d.stopped_at_percent is not None),
        window_start=start, window_end=until,
        history=tuple(inside))
