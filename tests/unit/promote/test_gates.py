"""Promotion gates: their pure evaluation (through the CLI: tests/test_gates.py)."""

from __future__ import annotations

import pytest

from jx_mlops.config.project import EnvironmentConfig, FairnessLimit, MetricGate
from jx_mlops.promote.gates import (
    Approvals,
    EvaluationState,
    GateInputs,
    RequiredState,
    evaluate_gates,
    format_duration,
    overall,
    tally_approvals,
)

HOUR = 3600.0


METRICS = {"metrics.json": {"accuracy": 0.91, "fairness.dpd": -0.04, "name": "x"}}


def gates(env: EnvironmentConfig, *, required: RequiredState | None = None,
          approvals: tuple[str, ...] = (), action: str = "promote",
          metrics: dict = METRICS) -> list[tuple[str, str, str]]:
    inputs = GateInputs(env=env, action=action, version="v1.0.0",  # type: ignore[arg-type]
                        metrics=metrics, required=required,
                        approvals=Approvals(approvals), now=100 * HOUR)
    return [(g.gate, g.status, g.detail) for g in evaluate_gates(inputs)]


@pytest.mark.parametrize(("fact", "expected"), [
    (EvaluationState(4, "success", "pass: 5 improved"),
     ("pass", "PR #4 passed its evaluation: pass: 5 improved")),
    (EvaluationState(4, "failure", "training failed: stage train failed"),
     ("fail", "PR #4 failed (failure: training failed: stage train failed)")),
    (EvaluationState(4, "pending", "main moved to abc1234: re-run"),
     ("fail", "PR #4 was merged unevaluated (pending: main moved to abc1234: re-run)")),
    (EvaluationState(4), ("pass", "PR #4 reported no evaluation")),
    # Retargeted after its check (issue 20): a status is per commit, not per base.
    (EvaluationState(4, "success", "pass: 5 improved (base: release)", "release"),
     ("fail", "PR #4 was evaluated against release, not the branch it merged into "
              "(success: pass: 5 improved (base: release))")),
    (EvaluationState(None), ("pass", "v1.0.0 was not merged from a pull request: no "
                                     "evaluation to respect")),
])
def test_evaluation_gate_respects_the_source_pull_request(fact: EvaluationState,
                                                          expected: tuple[str, str]) -> None:
    env = EnvironmentConfig("production", "o/p", "auto")
    inputs = GateInputs(env=env, action="promote", version="v1.0.0", metrics={}, required=None,
                        approvals=Approvals(), now=0, evaluation=fact)
    assert [(g.gate, g.status, g.detail) for g in evaluate_gates(inputs)] == [
        ("evaluation", *expected)]
    rollback = GateInputs(env=env, action="rollback", version="v1.0.0", metrics={},
                          required=None, approvals=Approvals(), now=0, evaluation=fact)
    assert evaluate_gates(rollback) == ()  # it ran here before


def test_previous_environment_and_soak() -> None:
    env = EnvironmentConfig("production", "o/p", "auto", requires="staging", soak=int(24 * HOUR))
    assert gates(env, required=RequiredState("staging", "v0.9.0")) == [
        ("previous environment", "fail",
         "v1.0.0 never ran in staging (staging runs v0.9.0); promote it there first")]
    running = RequiredState("staging", "v1.0.0", served_from=90 * HOUR)
    assert gates(env, required=running) == [
        ("previous environment", "pass", "v1.0.0 runs in staging"),
        ("soak", "pending", "10h in staging of 1d; ready in 14h")]
    soaked = RequiredState("staging", "v1.0.0", served_from=70 * HOUR)
    assert [s for _g, s, _d in gates(env, required=soaked)] == ["pass", "pass"]
    replaced_early = RequiredState("staging", "v1.1.0", served_from=70 * HOUR,
                                   served_until=71 * HOUR)
    assert gates(env, required=replaced_early)[1] == (
        "soak", "fail", "ran only 1h in staging (needs 1d)")
    # A rollback re-deploys a version that already ran here: ordering gates do not apply.
    assert gates(env, required=None, action="rollback") == []


def test_metric_floors_and_fairness_limits() -> None:
    env = EnvironmentConfig(
        "staging", "o/s", metric_gates=(MetricGate("accuracy", min=0.9),
                                        MetricGate("metrics.json:name", min=1),
                                        MetricGate("recall", min=0.5)),
        fairness=(FairnessLimit("fairness.dpd", 0.05), FairnessLimit("fairness.eod", 0.1)))
    assert gates(env) == [
        ("metric accuracy", "pass", "accuracy = 0.91 (min 0.9)"),
        ("metric metrics.json:name", "fail", "metrics.json:name is 'x', not a number (min 1)"),
        ("metric recall", "fail", "recall is not reported (min 0.5)"),
        ("fairness fairness.dpd", "pass", "|fairness.dpd| = 0.04 (within limit 0.05)"),
        ("fairness fairness.eod", "fail",
         "fairness.eod is not reported (limit |x| <= 0.1)"),
    ]
    assert gates(env, action="disable") == []


def test_approvals_are_tallied_like_prow() -> None:
    comments = [("author", "/approve"), ("reader", "/approve"), ("bob", "LGTM\n/approve"),
                ("carol", "/approve"), ("carol", "/APPROVE cancel"), ("dave", "/approve now")]
    perms = {"author": "admin", "reader": "read", "bob": "write", "carol": "maintain"}
    tally = tally_approvals(comments, "author", perms)
    assert tally.approved_by == ("bob",)
    assert dict(tally.ignored) == {"author": "requested this promotion and cannot approve it",
                                   "reader": "has read permission, needs write"}
    assert tally_approvals(comments, "author", perms, ("carol",)).approved_by == ()
    env = EnvironmentConfig("production", "o/p", "manual", approvals=2)
    assert gates(env, approvals=("bob",)) == [
        ("approvals", "pending", "1/2 approvals by bob; a writer other than the requester "
                                 "comments /approve")]
    assert overall(evaluate_gates(GateInputs(env, "promote", "v1", {}, None,
                                             Approvals(("a", "b")), 0))) == "pass"


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 59, 3600, 90061, 86400 * 3)] == [
        "0s", "59s", "1h", "1d 1h", "3d"]


def test_the_requester_is_read_from_the_body_only_of_a_pull_request_jx_mlops_opened() -> None:
    """On GitHub the promotion PR's author is the bot: the requester is in the body."""
    from jx_mlops.forge.base import PullRequest
    from jx_mlops.promote.pullbody import REQUESTER_MARKER, requester_of

    body = f"Promotes churn.\n\n{REQUESTER_MARKER.format(login='wendy')}\n"
    pull = PullRequest(1, "t", body, "main", "promote/x", "a" * 40, "open", False,
                       "github-actions[bot]", "", "", "")
    assert requester_of(pull, "github-actions[bot]") == requester_of(pull, "wendy") == "wendy"
    # A person's PR body says what its author wants: the author is the requester.
    mallory = pull.__class__(**{**pull.__dict__, "author": "mallory"})
    assert requester_of(mallory, "tester") == "mallory"
    assert requester_of(mallory, "mallory") == "wendy"  # the local forge's poster opened it
    assert requester_of(pull.__class__(**{**pull.__dict__, "body": ""}),
                        "github-actions[bot]") == "github-actions[bot]"
