"""Promotion gates of an environment (pure logic: facts in, results out).

Each gate passes, fails, or is pending (it will pass with time or approvals):

- ``previous environment``: the version runs (or ran) in the environment named by
  ``requires``; ``soak`` adds how long it must have run there;
- ``metric NAME``: the version's metric respects this environment's floor/ceiling;
- ``fairness NAME``: the absolute value of a fairness metric (a gap between groups) is
  within this environment's limit;
- ``approvals``: a manual environment's promotion PR has enough ``/approve`` comments;
- ``against deployed`` (environments after the first): the version compares no worse
  than the one deployed there, under the model's metric policies (the verdict its
  promotion PR shows);
- ``window``: outside every window of ``windows:`` (config.windows) the change is
  pending, saying when the next window opens;
- ``signature``: the exact copy to deploy matches its signature; an unsigned version
  (registered before signing existed) fails where ``gates.signature`` is required (by
  default every environment after the first);
- ``oci artifact``: a version pushed to an OCI registry (mlops.yaml ``registry.oci``) is
  there as its tag records it: the manifest by its digest, every layer's bytes;
- ``evaluation`` (environments after the first): the pull request the version was merged
  from passed its evaluation (a version pushed to the default branch without one passes,
  saying so).

Rollbacks skip the ordering gates (the version ran here before); disabling skips all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jx_mlops.config.project import EnvironmentConfig, FairnessLimit, MetricGate

GateStatus = Literal["pass", "fail", "pending"]
Action = Literal["promote", "rollback", "disable"]


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict, with the sentence a reviewer reads."""

    gate: str
    status: GateStatus
    detail: str


@dataclass(frozen=True)
class RequiredState:
    """What the required previous environment knows of the version being promoted.

    ``served_from`` is when it started running there (None: never); ``served_until``
    when it stopped (None: still running).
    """

    environment: str
    current_version: str | None
    served_from: float | None = None
    served_until: float | None = None
    # When that environment is verified (verify: in mlops.yaml), soak counts verified
    # time: from the first passing verification to the last, and a failure stops it.
    verified: bool = False
    verified_from: float | None = None
    verified_until: float | None = None
    verification_failed: bool = False


@dataclass(frozen=True)
class Approvals:
    """``/approve`` comments that count, and the ones that did not, with why."""

    approved_by: tuple[str, ...] = ()
    ignored: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EvaluationState:
    """The evaluation status of the pull request a version was merged from."""

    pull: int | None
    state: str | None = None  # success, failure, pending, error; None: never reported
    description: str = ""
    # The branch the status was computed against, when not the one the PR merged into.
    other_base: str | None = None


@dataclass(frozen=True)
class DeployedComparison:
    """The version against the one deployed in the environment, under the model's policy:
    the verdict the promotion PR's body shows."""

    deployed: str
    passed: bool
    line: str


@dataclass(frozen=True)
class SignatureState:
    """Verifying the published copy a promotion deploys: verified, failed or unsigned."""

    status: Literal["verified", "failed", "unsigned"]
    detail: str
    required: bool


@dataclass(frozen=True)
class OciState:
    """Resolving the OCI artifact a promotion deploys by digest, against the tag."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class GateInputs:
    """Everything the gates of one promotion look at."""

    env: EnvironmentConfig
    action: Action
    version: str
    metrics: Mapping[str, Mapping[str, Any]]
    required: RequiredState | None
    approvals: Approvals
    now: float
    evaluation: EvaluationState | None = None  # None: the gate does not apply here
    against_deployed: DeployedComparison | None = None  # None: nothing to compare with
    signature: SignatureState | None = None  # None: the gate does not apply
    oci: OciState | None = None  # None: not pushed to an OCI registry (or disabling)


def format_duration(seconds: float) -> str:
    """'2d 3h', '45m', '30s': the two largest units."""
    seconds = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


def lookup_metric(metrics: Mapping[str, Mapping[str, Any]], name: str) -> tuple[bool, Any]:
    """(found, value) of ``name`` (``key`` in any metrics file, or ``FILE:key``)."""
    path, sep, key = name.rpartition(":")
    if sep and path in metrics:
        values = metrics[path]
        return (key in values, values.get(key))
    for values in metrics.values():
        if name in values:
            return True, values[name]
    return False, None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _metric_gate(gate: MetricGate, metrics: Mapping[str, Mapping[str, Any]]) -> GateResult:
    name = f"metric {gate.metric}"
    found, value = lookup_metric(metrics, gate.metric)
    bounds = ", ".join(b for b in (f"min {gate.min:g}" if gate.min is not None else "",
                                   f"max {gate.max:g}" if gate.max is not None else "") if b)
    if not found:
        return GateResult(name, "fail", f"{gate.metric} is not reported ({bounds})")
    if not _is_number(value):
        return GateResult(name, "fail", f"{gate.metric} is {value!r}, not a number ({bounds})")
    if (gate.min is not None and value < gate.min) or (gate.max is not None and value > gate.max):
        return GateResult(name, "fail", f"{gate.metric} = {value:g}, outside {bounds}")
    return GateResult(name, "pass", f"{gate.metric} = {value:g} ({bounds})")


def _fairness_gate(limit: FairnessLimit, metrics: Mapping[str, Mapping[str, Any]]) -> GateResult:
    name = f"fairness {limit.metric}"
    found, value = lookup_metric(metrics, limit.metric)
    if not found or not _is_number(value):
        shown = "is not reported" if not found else f"is {value!r}, not a number"
        return GateResult(name, "fail", f"{limit.metric} {shown} (limit |x| <= {limit.limit:g})")
    status: GateStatus = "pass" if abs(value) <= limit.limit else "fail"
    return GateResult(name, status, f"|{limit.metric}| = {abs(value):g} "
                                    f"({'within' if status == 'pass' else 'over'} limit "
                                    f"{limit.limit:g})")


def _previous_gate(inputs: GateInputs) -> list[GateResult]:
    env, required = inputs.env, inputs.required
    if env.requires is None:
        return []
    name = "previous environment"
    if required is None or required.served_from is None:
        now = required.current_version if required else None
        runs = f"{env.requires} runs {now}" if now else f"nothing runs in {env.requires}"
        return [GateResult(name, "fail", f"{inputs.version} never ran in {env.requires} "
                                         f"({runs}); promote it there first")]
    where = "runs" if required.served_until is None else "ran"
    results = [GateResult(name, "pass", f"{inputs.version} {where} in {env.requires}")]
    if env.soak and required.verified:
        results.append(_verified_soak(inputs, required))
    elif env.soak:
        until = required.served_until if required.served_until is not None else inputs.now
        soaked = until - required.served_from
        if soaked >= env.soak:
            results.append(GateResult("soak", "pass", f"{format_duration(soaked)} in "
                                      f"{env.requires} (needs {format_duration(env.soak)})"))
        elif required.served_until is None:
            left = env.soak - soaked
            results.append(GateResult("soak", "pending", f"{format_duration(soaked)} in "
                                      f"{env.requires} of {format_duration(env.soak)}; ready "
                                      f"in {format_duration(left)}"))
        else:
            results.append(GateResult("soak", "fail", f"ran only {format_duration(soaked)} "
                                      f"in {env.requires} (needs {format_duration(env.soak)})"))
    return results


def _verified_soak(inputs: GateInputs, required: RequiredState) -> GateResult:
    """The soak gate when the previous environment is verified: healthy time counts."""
    env, where = inputs.env, required.environment
    need = format_duration(env.soak)
    if required.verification_failed:
        return GateResult("soak", "fail", f"{inputs.version} failed verification in {where}")
    if required.verified_from is None or required.verified_until is None:
        status: GateStatus = "pending" if required.served_until is None else "fail"
        return GateResult("soak", status, f"{inputs.version} not verified in {where} yet "
                                          f"(needs {need} of verified time)")
    soaked = required.verified_until - required.verified_from
    if soaked >= env.soak:
        return GateResult("soak", "pass", f"verified for {format_duration(soaked)} in "
                                          f"{where} (needs {need})")
    status = "pending" if required.served_until is None else "fail"
    return GateResult("soak", status, f"verified for {format_duration(soaked)} in {where} "
                                      f"of {need}")


def _approval_gate(inputs: GateInputs) -> list[GateResult]:
    needed = inputs.env.approvals
    if inputs.env.strategy != "manual" or needed == 0:
        return []
    got = inputs.approvals.approved_by
    who = f" by {', '.join(got)}" if got else ""
    if len(got) >= needed:
        return [GateResult("approvals", "pass", f"{len(got)}/{needed} approvals{who}")]
    return [GateResult("approvals", "pending", f"{len(got)}/{needed} approvals{who}; "
                       "a writer other than the requester comments /approve")]


def _evaluation_gate(inputs: GateInputs) -> list[GateResult]:
    fact = inputs.evaluation
    if fact is None or inputs.action != "promote":
        return []
    if fact.pull is None:
        return [GateResult("evaluation", "pass", f"{inputs.version} was not merged from a "
                           "pull request: no evaluation to respect")]
    where = f"PR #{fact.pull}"
    if fact.state is None:
        return [GateResult("evaluation", "pass", f"{where} reported no evaluation")]
    why = f": {fact.description}" if fact.description else ""
    if fact.other_base is not None:
        return [GateResult("evaluation", "fail", f"{where} was evaluated against "
                           f"{fact.other_base}, not the branch it merged into ({fact.state}"
                           f"{why})")]
    if fact.state == "success":
        return [GateResult("evaluation", "pass", f"{where} passed its evaluation{why}")]
    shown = "failed" if fact.state in ("failure", "error") else "was merged unevaluated"
    return [GateResult("evaluation", "fail", f"{where} {shown} ({fact.state}{why})")]


def _deployed_gate(inputs: GateInputs) -> list[GateResult]:
    fact = inputs.against_deployed
    if fact is None or inputs.action != "promote":
        return []
    verdict = fact.line if len(fact.line) <= 160 else fact.line[:159] + "…"
    status: GateStatus = "pass" if fact.passed else "fail"
    return [GateResult("against deployed", status,
                       f"{inputs.version} against {fact.deployed} (deployed here): {verdict}")]


def _signature_gate(inputs: GateInputs) -> list[GateResult]:
    fact = inputs.signature
    if fact is None or (fact.status == "unsigned" and not fact.required):
        return []
    if fact.status == "verified":
        return [GateResult("signature", "pass", fact.detail)]
    if fact.status == "unsigned":
        return [GateResult("signature", "fail", f"{inputs.version} is unsigned (registered "
                           f"before signing, or without a key) and {inputs.env.name} "
                           "requires a signature")]
    return [GateResult("signature", "fail", fact.detail)]


def _oci_gate(inputs: GateInputs) -> list[GateResult]:
    fact = inputs.oci
    if fact is None:
        return []
    return [GateResult("oci artifact", "pass" if fact.ok else "fail", fact.detail)]


def _window_gate(inputs: GateInputs) -> list[GateResult]:
    """Outside every window of the environment the change waits for the next one."""
    windows = inputs.env.windows
    if not windows:
        return []
    at = datetime.fromtimestamp(inputs.now, timezone.utc)
    spans = "; ".join(w.describe() for w in windows)
    first = min(windows, key=lambda w: w.next_open(at))
    opens = first.next_open(at)
    if opens <= at:
        return [GateResult("window", "pass", f"inside {spans}")]
    local = opens.astimezone(ZoneInfo(first.zone))
    return [GateResult("window", "pending",
                       f"outside {spans}: waits until {local:%a %Y-%m-%d %H:%M %Z} "
                       f"({opens:%Y-%m-%dT%H:%M}Z)")]


def evaluate_gates(inputs: GateInputs) -> tuple[GateResult, ...]:
    """Every gate of ``inputs.env`` for this promotion, in a stable order."""
    if inputs.action == "disable":
        return ()
    results: list[GateResult] = _signature_gate(inputs) + _oci_gate(inputs)
    if inputs.action == "promote":
        results += _previous_gate(inputs)
        results += _evaluation_gate(inputs)
        results += _deployed_gate(inputs)
    results += [_metric_gate(g, inputs.metrics) for g in inputs.env.metric_gates]
    results += [_fairness_gate(f, inputs.metrics) for f in inputs.env.fairness]
    results += _approval_gate(inputs)
    results += _window_gate(inputs)
    return tuple(results)


def overall(results: tuple[GateResult, ...]) -> GateStatus:
    """fail if any gate fails, else pending if any is pending, else pass."""
    statuses = {r.status for r in results}
    if "fail" in statuses:
        return "fail"
    return "pending" if "pending" in statuses else "pass"


def _commands(body: str) -> list[str]:
    return [line.strip().lower() for line in body.splitlines()
            if line.strip().lower() in ("/approve", "/approve cancel")]


def tally_approvals(comments: list[tuple[str, str]], requester: str,
                    permissions: Mapping[str, str], approvers: tuple[str, ...] = ()
                    ) -> Approvals:
    """Who approved, from ``(login, body)`` comments in order (Prow's ``/approve``).

    An approval counts when its author may write to the environment repository, is not
    ``requester`` (who asked for the promotion: on GitHub the PR's author is a bot), and
    (when ``approvers`` is given) is listed there; ``/approve cancel`` withdraws it.
    """
    approved: dict[str, None] = {}
    ignored: dict[str, str] = {}
    for login, body in comments:
        for command in _commands(body):
            if command == "/approve cancel":
                approved.pop(login, None)
                continue
            if login == requester:
                ignored[login] = "requested this promotion and cannot approve it"
            elif permissions.get(login, "none") not in ("write", "maintain", "admin"):
                ignored[login] = f"has {permissions.get(login, 'none')} permission, " \
                                 "needs write"
            elif approvers and login not in approvers:
                ignored[login] = "not in the environment's approvers"
            else:
                approved[login] = None
                ignored.pop(login, None)
    return Approvals(tuple(approved), tuple(sorted(ignored.items())))


def commenters(comments: list[tuple[str, str]]) -> list[str]:
    """Logins whose comments carry an approval command (whose permission matters)."""
    return sorted({login for login, body in comments if _commands(body)})
