"""The report on a real project: DVC as oracle, significance, data diff, costs, HTML."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from kit.dvc import dvc
from kit.git import git
from kit.workspace import Project, build_workspace, clone_workspace
from sklearn.metrics import accuracy_score, roc_auc_score

from jx_mlops.cli.main import main
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


def _train_pr(project: Project) -> None:
    assert main(["retrain", "--set", "train.n_estimators=120", "--set",
                 "train.max_depth=6"]) == 0
    assert main(["ci", "pr", "--pr", "1", "--html",
                 str(project.path.parent / "report.html")]) == 0
    # `ci pr` went back to main: the tests look at the PR branch, its outputs checked out.
    git(project.path, "switch", "-q", "retrain/n_estimators-120-max_depth-6")
    dvc(project.path, "checkout", "-q")


@pytest.fixture(scope="module")
def trained_template(project_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PR #1 (a params change) trained by `ci pr` once for the module (real training)."""
    return build_workspace(tmp_path_factory, project_template, "trained-pr", _train_pr)


@pytest.fixture
def trained_pr(trained_template: Path, hermetic: Path, monkeypatch) -> Project:
    """A fresh copy of the project with PR #1 trained, on the PR branch."""
    project = clone_workspace(trained_template, hermetic)
    monkeypatch.chdir(project.path)
    return project


def dvc_metrics_diff(path: Path, a_rev: str, b_rev: str) -> dict[str, dict[str, object]]:
    out = subprocess.run([sys.executable, "-m", "dvc", "metrics", "diff", "--all", "--json", a_rev,
                          b_rev], cwd=path, capture_output=True, text=True, check=True).stdout
    return json.loads(out)["diff"] if "diff" in json.loads(out) else json.loads(out)


def test_numbers_equal_dvc_metrics_diff(trained_pr: Project, cli) -> None:
    ours = json.loads(cli("report", "--base", "origin/main", "--head", "HEAD", "--format",
                          "json").out)
    theirs = dvc_metrics_diff(trained_pr.path, "origin/main", "HEAD")
    compared = 0
    for row in ours["metrics"]:
        expected = theirs[row["path"]][row["name"]]
        assert row["base"] == expected["old"]
        assert row["head"] == expected["new"]
        assert row["delta"] == expected["diff"]
        compared += 1
    assert compared == 19  # metrics.json 5, fairness.json 12, portability.json 2


def predictions(text: str) -> tuple[list[int], list[int], list[float]]:
    rows = list(csv.DictReader(text.splitlines()))
    return ([int(r["y_true"]) for r in rows], [int(r["y_pred"]) for r in rows],
            [float(r["y_score"]) for r in rows])


def test_significance_is_paired_and_matches_scikit_learn(trained_pr: Project, cli) -> None:
    data = json.loads(cli("report", "--base", "origin/main", "--head", "HEAD", "--format",
                          "json").out)
    results = {s["metric"]: s for s in data["models"][0]["significance"]}
    assert set(results) == {"accuracy", "f1", "precision", "recall", "roc_auc"}
    base = predictions(git(trained_pr.path, "show", "origin/main:eval/predictions.csv"))
    head = predictions(git(trained_pr.path, "show", "HEAD:eval/predictions.csv"))
    auc = results["roc_auc"]
    assert auc["pairing"] == "paired" and auc["samples"] == len(base[0])
    assert auc["base"] == pytest.approx(roc_auc_score(base[0], base[2]))
    assert auc["head"] == pytest.approx(roc_auc_score(head[0], head[2]))
    acc = results["accuracy"]
    assert acc["delta"] == pytest.approx(accuracy_score(head[0], head[1])
                                         - accuracy_score(base[0], base[1]))
    assert acc["low"] <= acc["delta"] <= acc["high"]
    again = json.loads(cli("report", "--base", "origin/main", "--head", "HEAD", "--format",
                           "json").out)
    assert again["models"][0]["significance"] == data["models"][0]["significance"]


def test_run_record_is_a_pushed_git_note(trained_pr: Project, cli) -> None:
    head = git(trained_pr.path, "rev-parse", "HEAD")
    note = json.loads(git(trained_pr.path, "notes", "--ref=jx-mlops", "show", head))
    ran = {s["name"] for s in note["stages"] if s["ran"]}
    assert {"train", "evaluate"} <= ran
    assert all(s["wall_s"] > 0 for s in note["stages"] if s["ran"])
    assert any(s["peak_rss_mb"] for s in note["stages"] if s["ran"])
    bare = jx_home() / "forge" / "repos" / "local" / "churn.git"
    assert git(bare, "notes", "--ref=jx-mlops", "show", head) == json.dumps(
        note, sort_keys=True)
    assert len(git(trained_pr.path, "log", "--format=%H", "origin/main..HEAD").split()) == 2


def test_base_cost_found_through_the_merge_commit(trained_pr: Project, cli,
                                                  monkeypatch) -> None:
    assert cli("forge", "pr", "merge", "1").code == 0
    git(trained_pr.path, "checkout", "-q", "main")
    git(trained_pr.path, "pull", "-q", "origin", "main")
    assert cli("retrain", "--set", "train.min_samples_leaf=3").code == 0
    data = json.loads(cli("ci", "pr", "--pr", "2", "--json").out)
    costs = data["costs"]
    assert costs["base"] is not None and costs["head"] is not None
    comment = LocalForge(jx_home() / "forge").list_comments("local/churn", 2)[0].body
    assert "Training cost: " in comment and " s → " in comment


def test_comment_has_every_section_and_html_is_self_contained(trained_pr: Project) -> None:
    forge = LocalForge(jx_home() / "forge")
    body = forge.list_comments("local/churn", 1)[0].body
    for section in ("| Metric | Base | Head | Change | 95% CI | Status |", "Params changed (2)",
                    "<summary>All params (12)</summary>", "<summary>Data and outputs: 2 of 4 "
                    "tracked paths changed</summary>", "<summary>Plots (3)</summary>",
                    "xychart-beta", "xychart-beta horizontal",
                    '"feature" ["late_payments", ', "<summary>Training cost</summary>",
                    "<summary>Lineage</summary>"):
        assert section in body
    html = (trained_pr.path.parent / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "<script" not in html and 'src="http' not in html and "href=\"http" not in html


def test_data_change_is_reported_without_downloading(project: Project, cli,
                                                     monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    with (project.path / "data" / "raw.csv").open("a") as handle:
        handle.write("40,52000.0,0.3,10.0,3,0,5.0,A,north,1\n")
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data/raw.csv"],
                   cwd=project.path, check=True)
    data = json.loads(cli("report", "--format", "json").out)
    change = next(d for d in data["data"] if d["path"] == "data/raw.csv")
    assert change["status"] == "modified" and change["size_delta"] > 0
    assert change["tracked_by"] == "data/raw.csv.dvc"


def test_separate_report_ids_get_separate_comments(trained_pr: Project, cli) -> None:
    assert cli("ci", "pr", "--report-id", "nightly").code == 0  # on the PR branch now
    assert cli("ci", "pr").code == 0
    bodies = [c.body for c in LocalForge(jx_home() / "forge").list_comments("local/churn", 1)]
    assert [b.splitlines()[0] for b in bodies] == ["<!-- jx-mlops:report id=default -->",
                                                  "<!-- jx-mlops:report id=nightly -->"]
