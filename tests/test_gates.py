"""Promotion gates through the CLI (force, rollback...); their pure evaluation is
tested in tests/unit/promote/test_gates.py."""

from __future__ import annotations

import json

import pytest
import yaml
from kit.cli import run
from kit.lab import lab_commit_env_file, make_lab

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # promotion stories through the CLI on a real local forge

GATED = """\
  - name: staging
    repo: local/environment-staging
    gates:
      metrics:
        accuracy: {min: 0.815}
      fairness:
        fairness.demographic_parity_difference: 0.05
  - name: production
    repo: local/environment-production
    strategy: manual
    requires: staging
    soak: 1h
"""


@pytest.fixture
def lab_environments() -> str:
    return GATED


def test_metric_floor_blocks_and_writes_nothing_unless_forced(cli, lab) -> None:
    lab.new_version()  # accuracy 0.81 < 0.815
    run(cli, "register", "fraud")
    blocked = cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    assert blocked.code == 1
    assert "blocked by gates: metric accuracy: accuracy = 0.81, outside min 0.815" in blocked.err
    assert "re-run with --force" in blocked.err
    assert lab.forge.list_pulls("local/environment-staging", state="all") == []

    forced = run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging", "--force")
    assert forced["merged"] is True and forced["forced"] is True
    record = lab.record("staging", "fraud")["promotion"]
    assert (record["forced"], record["forced_gates"]) == (True, ["metric accuracy"])
    [event] = run(cli, "history", "fraud")
    assert (event["forced"], event["forced_gates"]) == (True, ["metric accuracy"])
    card = lab.env_file("staging", "models/fraud.md")
    assert "**forced past gates: metric accuracy**" in card
    assert "| fairness.demographic\\_parity\\_difference | 0.03 | 0.05 | ✅ within |" in card


def test_release_registers_but_reports_a_blocked_promotion(cli, lab) -> None:
    lab.new_version()  # accuracy 0.81 < staging's floor 0.815
    result = cli("ci", "release", "--json")
    assert result.code == 1
    released = json.loads(result.out)
    assert released["registrations"][0]["tag"] == "fraud@v0.0.1"
    assert released["promotions"] == []
    [blocked] = released["blocked"]
    assert (blocked["tag"], blocked["environment"]) == ("fraud@v0.0.1", "staging")
    assert "metric accuracy: accuracy = 0.81, outside min 0.815" in blocked["reason"]
    assert "fraud@v0.0.1" in lab.forge_git_tags()


def test_fairness_limit_blocks(cli, lab) -> None:
    lab.new_version({"fraud": {"accuracy": 0.9,
                               "fairness": {"demographic_parity_difference": -0.08}}})
    run(cli, "register", "fraud")
    blocked = cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    assert blocked.code == 1
    assert ("fairness fairness.demographic_parity_difference: "
            "|fairness.demographic_parity_difference| = 0.08 (over limit 0.05)") in blocked.err


def test_soak_keeps_the_production_pr_waiting_and_force_lands_it(cli, lab, monkeypatch
                                                                 ) -> None:
    lab.new_version({"fraud": {"accuracy": 0.9}})
    run(cli, "register", "fraud")
    run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    waiting = run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "production")
    assert waiting["waiting"] is True
    assert [(g["gate"], g["status"]) for g in waiting["gates"]] == [
        ("signature", "pass"), ("previous environment", "pass"), ("soak", "pending"),
        ("evaluation", "pass"), ("approvals", "pending")]
    body = lab.forge.get_pull("local/environment-production", 1).body
    assert "⏳ **soak**" in body and "⏳ **approvals**" in body

    lab.forge.set_permission("local/environment-production", "reader", "read")
    monkeypatch.setenv("JX_MLOPS_USER", "reader")
    refused = cli("promote", "fraud", "--version", "v0.0.1", "--to", "production", "--force")
    assert refused.code == 1 and "reader cannot promote fraud in production" in refused.err
    monkeypatch.setenv("JX_MLOPS_USER", "oncall")
    forced = run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "production",
                 "--force")
    assert forced["merged"] is True and forced["pull_request"] == 1
    record = lab.record("production", "fraud")
    assert record["promotion"]["forced_gates"] == ["soak", "approvals"]
    assert record["promotion"]["by"] == "tester"


def test_rollback_disable_and_history(cli, lab, monkeypatch) -> None:
    for _ in range(2):
        lab.new_version({"fraud": {"accuracy": 0.9}})
        version = run(cli, "register", "fraud")["version"]
        run(cli, "promote", "fraud", "--version", version, "--to", "staging")
    back = run(cli, "rollback", "fraud", "--env", "staging")
    assert (back["version"], back["action"], back["merged"]) == ("v0.0.1", "rollback", True)
    pull = lab.forge.get_pull("local/environment-staging", back["pull_request"])
    assert pull.title == "chore: roll back fraud to v0.0.1 in staging"
    assert pull.head == "rollback/staging/fraud-v0.0.1" and "rollback" in pull.labels
    record = lab.record("staging", "fraud")
    assert (record["version"], record["promotion"]["previous_version"]) == ("v0.0.1", "v0.0.2")

    forward = run(cli, "rollback", "fraud", "--env", "staging", "--to", "v0.0.2")
    assert forward["version"] == "v0.0.2"
    cut = run(cli, "disable", "fraud", "--env", "staging", "--reason", "bad scores")
    assert (cut["action"], cut["merged"]) == ("disable", True)
    assert lab.record("staging", "fraud")["state"] == "disabled"
    assert "serving/fraud.yaml" not in lab.env_git("staging", "ls-tree", "-r", "--name-only",
                                                     "main")
    status = run(cli, "status")
    assert [(s["environment"], s["version"], s["state"]) for s in status] == [
        ("staging", "v0.0.2", "disabled"), ("production", None, None)]
    again = run(cli, "disable", "fraud", "--env", "staging")
    assert again["already_deployed"] is True

    history = run(cli, "history", "fraud", "--env", "staging")
    assert [(e["action"], e["version"], e["previous_version"]) for e in history] == [
        ("disable", "v0.0.2", "v0.0.2"), ("rollback", "v0.0.2", "v0.0.1"),
        ("rollback", "v0.0.1", "v0.0.2"), ("promote", "v0.0.2", "v0.0.1"),
        ("promote", "v0.0.1", None)]
    assert history[0]["reason"] == "bad scores"
    revived = run(cli, "promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    assert revived["merged"] is True and lab.record("staging", "fraud")["state"] == "serving"


def test_rollback_with_nothing_before_is_an_error(cli, lab) -> None:
    lab.new_version({"fraud": {"accuracy": 0.9}})
    run(cli, "register", "fraud")
    result = cli("rollback", "fraud", "--env", "staging")
    assert result.code == 1
    assert result.err.strip().endswith(
        "error: fraud was never deployed in staging; nothing to roll back")
    run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    result = cli("rollback", "fraud", "--env", "staging")
    assert "no version of fraud older than v0.0.1 to roll back to in staging (name one with " \
           "--to vX.Y.Z)" in result.err


def test_rollback_falls_back_to_the_registered_version_before(cli, lab) -> None:
    for _ in range(2):
        lab.new_version({"fraud": {"accuracy": 0.9}})
        run(cli, "register", "fraud")
    run(cli, "promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    back = run(cli, "rollback", "fraud", "--env", "staging")
    assert (back["version"], back["action"], back["merged"]) == ("v0.0.1", "rollback", True)


JENKINS_X = """\
  - name: staging
    repo: local/environment-staging
    layout: jenkins-x
"""


def test_jenkins_x_layout_sets_the_release_in_the_namespace_helmfile(cli, hermetic,
                                                                     monkeypatch) -> None:
    lab = make_lab(hermetic, jx_home(), environments=JENKINS_X)
    monkeypatch.chdir(lab.path)
    existing = {"namespace": "jx-staging",
                "releases": [{"chart": "dev/web", "version": "1.2.3", "name": "web"}]}
    lab_commit_env_file(lab, "staging", "helmfiles/jx-staging/helmfile.yaml",
                        yaml.safe_dump(existing))
    lab.new_version()
    run(cli, "register", "fraud")
    run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    helmfile = yaml.safe_load(lab.env_file("staging", "helmfiles/jx-staging/helmfile.yaml"))
    assert [(r["name"], r["version"]) for r in helmfile["releases"]] == [
        ("web", "1.2.3"), ("fraud", "0.0.1")]
    fraud = helmfile["releases"][1]
    assert fraud["chart"] == "dev/fraud"
    assert fraud["values"][0]["jxMlops"]["storageUri"].startswith("file://")
    root = yaml.safe_load(lab.env_file("staging", "helmfile.yaml"))
    assert root == {"helmfiles": [{"path": "helmfiles/jx-staging/helmfile.yaml"}]}
    assert cli("audit").code == 0

    run(cli, "disable", "fraud", "--env", "staging")
    helmfile = yaml.safe_load(lab.env_file("staging", "helmfiles/jx-staging/helmfile.yaml"))
    assert [r["name"] for r in helmfile["releases"]] == ["web"]
    assert cli("audit").code == 0


def test_a_version_worse_than_the_deployed_one_is_refused_after_the_first_env(cli, lab
                                                                            ) -> None:
    lab.new_version({"fraud": {"accuracy": 0.92}})
    run(cli, "register", "fraud")
    run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "production", "--force")
    lab.new_version({"fraud": {"accuracy": 0.88}})  # -0.04, beyond the 0.005 tolerance
    run(cli, "register", "fraud")
    # Staging is where every merge lands: the PR check was its gate, not this one.
    run(cli, "promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    refused = cli("promote", "fraud", "--version", "v0.0.2", "--to", "production")
    assert refused.code == 1
    assert "against deployed: v0.0.2 against v0.0.1 (deployed here): fail:" in refused.err
    assert "accuracy" in refused.err
    run(cli, "promote", "fraud", "--version", "v0.0.2", "--to", "production", "--force")
    forced = lab.record("production", "fraud")["promotion"]["forced_gates"]
    assert "against deployed" in forced
