"""Canary steps (pure): which step a promotion lands at, with what as stable.

An environment with ``rollout:`` (config.rollout) takes a new version in steps: the first
promotion of it lands at the first step, with the version serving before kept as stable;
``verify`` asks for the next step once a step's checks have held for ``step_after``; the
last step (100) is a plain deployment. The step is kept in the deployment record
(``rollout``), so the manifests, ``status``, ``history`` and ``verify`` all read it there.
"""

from __future__ import annotations

from dataclasses import replace

from jx_mlops.config.project import EnvironmentConfig
from jx_mlops.environments.records import DeploymentRecord
from jx_mlops.promote.manifests import storage_uri


def stable_of(current: DeploymentRecord | None) -> tuple[str, str] | None:
    """(version, storage URI) that runs as stable beside a new version: the stable of a
    canary step in progress, else the serving version."""
    if current is None or not current.serving:
        return None
    if current.canary_percent is not None:
        version, uri = current.rollout.get("stable_version"), current.rollout.get("stable_uri")
        return (version, uri) if isinstance(version, str) and isinstance(uri, str) else None
    return current.version, storage_uri(current)


def canary_target(env: EnvironmentConfig, current: DeploymentRecord | None,
                  target: DeploymentRecord, step: int | None) -> DeploymentRecord:
    """``target`` at its canary step in ``env`` (``step``: the one verify asks for; None:
    the first, for a new version), or as it is (no rollout, nothing serving, a rollback)."""
    if env.rollout is None or target.action != "promote":
        return target
    stable = stable_of(current)
    if stable is None or stable[0] == target.version:
        return target
    if step is None and current is not None and current.version == target.version \
            and current.canary_percent is not None:
        step = current.canary_percent  # promoted again: stays where it is
    percent = env.rollout.steps[0] if step is None else step
    steps = ", ".join(f"{s}%" for s in env.rollout.steps)
    if percent >= 100:
        return replace(target, reason=target.reason or
                       f"canary complete: 100% (steps {steps}), replacing {stable[0]}")
    return replace(target, rollout={"percent": percent, "stable_version": stable[0],
                                    "stable_uri": stable[1]},
                   reason=target.reason or f"canary {percent}% (steps {steps}), "
                                           f"{stable[0]} stable")


def describe_step(record: DeploymentRecord) -> str:
    """``v0.0.2 at 50% (canary), v0.0.1 stable``, or the version alone."""
    if record.canary_percent is None:
        return record.version
    return (f"{record.version} at {record.canary_percent}% (canary), "
            f"{record.rollout.get('stable_version')} stable")


def canary_suffix(record: DeploymentRecord) -> str:
    """What tells a step's branch from the others': ``-canary-10`` (nothing at 100%)."""
    return "" if record.canary_percent is None else f"-canary-{record.canary_percent}"
