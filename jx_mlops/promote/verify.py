"""`jx-mlops verify --env ENV`: production checks of the versions running there, and what
to do when they fail.

Each check is a PromQL query whose value must stay within bounds (``verify:`` of the
environment in mlops.yaml). A run has one of three outcomes, as an Argo Rollouts analysis:
*pass*, *fail* (a value outside its bounds) or *inconclusive* (no usable value: Prometheus
unreachable, a query error, no sample, several series, NaN). The outcome is recorded on
the deployment (``environments.verification``). Within the window after a promotion, a
failure acts as the environment says: ``rollback`` holds the failed version and rolls
back, at once and without waiting for approvals, to the last version that passed
verification there (else the previous one); ``hold`` only holds it; ``report`` only
reports. The hold comes first, so a run killed in between is completed by the next one.
An inconclusive run never rolls back: ``inconclusive_limit`` of them in a row act as
``on_inconclusive`` says (``report``, or ``hold``). An environment with no Prometheus URL
(neither ``verify.prometheus`` nor ``JX_MLOPS_PROMETHEUS_URL``) is *unconfigured*: its
checks are shown "not run", and nothing is recorded, counted or done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from string import Template
from typing import Any

from jx_mlops import prometheus
from jx_mlops.config.project import CONFIG_FILE, EnvironmentConfig, ProjectConfig, parse_config
from jx_mlops.config.verify import PROMETHEUS_ENV, VerifyConfig, prometheus_url
from jx_mlops.environments.history import LANDING_ACTIONS, HistoryEvent, iso
from jx_mlops.environments.records import Hold
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.environments.verification import VerificationRecord, deployment_event
from jx_mlops.errors import ConfigError, JxMlopsError
from jx_mlops.forge.base import Forge
from jx_mlops.git.process import run_git
from jx_mlops.promote.actions import project_context, run_rollback, run_step
from jx_mlops.promote.holds import set_hold
from jx_mlops.promote.landing import require_writer
from jx_mlops.promote.promotion import PromotionContext
from jx_mlops.promote.score_reference import PLACEHOLDER, score_reference
from jx_mlops.promote.stage_tags import assign_stage
from jx_mlops.registry.registration import model_name
from jx_mlops.registry.tags import find_version


@dataclass(frozen=True)
class ModelVerification:
    """One model's checks in one environment, and what was done about them."""

    environment: str
    model: str
    version: str
    outcome: str  # pass | fail | inconclusive | unconfigured (no Prometheus URL: not run)
    checks: tuple[CheckOutcome, ...]
    in_window: bool
    action: str = "none"  # none | rollback | hold | report
    rolled_back_to: str | None = None
    rollback_pull: int | None = None
    hold_pull: int | None = None
    inconclusive_streak: int = 0  # this run included
    inconclusive_limit: int = 0
    dry_run: bool = False  # ``action`` is what a real run would do; nothing was done
    error: str = ""  # why the action could not be completed (the checks were recorded)
    canary_percent: int | None = None  # a canary step: its traffic share
    stable_version: str | None = None
    advanced_to: int | None = None  # the next step asked for (100: the whole traffic)
    step_pull: int | None = None
    step_merged: bool = False

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def cause(self) -> str:
        bad = [c for c in self.checks if c.outcome == self.outcome]
        return "; ".join(f"check {c.name}: {c.query} = {c.reason}" for c in bad)

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "model": self.model,
                "version": self.version, "outcome": self.outcome, "passed": self.passed,
                "in_window": self.in_window, "action": self.action,
                "dry_run": self.dry_run, "error": self.error or None,
                "rolled_back_to": self.rolled_back_to,
                "rollback_pull_request": self.rollback_pull,
                "hold_pull_request": self.hold_pull,
                "inconclusive_streak": self.inconclusive_streak,
                "inconclusive_limit": self.inconclusive_limit,
                "canary_percent": self.canary_percent, "stable_version": self.stable_version,
                "advanced_to": self.advanced_to, "step_pull_request": self.step_pull,
                "step_merged": self.step_merged,
                "checks": [c.to_json() for c in self.checks]}


def run_checks(verify: VerifyConfig, url: str | None, *, model: str, version: str,
               environment: str, stable_version: str | None = None,
               reference: Callable[[], tuple[str | None, str]] | None = None
               ) -> tuple[CheckOutcome, ...]:
    """Every check of ``verify`` now, with ``${model}``-style names filled in
    (``${stable_version}``: the stable beside a canary, else the version itself;
    ``${score_reference}``: what ``reference()`` gives, asked once, or the check is
    inconclusive with its reason). ``url`` None: every check is "not run"."""
    names = {"model": model, "version": version, "environment": environment,
             "stable_version": stable_version or version}
    outcomes = []
    scores: tuple[str | None, str] | None = None
    for check in verify.checks:
        promql = Template(check.query).safe_substitute(names)  # as shown
        if url is None:
            outcomes.append(CheckOutcome(check.name, promql, None, check.min, check.max,
                                         "not run", "no Prometheus URL"))
            continue
        if PLACEHOLDER in promql:
            scores = scores or (reference() if reference else (None, "no registry here"))
            if scores[0] is None:
                outcomes.append(judge(check.name, promql, check.min, check.max, None,
                                      f"no evaluation-time scores: {scores[1]}"))
                continue
            answer = prometheus.query(url, promql.replace(PLACEHOLDER, scores[0]))
        else:
            answer = prometheus.query(url, promql)
        outcomes.append(judge(check.name, promql, check.min, check.max, answer.value,
                              answer.reason))
    return tuple(outcomes)


@dataclass(frozen=True)
class _Deployment:
    version: str
    event: HistoryEvent
    earlier: tuple[tuple[HistoryEvent, VerificationRecord | None], ...]
    canary_percent: int | None = None
    stable_version: str | None = None


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
    stable = record.rollout.get("stable_version")
    return _Deployment(record.version, event, earlier, record.canary_percent,
                       stable if isinstance(stable, str) else None)


def _record(env_repo: EnvironmentRepo, event: HistoryEvent, *, outcome: str,
            checks: tuple[CheckOutcome, ...], now: int, save: bool) -> VerificationRecord:
    # From the notes fetched when the command began: a run saving meanwhile makes the push
    # fail, and the notes are then fetched and merged before this record is pushed again.
    record = env_repo.verification(event) or VerificationRecord(event.version)
    last = {"at": now, "passed": outcome == "pass", "outcome": outcome,
            "checks": [c.to_json() for c in checks]}
    record = record.after(outcome=outcome, at=now, last=last)
    if save:
        env_repo.save_verification(event, record)
    return record


def worst(outcomes: Iterable[str]) -> str:
    """fail if one is a failure, else inconclusive if one is, else pass (none: pass)."""
    seen = set(outcomes)
    return "fail" if "fail" in seen else "inconclusive" if "inconclusive" in seen else "pass"


def last_verified(deployment: _Deployment) -> str | None:
    """The newest other version that passed verification here and never failed."""
    for event, record in deployment.earlier:
        if event.version != deployment.version and record is not None and record.verified:
            return event.version
    return None


def _act(config: ProjectConfig, ctx: PromotionContext, env: EnvironmentConfig,
         verify: VerifyConfig, result: ModelVerification, deployment: _Deployment
         ) -> ModelVerification:
    if result.outcome == "inconclusive":
        if result.inconclusive_streak < verify.inconclusive_limit:
            return result
        if verify.on_inconclusive == "report" or result.dry_run:
            return _with(result, action=verify.on_inconclusive)
        cause = (f"verification inconclusive {result.inconclusive_streak} times in a row: "
                 f"{result.cause}")
        hold = set_hold(ctx.forge, env, result.model, result.version, held=True,
                        reason=cause, env_repo=ctx.environment_repo(env))
        return _with(result, action="hold", hold_pull=hold.pull_request)
    on_failure = verify.on_failure
    back_to = last_verified(deployment)
    if deployment.canary_percent is not None and on_failure != "report":
        # A failing canary step is removed: its stable takes the whole traffic again.
        on_failure, back_to = "rollback", deployment.stable_version
    if on_failure == "report":
        return _with(result, action="report")
    if result.dry_run:
        return _with(result, action=on_failure,
                     rolled_back_to=back_to if on_failure == "rollback" else None)
    cause = f"verification failed: {result.cause}"
    if on_failure == "hold":
        hold = set_hold(ctx.forge, env, result.model, result.version, held=True,
                        reason=cause, env_repo=ctx.environment_repo(env))
        return _with(result, action="hold", hold_pull=hold.pull_request)
    # One commit removes the version (or the canary) and holds it: nothing in between.
    held = Hold(result.model, env.name, result.version, cause,
                require_writer(ctx.forge, env, f"hold in {env.name}"), iso(time.time()))
    try:
        back = run_rollback(ctx, config, result.model, env, to=back_to, hold=held,
                            reason=f"emergency rollback: {cause}; {result.version} held",
                            emergency=True)
    except JxMlopsError:  # the rollback cannot land (a gate): the hold alone, its own PR
        set_hold(ctx.forge, env, result.model, result.version, held=True, reason=cause,
                 env_repo=ctx.environment_repo(env))
        raise
    number = back.pull.number if back.pull else None
    return _with(result, action="rollback", rolled_back_to=back.version,
                 rollback_pull=number, hold_pull=number)


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


def _advance(config: ProjectConfig, ctx: PromotionContext, env: EnvironmentConfig,
             result: ModelVerification, record: VerificationRecord) -> ModelVerification:
    """A passing canary step: the next step once this one has held for ``step_after``."""
    assert env.rollout is not None and result.canary_percent is not None
    held = (record.last_passed_at or 0) - (record.first_passed_at or 0)
    if held < env.rollout.step_after:
        return result
    step = env.rollout.next_step(result.canary_percent)
    if result.dry_run:
        return _with(result, advanced_to=step)
    try:
        landed = run_step(ctx, config, result.model, env, result.version, step)
    except JxMlopsError as exc:  # a freeze, a closed gate: said, and tried again next run
        return _with(result, advanced_to=step, error=str(exc))
    return _with(result, advanced_to=step, step_merged=landed.merged,
                 step_pull=landed.pull.number if landed.pull else None)


def verify_model(config: ProjectConfig, ctx: PromotionContext, env: EnvironmentConfig,
                 model: str, now: int, *, dry_run: bool = False) -> ModelVerification | None:
    """Check ``model`` in ``env`` (None: nothing of it serves there). With ``dry_run``
    nothing is recorded or done: ``action`` says what a real run would do."""
    assert env.verify is not None
    env_repo = ctx.environment_repo(env, verification=True)
    deployment = _running(env_repo, env, model)
    if deployment is None:
        return None
    url = prometheus_url(env.verify)
    checks = run_checks(env.verify, url, model=model, version=deployment.version,
                        environment=env.name, stable_version=deployment.stable_version,
                        reference=lambda: score_reference(config, ctx.registry, model,
                                                          deployment.version))
    if url is None:  # not configured: nothing recorded, counted or done
        return ModelVerification(env.name, model, deployment.version, "unconfigured",
                                 checks, in_window=False, dry_run=dry_run,
                                 canary_percent=deployment.canary_percent,
                                 stable_version=deployment.stable_version)
    outcome = worst(c.outcome for c in checks)
    record = _record(env_repo, deployment.event, outcome=outcome, checks=checks, now=now,
                     save=not dry_run)
    # A canary step is verified until it completes, however long it took to get there.
    in_window = now - deployment.event.timestamp <= env.verify.within or \
        deployment.canary_percent is not None
    result = ModelVerification(env.name, model, deployment.version, outcome, checks,
                               in_window, inconclusive_streak=record.inconclusive_streak,
                               inconclusive_limit=env.verify.inconclusive_limit,
                               dry_run=dry_run, canary_percent=deployment.canary_percent,
                               stable_version=deployment.stable_version)
    if outcome == "pass" and deployment.canary_percent is not None:
        return _advance(config, ctx, env, result, record)
    if outcome == "pass" or (outcome == "fail" and not in_window):
        if not dry_run:
            sync_stage(config, ctx, env, model, deployment.version)
        return result
    try:
        return _act(config, ctx, env, env.verify, result, deployment)
    except JxMlopsError as exc:  # the checks are still shown and recorded
        return _with(result, action="error", error=str(exc))


def unconfigured_note(environment: str) -> str:
    """The one line saying how to give an environment's checks a Prometheus."""
    return (f"note: {environment} has no Prometheus URL, so its checks did not run: set "
            f"{PROMETHEUS_ENV} (a CI variable or secret) or verify.prometheus in "
            f"{CONFIG_FILE} (docs/operations.md)")


def committed_config(config: ProjectConfig) -> tuple[ProjectConfig, str]:
    """mlops.yaml as committed (HEAD), and a note when the work tree's differs: verify acts
    on production, so an edit nobody committed (or reviewed) never steers it."""
    shown = run_git(["show", f"HEAD:./{CONFIG_FILE}"], cwd=config.root)
    if shown.status != 0:
        return config, (f"note: {CONFIG_FILE} is not committed here; verify reads the work "
                        "tree's")
    text = shown.text
    try:
        current = config.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current == text:
        return config, ""
    return parse_config(text, config.path), (
        f"note: {CONFIG_FILE} has uncommitted changes; verify reads it as committed (HEAD) "
        "and ignores them")


def verify_environment(config: ProjectConfig, environment: str, *, model: str | None = None,
                       forge: Forge | None = None, now: float | None = None,
                       dry_run: bool = False) -> list[ModelVerification]:
    """`jx-mlops verify --env ENV [--model M]`: every model of the project running there."""
    env = config.environment(environment)
    if env.verify is None:
        raise ConfigError(f"{config.path.name}: environments: {env.name} has no verify: block "
                          "(the checks to run; see docs/operations.md)")
    prometheus_url(env.verify)  # a bad JX_MLOPS_PROMETHEUS_URL: said before anything
    models = [config.model(model).name] if model else [m.name for m in config.models]
    at = int(now if now is not None else time.time())
    with project_context(config, forge) as ctx:  # its environment repository, read once
        found = [verify_model(config, ctx, env, name, at, dry_run=dry_run)
                 for name in models]
    return [f for f in found if f is not None]


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict, with the sentence an on-call engineer reads."""

    name: str
    query: str
    value: float | None
    min: float | None
    max: float | None
    outcome: str  # pass | fail | inconclusive (no usable value: says nothing of the model)
    # | not run (no Prometheus URL)
    reason: str

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "value": self.value,
                "min": self.min, "max": self.max, "outcome": self.outcome,
                "passed": self.passed, "reason": self.reason}


def bounds_text(low: float | None, high: float | None) -> str:
    parts = [f"min {low:g}" if low is not None else "", f"max {high:g}" if high is not None
             else ""]
    return ", ".join(p for p in parts if p)


def judge(name: str, query: str, low: float | None, high: float | None,
          value: float | None, failure: str = "") -> CheckOutcome:
    """The verdict of one check whose query gave ``value`` (None: ``failure`` says why, and
    the check is inconclusive)."""
    bounds = bounds_text(low, high)
    if value is None:
        return CheckOutcome(name, query, None, low, high, "inconclusive",
                            f"{failure or 'no value'} ({bounds})")
    inside = (low is None or value >= low) and (high is None or value <= high)
    reason = f"{value:g} {'within' if inside else 'outside'} {bounds}"
    return CheckOutcome(name, query, value, low, high, "pass" if inside else "fail", reason)
