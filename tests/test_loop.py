"""The whole loop through the CLI on a real project: retrain, ci pr, merge, release, status."""

from __future__ import annotations

import json

import pytest
import yaml
from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


def test_create_published_project_and_environments(project: Project, cli) -> None:
    repos = json.loads(cli("forge", "repo", "list", "--json").out)
    assert [r["full_name"] for r in repos] == [
        "local/churn", "local/environment-production", "local/environment-staging"]
    assert git(project.path, "status", "--porcelain") == ""
    tracked = git(project.path, "ls-files").splitlines()
    assert {"dvc.yaml", "dvc.lock", "params.yaml", "mlops.yaml", "metrics.json",
            "data/raw.csv.dvc", ".dvc/config"} <= set(tracked)
    assert "data/raw.csv" not in tracked and "models/model.pkl" not in tracked
    metrics = json.loads((project.path / "metrics.json").read_text())
    assert set(metrics) == {"accuracy", "f1", "precision", "recall", "roc_auc"}


def test_retrain_ci_pr_merge_release_status(project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    result = cli("retrain", "--set", "train.n_estimators=200", "--set", "train.max_depth=8")
    assert result.code == 0, result.err
    assert "Opened pull request #1" in result.out
    # The user stays on main; the PR's branch carries the change.
    assert git(project.path, "symbolic-ref", "--short", "HEAD") == "main"
    params = git(project.path, "show", "retrain/n_estimators-200-max_depth-8:params.yaml")
    assert "n_estimators: 200" in params and "# The sensitive attribute" in params

    result = cli("ci", "pr", "--pr", "1", "--json")
    assert result.code == 0, result.err
    check = json.loads(result.out)
    assert check["verdict"] == "pass" and check["comment_created"] is True
    assert check["results_committed"] is True
    accuracy = next(m for m in check["metrics"] if m["name"] == "accuracy")
    assert accuracy["status"] == "improved" and accuracy["delta"] > 0
    # Trusted evaluation (main's `evaluate` scored the PR's model) agrees with the PR's
    # own: a params-only PR gets the verdict `report` gives from its own results.
    assert check["trusted"]["self_reported"] and not any(
        r["differs"] for r in check["trusted"]["self_reported"])
    git(project.path, "fetch", "-q", "origin")
    own = json.loads(cli("report", "--base", "origin/main", "--head", check["head_sha"],
                         "--format", "json").out)
    assert own["trusted"] is None and (own["verdict"], own["summary"]) == (
        check["verdict"], check["summary"])
    assert [(m["name"], m["head"], m["status"]) for m in own["metrics"]] == \
        [(m["name"], m["head"], m["status"]) for m in check["metrics"]]

    # A re-run updates the same comment; the head already holds the results.
    again = json.loads(cli("ci", "pr", "--pr", "1", "--json").out)
    assert again["comment_id"] == check["comment_id"] and again["comment_created"] is False
    assert again["results_committed"] is False

    shown = json.loads(cli("forge", "pr", "show", "1", "--json").out)
    assert len(shown["comments"]) == 1
    assert shown["comments"][0]["body"].startswith("<!-- jx-mlops:report id=default -->")
    assert "| metrics.json: accuracy |" in shown["comments"][0]["body"]
    assert [(s["context"], s["state"]) for s in shown["statuses"]] == [
        ("jx-mlops/evaluation", "success")]

    assert cli("forge", "pr", "merge", "1").code == 0
    released = json.loads(cli("ci", "release", "--json").out)
    assert [r["tag"] for r in released["registrations"]] == ["churn@v0.0.1"]
    assert released["promotions"][0]["merged"] is True
    assert git(project.path, "cat-file", "-t", "churn@v0.0.1") == "tag"

    # Releasing the same merge again changes nothing: no tag, no environment PR.
    again = json.loads(cli("ci", "release", "--json").out)
    assert again["registrations"][0]["created"] is False
    assert again["promotions"][0]["already_deployed"] is True
    forge = LocalForge(jx_home() / "forge")
    assert len(forge.list_pulls("local/environment-staging", state="all")) == 1

    status = json.loads(cli("status", "--json").out)
    assert [(s["environment"], s["version"]) for s in status] == [
        ("staging", "v0.0.1"), ("production", None)]
    record = yaml.safe_load(git(jx_home() / "forge/repos/local/environment-staging.git",
                                "show", "main:models/churn.yaml"))
    assert record["version"] == "v0.0.1" and record["source"]["pull_request"] == 1
    assert record["artifact"]["md5"] and record["metrics"]["metrics.json"]["accuracy"] > 0.7


def test_regressing_pr_fails_its_check(project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    cli("retrain", "--set", "train.n_estimators=5", "--set", "train.max_depth=1")
    result = cli("ci", "pr", "--pr", "1", "--fail-on-regression")
    assert result.code == 1
    # A forest of 5 stumps breaks roc_auc's floor and loses more precision than a retrain
    # loses by chance (its calibrated tolerance); smaller drops are within tolerance.
    assert "fail: roc_auc is 0.737105 (outside min 0.75); precision regressed" in result.out
    assert "(-0.04016, tolerance 0.04)" in result.out and "3 within tolerance" in result.out
    pull = LocalForge(jx_home() / "forge").get_pull("local/churn", 1)
    statuses = LocalForge(jx_home() / "forge").get_statuses("local/churn", pull.head_sha)
    assert [s.state for s in statuses] == ["failure"]


def test_report_formats_compare_work_tree_with_main(project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    metrics = json.loads((project.path / "metrics.json").read_text())
    metrics["accuracy"] -= 0.05
    (project.path / "metrics.json").write_text(json.dumps(metrics))
    data = json.loads(cli("report", "--format", "json").out)
    assert data["verdict"] == "fail"
    row = next(m for m in data["metrics"] if m["name"] == "accuracy")
    assert {"path", "name", "base", "head", "delta", "status"} <= set(row)
    assert row["status"] == "regressed" and row["delta"] == pytest.approx(-0.05)
    md = cli("report", "--format", "md")
    assert "🔴 regressed" in md.out
    terminal = cli("report", "--format", "terminal", "--fail-on-regression")
    assert terminal.code == 1 and "accuracy regressed" in terminal.out


def test_ci_pr_for_missing_pull_request(project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    result = cli("ci", "pr", "--pr", "42")
    assert result.code == 1
    assert result.err.strip() == "error: pull request #42 not found in local/churn"


def test_release_without_changes_registers_nothing_new(project: Project, cli,
                                                        monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    first = json.loads(cli("ci", "release", "--json").out)
    assert first["registrations"][0]["version"] == "v0.0.1"
    (project.path / "README.md").write_text("docs only\n")
    git(project.path, "commit", "-qam", "docs")
    git(project.path, "push", "-q", "origin", "main")
    second = json.loads(cli("ci", "release", "--json").out)
    assert second["registrations"][0]["unchanged_since"] == "v0.0.1"
    assert second["promotions"] == []


def test_create_refuses_a_name_taken_on_the_forge(project: Project, cli, tmp_path) -> None:
    result = cli("create", "churn", "--quickstart", "sklearn-classifier", "--dir",
                 tmp_path / "again")
    assert result.code == 1
    assert result.err.strip() == "error: repository local/churn already exists on the local forge"
    assert not (tmp_path / "again").exists()
    assert not list(tmp_path.glob(".again*"))


def test_ci_pr_output_records_commit_shas(project: Project, cli, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(project.path)
    assert cli("retrain", "--set", "train.n_estimators=150").code == 0
    git(project.path, "checkout", "-q", "retrain/n_estimators-150")
    assert cli("-q", "ci", "pr", "--pr", "1", "--output", tmp_path / "artifact").code == 0
    report = json.loads((tmp_path / "artifact" / "jx-mlops-report.json").read_text())
    assert report["base_sha"] == git(project.path, "rev-parse", "origin/main")
    assert report["head_sha"] == git(project.path, "rev-parse", "HEAD")
