"""Adopting a DVC project nobody here wrote: `jx-mlops init`, then `report` reads it as DVC.

The repository is laid out like DVC's get-started example (tests/kit/getstarted.py) and built
with DVC once per session; `dvc metrics diff`, `dvc params diff` and `dvc plots diff`
(``--json``) are the oracle for every number and every plot name.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kit.dvc import dvc_json
from kit.getstarted import build_get_started
from kit.git import git
from kit.hermetic import apply_env, hermetic_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def get_started_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("get-started")
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, hermetic_env(base))
        shas = build_get_started(base / "repo")
    return base / "repo", shas


@pytest.fixture
def gs(get_started_template: tuple[Path, dict[str, str]], hermetic: Path,
       monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    """A fresh copy of the get-started repository (cache included), as the cwd."""
    template, shas = get_started_template
    root = hermetic / "get-started"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.chdir(root)
    return root, shas


def report_json(cli, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = cli("report", *args, "--format", "json", "--trend", "0")
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_bare_init_then_report_shows_what_dvc_metrics_diff_shows(gs, cli) -> None:
    root, shas = gs
    assert cli("init").code == 0
    data = report_json(cli, "--base", shas["good"], "--head", shas["worse"])
    oracle = dvc_json(root, "metrics", "diff", shas["good"], shas["worse"])
    ours = {(m["path"], m["name"]): (m["base"], m["head"]) for m in data["metrics"]}
    theirs = {(path, name): (v["old"], v["new"]) for path, rows in oracle.items()
              for name, v in rows.items()}
    assert ours == theirs
    assert data["verdict"] == "fail"
    assert "roc_auc.test regressed 0.93 → 0.8 (-14.0%, tolerance 0.0093)" in data["summary"] \
        or "(+2 more)" in data["summary"]
    failing = {m["name"] for m in data["metrics"] if m["status"] == "regressed"}
    assert "roc_auc.test" in failing
    code = cli("report", "--base", shas["good"], "--head", shas["worse"],
               "--fail-on-regression", "--trend", "0").code
    assert code == 1


def test_params_are_the_files_dvc_yaml_names(gs, cli) -> None:
    root, shas = gs
    cli("init")
    data = report_json(cli, "--base", shas["good"], "--head", shas["worse"])
    oracle = dvc_json(root, "params", "diff", shas["good"], shas["worse"], "--all")
    ours = {(p["path"], p["name"]): (p["base"], p["head"]) for p in data["params"]}
    theirs = {(path, name): (v["old"], v["new"]) for path, rows in oracle.items()
              for name, v in rows.items()}
    assert ours == theirs


def test_a_regression_in_the_workspace_fails_as_ci_runs_it(gs, cli) -> None:
    _root, shas = gs
    cli("init")
    # The work tree holds the worse model's outputs (dvc repro ran): base is the good one.
    result = cli("report", "--base", shas["good"], "--fail-on-regression", "--trend", "0")
    assert result.code == 1
    assert result.out.startswith("fail: ")
    assert "new" not in result.out.splitlines()[0]


def test_every_plot_dvc_plots_diff_shows_is_charted_or_named(gs, cli) -> None:
    root, shas = gs
    cli("init")
    data = report_json(cli, "--base", shas["good"], "--head", shas["worse"])
    ids = dvc_json(root, "plots", "diff", shas["good"], shas["worse"])["data"]
    charted = {p["plot"] for p in data["plots"]}
    for plot_id in ids:
        assert plot_id in charted or any(note.startswith(plot_id) for note in data["notes"]), \
            plot_id
    # One chart per plot id, as DVC draws it: ROC's two files are two series per side.
    roc = next(p for p in data["plots"] if p["plot"] == "ROC")
    assert [s["label"].split(" ", 2)[::2] for s in roc["series"]] == [
        ["base", "train"], ["head", "train"], ["base", "test"], ["head", "test"]]
    confusion = next(n for n in data["notes"] if n.startswith("Confusion-Matrix"))
    assert "confusion matrix" in confusion and "0→1" in confusion  # a table, not a line


def test_data_missing_from_the_cache_says_which_directory_to_pull(gs, cli) -> None:
    root, shas = gs
    cli("init")
    shutil.rmtree(root / ".dvc" / "cache")
    data = report_json(cli, "--base", shas["good"], "--head", shas["worse"])
    assert data["verdict"] == "fail"
    problems = " ".join(data["models"][0]["head_problems"])
    assert "eval/metrics.json at " in problems
    assert "inside eval, a DVC output whose data is not in the local cache" in problems
    assert "`dvc pull eval`" in problems


def test_init_twice_changes_nothing_and_never_overwrites_without_force(gs, cli) -> None:
    root, _shas = gs
    assert cli("init", "--dry-run").code == 0
    assert not (root / "mlops.yaml").exists()
    cli("init")
    config = (root / "mlops.yaml").read_text()
    assert "text-classification:" in config and "artifact: model.pkl" in config
    assert "roc_auc.test: {direction: higher" in config
    assert (root / ".github" / "workflows" / "mlops-pr.yml").is_file()
    assert (root / ".lighthouse" / "jenkins-x" / "pullrequest.yaml").is_file()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "adopt")
    again = json.loads(cli("init", "--json").out)
    assert {f["action"] for f in again["files"]} == {"unchanged"}
    assert git(root, "status", "--porcelain") == ""
    (root / "mlops.yaml").write_text(config + "# mine\n")
    kept = json.loads(cli("init", "--json").out)
    assert {f["path"]: f["action"] for f in kept["files"]}["mlops.yaml"] == "kept"
    assert (root / "mlops.yaml").read_text().endswith("# mine\n")
    cli("init", "--force")
    assert (root / "mlops.yaml").read_text() == config


def test_a_policy_key_that_matches_no_metric_is_one_line(gs, cli) -> None:
    root, shas = gs
    cli("init", "--no-ci")
    assert not (root / ".github").exists()
    text = (root / "mlops.yaml").read_text().replace("roc_auc.test:", "roc_auc.tset:")
    (root / "mlops.yaml").write_text(text)
    result = cli("report", "--base", shas["good"], "--head", shas["worse"])
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "error: mlops.yaml: models.text-classification.policy.roc_auc.tset: matches no "
        "metric at base or head (closest: roc_auc.test, roc_auc.train)"]


def test_experiment_names_resolve_as_dvc_resolves_them(gs, cli) -> None:
    root, shas = gs
    cli("init")
    subprocess.run([sys.executable, "-m", "dvc", "exp", "run", "-q", "-n", "better-q",
                    "-S", "train.quality=0.85"], cwd=root, check=True, capture_output=True)
    data = report_json(cli, "--base", shas["worse"], "--head", "better-q")
    oracle = dvc_json(root, "metrics", "diff", shas["worse"], "better-q")
    assert {m["name"]: m["head"] for m in data["metrics"]} == \
        {name: v["new"] for v in oracle.values() for name, v in v.items()}
    assert data["verdict"] == "pass"


def test_a_branch_only_the_remote_has_resolves(gs, cli, monkeypatch) -> None:
    root, shas = gs
    cli("init", "--no-ci")
    git(root, "add", "mlops.yaml")
    git(root, "commit", "-qm", "adopt")
    git(root, "branch", "feature", shas["worse"])
    clone = root.parent / "clone"
    git(root.parent, "clone", "-q", str(root), str(clone))
    # Share the original's cache, as teams do (`dvc cache dir`): a fresh clone has none.
    subprocess.run([sys.executable, "-m", "dvc", "cache", "dir", "--local",
                    str(root / ".dvc" / "cache")], cwd=clone, check=True)
    monkeypatch.chdir(clone)
    data = report_json(cli, "--base", shas["good"], "--head", "feature")
    oracle = dvc_json(clone, "metrics", "diff", shas["good"], "feature")
    assert data["head"]["sha"] == shas["worse"]
    assert {m["name"]: m["head"] for m in data["metrics"]} == \
        {name: v["new"] for v in oracle.values() for name, v in v.items()}


def test_a_stale_lock_is_named_and_cannot_pass(gs, cli) -> None:
    root, shas = gs
    cli("init", "--no-ci")
    (root / "params.yaml").write_text("train:\n  quality: 0.95\n  seed: 7\n")
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q", "-s", "train"], cwd=root,
                   check=True, capture_output=True)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "retrained, forgot to evaluate")
    data = report_json(cli, "--base", shas["worse"], "--head", "HEAD")
    assert data["verdict"] == "fail"  # the metrics improved, but they are not this model's
    problems = data["models"][0]["head_problems"]
    assert any(p.startswith("stage evaluate is stale: it consumed model.pkl ") and
               "but stage train produced" in p for p in problems), problems
    (root / "params.yaml").write_text("train:\n  quality: 0.5\n  seed: 7\n")
    git(root, "commit", "-qam", "params edited, no dvc repro")
    data = report_json(cli, "--base", shas["worse"], "--head", "HEAD")
    assert any("stage train is stale: params.yaml has train.quality = 0.5 but dvc.lock "
               "recorded 0.95" in p for p in data["models"][0]["head_problems"])
