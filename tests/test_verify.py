"""Production verification against a real Prometheus: checks, emergency rollback, holds.

The Prometheus server (tests/kit/prometheus.py) scrapes an exporter whose values the
test sets, standing in for the model server's /metrics.
"""

from __future__ import annotations

import json

import pytest
from kit.cli import run
from kit.lab import make_lab
from kit.prometheus import PrometheusServer, running_prometheus
from kit.verify import VERIFIED_ENVIRONMENTS, release_version, set_error_ratio, verified_lab

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # a real Prometheus scraping, promotion stories

def test_failed_verification_holds_and_rolls_back(cli, hermetic, monkeypatch,
                                                  prometheus_server: PrometheusServer) -> None:
    prom = prometheus_server
    set_error_ratio(prom, 0.01)
    lab = verified_lab(hermetic, prom.url)
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)
    [passed] = run(cli, "verify")
    [model] = passed["models"]
    assert (passed["passed"], model["version"], model["action"]) == (True, "v0.0.1", "none")
    assert [(c["name"], c["value"], c["passed"]) for c in model["checks"]] == [
        ("serving", 1.0, True), ("errors", 0.01, True)]

    release_version(cli, lab)
    set_error_ratio(prom, 0.5)
    failed = cli("verify", "--env", "staging", "--json")
    assert failed.code == 1, failed.err
    [model] = json.loads(failed.out)[0]["models"]
    assert (model["version"], model["passed"], model["action"], model["rolled_back_to"]) == \
        ("v0.0.2", False, "rollback", "v0.0.1")
    assert model["checks"][1]["reason"] == "0.5 outside max 0.05"
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
    pull = lab.forge.get_pull("local/environment-staging", model["rollback_pull_request"])
    reason = next(line for line in pull.body.splitlines() if line.startswith("Reason:"))
    assert pull.state == "merged" and reason.startswith(
        "Reason: emergency rollback: verification failed: check errors: ")

    # One commit rolls back and holds (nothing in between): one PR, one history event.
    assert model["hold_pull_request"] == model["rollback_pull_request"]
    history = run(cli, "history", "fraud", "--env", "staging")
    assert [(e["action"], e["version"]) for e in history][:2] == [
        ("rollback", "v0.0.1"), ("promote", "v0.0.2")]
    assert history[0]["reason"].startswith("emergency rollback: verification failed")
    assert history[0]["reason"].endswith("; v0.0.2 held")
    assert "check errors" in lab.env_file("staging", "holds/fraud.yaml")

    refused = cli("promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    assert refused.code == 1
    assert "fraud v0.0.2 is on hold in staging since" in refused.err
    assert "jx-mlops hold clear fraud@v0.0.2 --env staging" in refused.err
    released = cli("ci", "release", "--json")
    assert released.code == 1 and "on hold in staging" in released.out

    monkeypatch.setenv("JX_MLOPS_USER", "reader")
    lab.forge.set_permission("local/environment-staging", "reader", "read")
    denied = cli("hold", "clear", "fraud@v0.0.2", "--env", "staging")
    assert denied.code == 1 and "reader cannot clear a hold in staging" in denied.err
    monkeypatch.setenv("JX_MLOPS_USER", "tester")
    cleared = run(cli, "hold", "clear", "fraud@v0.0.2", "--env", "staging")
    assert (cleared["changed"], cleared["held"]) == (True, False)
    set_error_ratio(prom, 0.01)
    again = run(cli, "promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    assert again["merged"] is True

    insights = run(cli, "insights", "--env", "staging")[0]
    assert (insights["deployments"], insights["failures"]) == (3, 1)
    assert insights["history"][1]["failed_by"] == "rollback"  # holding in the same commit
    assert insights["time_to_restore_median_s"] is not None


def test_no_sample_is_inconclusive_and_holds_only_after_the_limit(
        cli, hermetic, monkeypatch, prometheus_server: PrometheusServer) -> None:
    from kit.git import git

    set_error_ratio(prometheus_server, 0.01)
    lab = verified_lab(hermetic, prometheus_server.url)  # on_failure: rollback
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)
    release_version(cli, lab)
    text = (lab.path / "mlops.yaml").read_text().replace(
        "max(model_error_ratio)", "max(no_such_metric)").replace(
        "on_failure: rollback", "on_failure: rollback\n      on_inconclusive: hold\n"
                                "      inconclusive_limit: 2")
    (lab.path / "mlops.yaml").write_text(text)
    ignored = cli("verify", "--env", "staging")  # an uncommitted edit steers nothing
    assert ignored.code == 0, ignored.out + ignored.err
    assert "mlops.yaml has uncommitted changes; verify reads it as committed" in ignored.err
    git(lab.path, "commit", "-qam", "verify: a check with no sample")

    first = cli("verify", "--env", "staging", "--json")
    assert first.code == 4, first.out + first.err
    [env] = json.loads(first.out)
    [model] = env["models"]
    assert (env["outcome"], model["outcome"], model["action"], model["inconclusive_streak"]) \
        == ("inconclusive", "inconclusive", "none", 1)
    assert (model["checks"][0]["outcome"], model["checks"][1]["outcome"]) == \
        ("pass", "inconclusive")
    assert model["checks"][1]["reason"] == "the query returned no sample (max 0.05)"
    dry = cli("verify", "--env", "staging", "--dry-run")
    assert dry.code == 4
    assert "(errors: the query returned no sample); never a rollback; 2 of 2 inconclusive " \
        "runs in a row: would be held" in " ".join(dry.out.split())
    assert "holds/fraud.yaml" not in lab.env_git("staging", "ls-tree", "-r", "main")

    second = cli("verify", "--env", "staging")
    assert second.code == 4
    assert "2 of 2 inconclusive runs in a row: held (#" in " ".join(second.out.split())
    assert lab.record("staging", "fraud")["version"] == "v0.0.2"  # held, still serving
    assert "v0.0.2" in lab.env_file("staging", "holds/fraud.yaml")


def test_prometheus_stopped_mid_run_is_inconclusive_and_never_rolls_back(
        cli, hermetic, monkeypatch, tmp_path, prometheus_server: PrometheusServer) -> None:
    set_error_ratio(prometheus_server, 0.01)
    with running_prometheus(tmp_path, {"model": prometheus_server.exporter.port}) as url:
        own = PrometheusServer(url, prometheus_server.exporter, 0)
        own.wait_for('up{job="model"}', "1")
        own.wait_for("max(model_error_ratio)", "0.01")
        lab = verified_lab(hermetic, url)  # on_failure: rollback
        monkeypatch.chdir(lab.path)
        release_version(cli, lab)
        assert cli("verify").code == 0
        release_version(cli, lab)
        assert cli("verify").code == 0
    result = cli("verify", "--env", "staging")  # the same Prometheus, stopped
    assert result.code == 4, result.out + result.err
    line = " ".join(result.out.split())
    assert f"fraud v0.0.2 in staging: inconclusive (serving, errors: Prometheus at {url} " \
        "is unreachable: [Errno 111] Connection refused); never a rollback; 1 of 3 " \
        "inconclusive runs in a row before on_inconclusive acts" in line
    for _ in range(3):
        again = cli("verify", "--env", "staging", "--json")
    [model] = json.loads(again.out)[0]["models"]
    assert (again.code, model["action"], model["inconclusive_streak"]) == (4, "report", 4)
    assert lab.record("staging", "fraud")["version"] == "v0.0.2"
    assert "holds/fraud.yaml" not in lab.env_git("staging", "ls-tree", "-r", "main")
    missing = cli("verify", "--env", "production")
    assert missing.code == 1
    assert "production has no verify: block" in missing.err


def test_a_schedule_without_checks_exits_0_with_a_note(cli, hermetic, monkeypatch) -> None:
    lab = make_lab(hermetic, jx_home())
    monkeypatch.chdir(lab.path)
    result = cli("verify")
    assert result.code == 0
    assert "note: mlops.yaml: no environment has a verify: block" in result.err


@pytest.mark.parametrize(("block", "message"), [
    ("{prometheus: 'ftp://x', checks: [{name: a, query: up, min: 1}]}",
     "environments[0].verify.prometheus: expected a Prometheus URL"),
    ("{prometheus: 'http://x', checks: [{name: a, query: up}]}",
     "environments[0].verify.checks[0]: expected min and/or max"),
    ("{prometheus: 'http://x', checks: [{name: a, query: up, min: 1}], on_failure: panic}",
     "environments[0].verify.on_failure: expected 'rollback', 'hold' or 'report', got 'panic'"),
    ("{prometheus: 'http://x', checks: [{name: a, query: up, min: 1}], "
     "on_inconclusive: rollback}",
     "environments[0].verify.on_inconclusive: expected 'report' or 'hold', got 'rollback'"),
    ("{prometheus: 'http://x', checks: [{name: a, query: up, min: 1}], "
     "inconclusive_limit: 0}",
     "environments[0].verify.inconclusive_limit: expected a whole number >= 1, got 0"),
    ("{prometheus: 'http://x', checks: []}",
     "environments[0].verify.checks: expected a non-empty list of checks"),
])
def test_bad_verify_blocks_are_one_line_errors(cli, hermetic, monkeypatch, block: str,
                                               message: str) -> None:
    environments = f"  - name: staging\n    repo: local/environment-staging\n" \
                   f"    verify: {block}\n"
    lab = make_lab(hermetic, jx_home(), environments=environments)
    monkeypatch.chdir(lab.path)
    result = cli("verify", "--env", "staging")
    assert result.code == 1
    assert result.err.strip() == f"error: mlops.yaml: {message}" or message in result.err


def soak_inputs(required) -> object:
    from jx_mlops.config.project import EnvironmentConfig
    from jx_mlops.promote.gates import Approvals, GateInputs

    env = EnvironmentConfig("production", "local/p", requires="staging", soak=3600)
    return GateInputs(env=env, action="promote", version="v0.0.2", metrics={},
                      required=required, approvals=Approvals(), now=10_000.0)


@pytest.mark.parametrize(("state", "expected"), [
    ({"verified_from": 1000.0, "verified_until": 5000.0},
     ("pass", "verified for 1h 6m in staging (needs 1h)")),
    ({"verified_from": 1000.0, "verified_until": 2000.0},
     ("pending", "verified for 16m 40s in staging of 1h")),
    ({}, ("pending", "v0.0.2 not verified in staging yet (needs 1h of verified time)")),
    ({"verified_from": 1000.0, "verified_until": 9000.0, "verification_failed": True},
     ("fail", "v0.0.2 failed verification in staging")),
    ({"verified_from": 1000.0, "verified_until": 2000.0, "served_until": 3000.0},
     ("fail", "verified for 16m 40s in staging of 1h")),
])
def test_soak_counts_verified_time(state: dict, expected: tuple[str, str]) -> None:
    from jx_mlops.promote.gates import RequiredState, evaluate_gates

    required = RequiredState("staging", "v0.0.2", served_from=0.0, verified=True,
                             **state)
    results = {g.gate: (g.status, g.detail) for g in evaluate_gates(soak_inputs(required))}
    assert results["soak"] == expected


def test_production_soak_waits_for_verified_time(cli, hermetic, monkeypatch,
                                                 prometheus_server: PrometheusServer) -> None:
    set_error_ratio(prometheus_server, 0.01)
    environments = VERIFIED_ENVIRONMENTS.format(url=prometheus_server.url,
                                                on_failure="report") + "    soak: 1h\n"
    lab = make_lab(hermetic, jx_home(), environments=environments)
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)
    early = run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "production")
    assert {g["gate"]: g["detail"] for g in early["gates"]}["soak"] == \
        "v0.0.1 not verified in staging yet (needs 1h of verified time)"
    run(cli, "verify")
    later = run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "production")
    soak = {g["gate"]: (g["status"], g["detail"]) for g in later["gates"]}["soak"]
    assert soak[0] == "pending" and soak[1].startswith("verified for 0s in staging of 1h")


@pytest.mark.parametrize("failpoint", ["rebuilt", "merged"])
def test_killed_during_the_emergency_rollback_a_rerun_completes(
        cli, hermetic, monkeypatch, prometheus_server: PrometheusServer, failpoint: str) -> None:
    from kit.cli import run_cli_process

    prom = prometheus_server
    set_error_ratio(prom, 0.01)
    del prom.exporter.values["model_error_ratio"]
    # Per-version error ratios, as a model server labels its metrics.
    prom.exporter.values.update({'model_error_ratio{version="v0.0.1"}': 0.01,
                                 'model_error_ratio{version="v0.0.2"}': 0.5})
    prom.wait_for('max(model_error_ratio{version="v0.0.2"})', "0.5")
    environments = VERIFIED_ENVIRONMENTS.format(url=prom.url, on_failure="rollback").replace(
        "max(model_error_ratio)", 'max(model_error_ratio{version="${version}"})')
    lab = make_lab(hermetic, jx_home(), environments=environments)
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)
    release_version(cli, lab)

    monkeypatch.setenv("JX_MLOPS_FAILPOINT", failpoint)
    killed = run_cli_process("verify", cwd=lab.path)
    assert killed.returncode == -9, killed.stderr
    monkeypatch.delenv("JX_MLOPS_FAILPOINT")
    assert lab.record("staging", "fraud")["version"] == ("v0.0.2" if failpoint == "rebuilt"
                                                         else "v0.0.1")
    rerun = run_cli_process("verify", "--json", cwd=lab.path)
    [model] = json.loads(rerun.stdout)[0]["models"]
    assert model["version"] == ("v0.0.2" if failpoint == "rebuilt" else "v0.0.1")
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
    assert "v0.0.2" in lab.env_file("staging", "holds/fraud.yaml")
    assert lab.forge.list_pulls("local/environment-staging", state="open") == []
    assert cli("audit").code == 0


def test_a_target_that_is_down_fails_its_check(cli, hermetic, monkeypatch,
                                               prometheus_server: PrometheusServer) -> None:
    set_error_ratio(prometheus_server, 0.01)
    lab = verified_lab(hermetic, prometheus_server.url, on_failure="report")
    text = (lab.path / "mlops.yaml").read_text().replace('job="model"', 'job="broken"')
    (lab.path / "mlops.yaml").write_text(text)
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)
    result = cli("verify", "--json")
    assert result.code == 1
    [model] = json.loads(result.out)[0]["models"]
    assert (model["checks"][0]["value"], model["checks"][0]["reason"]) == \
        (0.0, "0 outside min 1")
    assert model["action"] == "report"
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
