"""A pull request that lets the model use the sensitive attribute fails the fairness gate.

The sklearn-classifier quickstart's historical decisions are biased against group B.
Retraining with `prepare.drop_sensitive=false` makes the model more accurate and unfair:
the check must fail on the gate (failed_threshold), not pass on the accuracy.
"""

from __future__ import annotations

import json

import pytest
from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


def test_using_the_sensitive_attribute_fails_the_fairness_gate(project: Project, cli,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    assert cli("retrain", "--set", "prepare.drop_sensitive=false").code == 0
    result = cli("ci", "pr", "--pr", "1", "--fail-on-regression", "--json")
    assert result.code == 1, result.err
    check = json.loads(result.out)
    assert check["verdict"] == "fail"
    assert check["summary"].startswith(
        "fail: demographic_parity_difference is ")
    rows = {(m["path"], m["name"]): m for m in check["metrics"]}
    parity = rows["fairness.json", "demographic_parity_difference"]
    assert parity["status"] == "failed_threshold"
    assert parity["base"] <= 0.1 < parity["head"]
    assert rows["metrics.json", "accuracy"]["status"] == "improved"
    assert rows["fairness.json", "by_group.selection_rate.B"]["delta"] < 0
    # A group's accuracy is not mistaken for the test set's (significance from predictions).
    assert rows["fairness.json", "by_group.accuracy.B"]["significant"] is None

    forge = LocalForge(jx_home() / "forge")
    pull = forge.get_pull("local/churn", 1)
    [status] = forge.get_statuses("local/churn", pull.head_sha)
    assert status.state == "failure"
    assert "demographic_parity_difference" in status.description
    [comment] = forge.list_comments("local/churn", 1)
    row = next(line for line in comment.body.splitlines()
               if "demographic\\_parity\\_difference |" in line)
    assert row.startswith("| fairness.json: demographic\\_parity\\_difference | 0.0345 |")
    assert row.endswith("| ⛔ failed threshold |")
    # `ci pr` went back to main: the PR's data card is the one at its head commit.
    card = json.loads(git(project.path, "show", f"{pull.head_sha}:reports/data_card.json"))
    assert card["sensitive_attribute_used_as_feature"] is True


def test_default_retrain_keeps_the_model_fair(project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    assert cli("retrain", "--set", "train.seed=11").code == 0
    check = json.loads(cli("ci", "pr", "--pr", "1", "--json").out)
    rows = {(m["path"], m["name"]): m for m in check["metrics"]}
    assert rows["fairness.json", "demographic_parity_difference"]["head"] <= 0.1
    assert rows["fairness.json", "equalized_odds_difference"]["head"] <= 0.2
    assert not any(m["status"] == "failed_threshold" for m in check["metrics"])
