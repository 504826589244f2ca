"""`jx-mlops verify --env ENV`: production checks of the versions running there, and what
to do when they fail.

Each check is a PromQL query whose value must stay within bounds (``verify:`` of the
environment in mlops.yaml). The outcome is recorded on the deployment (see
``verifynotes``). Within the window after a promotion, a failure acts as the environment
says: ``rollback`` holds the failed version and rolls back, at once and without waiting
for approvals, to the last version that passed verification there (else the previous
one); ``hold`` only holds it; ``report`` only reports. The hold comes first, so a run
killed in between is completed by the next one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from string import Template
from typing import Any

from jx_mlops import prometheus
from jx_mlops.config.project import EnvironmentConfig, ProjectConfig
from jx_mlops.config.verify import VerifyConfig
from jx_mlops.environments.history import LANDING_ACTIONS, HistoryEvent
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.environments.verification import VerificationRecord, deployment_event
from jx_mlops.errors import ConfigError
from jx_mlops.forge.base import Forge
from jx_mlops.promote.actions import project_context, run_rollback
from jx_mlops.promote.holds import set_hold
from jx_mlops.promote.promotion import PromotionContext
from jx_mlops.promote.stage_tags import assign_stage
from jx_mlops.registry.registration import model_name
from jx_mlops.registry.tags import find_version


@dataclass(frozen=True)
class ModelVerification:
    """One model's checks in one environment, and what was done about them."""

    environment: str
    model: str
    version: str
    passed: bool
    checks: tuple[CheckOutcome, ...]
    in_window: bool
    action: str = "none"  # none | rollback | hold | report
    rolled_back_to: str | None = None
    rollback_pull: int | None = None
    hold_pull: int | None = None

    @property
    def cause(self) -> str:
        failed = [c for c in self.checks if not c.passed]
        return "; ".join(f"check {c.name}: {c.query} = {c.reason}" for c in failed)

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "model": self.model,
                "version": self.version, "passed": self.passed, "in_window": self.in_window,
                "action": self.action, "rolled_back_to": self.rolled_back_to,
                "rollback_pull_request": self.rollback_pull,
                "hold_pull_request": self.hold_pull,
                "checks": [c.to_json() for c in self.checks]}


def run_checks(verify: VerifyConfig, *, model: str, version: str, environment: str
               ) -> tuple[CheckOutcome, ...]:
    """Every check of ``verify`` now, with ``${model}``-style names filled in."""
    names = {"model": model, "version": version, "environment": environment}
    outcomes = []
    for check in verify.checks:
        promql = Template(check.query).safe_substitute(names)
        answer = prometheus.query(verify.prometheus, promql)
        outcomes.append(judge(check.name, promql, check.min, check.max, answer.value,
                              answer.reason))
    return tuple(outcomes)


@dataclass(frozen=True)
class _Deployment:
    version: str
    event: HistoryEvent
    earlier: tuple[tuple[HistoryEvent, VerificationRecord | None], ...]


def _running(env_repo: EnvironmentRepo, env: EnvironmentConfig, model: str
             ) -> _Deployment | None:
    record = env_repo.record(model, env.name)
    if record is None or not record.serving:
        return None
    events = env_repo.events(model=model, environment=env.name)
    event = deployment_event(events, record.version)
    if event is None:
        return None
    older = [e for e in events if e.timestamp <= event.timestamp and e is not event
             and e.action in LANDING_ACTIONS]
    earlier = tuple((e, env_repo.verification(e)) for e in older)
    return _Deployment(record.version, event, earlier)


def _record(env_repo: EnvironmentRepo, event: HistoryEvent, *, passed: bool,
            checks: tuple[CheckOutcome, ...], now: int) -> None:
    # From the notes fetched when the command began: a run saving meanwhile makes the push
    # fail, and the notes are then fetched and merged before this record is pushed again.
    record = env_repo.verification(event) or VerificationRecord(event.version)
    last = {"at": now, "passed": passed, "checks": [c.to_json() for c in checks]}
    env_repo.save_verification(event, record.after(passed=passed, at=now, last=last))


def last_verified(deployment: _Deployment) -> str | None:
    """The newest other version that passed verification here and never failed."""
    for event, record in deployment.earlier:
        if event.version != deployment.version and record is not None and record.verified:
            return event.version
    return None


def _act(config: ProjectConfig, ctx: PromotionContext, env: EnvironmentConfig,
         verify: VerifyConfig, result: ModelVerification, deployment: _Deployment
         ) -> ModelVerification:
    if verify.on_failure == "report":
        return _with(result, action="report")
    cause = f"verification failed: {result.cause}"
    hold = set_hold(ctx.forge, env, result.model, result.version, held=True, reason=cause,
                    env_repo=ctx.environment_repo(env))
    if verify.on_failure == "hold":
        return _with(result, action="hold", hold_pull=hold.pull_request)
    back = run_rollback(ctx, config, result.model, env, to=last_verified(deployment),
                        reason=f"emergency rollback: {cause}", emergency=True)
    return _with(result, action="rollback", rolled_back_to=back.version,
                 rollback_pull=back.pull.number if back.pull else None,
                 hold_pull=hold.pull_request)


def _with(result: ModelVerification, **changes: Any) -> ModelVerification:
    return replace(result, **changes)


def sync_stage(config: ProjectConfig, ctx: PromotionContext, env: EnvironmentConfig,
               model: str, version: str) -> None:
    """Make GTO's stage tag show the version the environment runs: a change killed between
    its merge and its stage tag left the tag behind, and a passing run has nothing to
    re-run that would write it."""
    registry = ctx.registry
    if not config.gto_stages or registry is None:
        return
    found = find_version(registry, model_name(config, registry, model), version)
    if found is not None:
        assign_stage(registry, found, env.name, git_env=ctx.forge.git_env(),
                     details={"environment": env.name, "action": "verify",
                              "environment_repo": env.repo})


def verify_model(config: ProjectConfig, ctx: PromotionContext, env: EnvironmentConfig,
                 model: str, now: int) -> ModelVerification | None:
    """Check ``model`` in ``env`` (None: nothing of it serves there)."""
    assert env.verify is not None
    env_repo = ctx.environment_repo(env, verification=True)
    deployment = _running(env_repo, env, model)
    if deployment is None:
        return None
    checks = run_checks(env.verify, model=model, version=deployment.version,
                        environment=env.name)
    passed = all(c.passed for c in checks)
    _record(env_repo, deployment.event, passed=passed, checks=checks, now=now)
    in_window = now - deployment.event.timestamp <= env.verify.within
    result = ModelVerification(env.name, model, deployment.version, passed, checks, in_window)
    if passed or not in_window:
        sync_stage(config, ctx, env, model, deployment.version)
        return result
    return _act(config, ctx, env, env.verify, result, deployment)


def verify_environment(config: ProjectConfig, environment: str, *, model: str | None = None,
                       forge: Forge | None = None, now: float | None = None
                       ) -> list[ModelVerification]:
    """`jx-mlops verify --env ENV [--model M]`: every model of the project running there."""
    env = config.environment(environment)
    if env.verify is None:
        raise ConfigError(f"{config.path.name}: environments: {env.name} has no verify: block "
                          "(the checks to run; see docs/operations.md)")
    models = [config.model(model).name] if model else [m.name for m in config.models]
    at = int(now if now is not None else time.time())
    with project_context(config, forge) as ctx:  # its environment repository, read once
        found = [verify_model(config, ctx, env, name, at) for name in models]
    return [f for f in found if f is not None]


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict, with the sentence an on-call engineer reads."""

    name: str
    query: str
    value: float | None
    min: float | None
    max: float | None
    passed: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "value": self.value,
                "min": self.min, "max": self.max, "passed": self.passed, "reason": self.reason}


def bounds_text(low: float | None, high: float | None) -> str:
    parts = [f"min {low:g}" if low is not None else "", f"max {high:g}" if high is not None
             else ""]
    return ", ".join(p for p in parts if p)


def judge(name: str, query: str, low: float | None, high: float | None,
          value: float | None, failure: str = "") -> CheckOutcome:
    """The verdict of one check whose query gave ``value`` (None: ``failure`` says why)."""
    bounds = bounds_text(low, high)
    if value is None:
        return CheckOutcome(name, query, None, low, high, False,
                            f"{failure or 'no value'} ({bounds})")
    inside = (low is None or value >= low) and (high is None or value <= high)
    reason = f"{value:g} {'within' if inside else 'outside'} {bounds}"
    return CheckOutcome(name, query, value, low, high, inside, reason)
