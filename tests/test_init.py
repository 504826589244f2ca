"""`jx-mlops init` on small DVC repositories (`dvc init`, no pipeline run), and the
report's diagnoses for files it cannot read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kit.dvc import dvc, dvc_json
from kit.git import git
from kit.hermetic import apply_env, hermetic_env

from jx_mlops.config.project import load_config, parse_config
from jx_mlops.config.signing import SigningConfig
from jx_mlops.fsutil import jx_home

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    params: [lr]
    outs: [{outs}]
  evaluate:
    cmd: python evaluate.py
    deps: [{deps}]
    metrics:
    - scores.json:
        cache: false
"""


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`git init` and `dvc init` once for the module (each DVC start costs a second or
    more); every test works in its own copy."""
    base = tmp_path_factory.mktemp("dvc-init")
    root = base / "proj"
    root.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, hermetic_env(base))
        git(root, "init", "-q", "-b", "main")
        dvc(root, "init", "-q")
    (root / "params.yaml").write_text("lr: 0.1\n")
    return root


@pytest.fixture
def repo(initialised: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(initialised, root, symlinks=True)
    monkeypatch.chdir(root)
    return root


def pipeline(root: Path, output: str = "models/clf.joblib") -> None:
    (root / "dvc.yaml").write_text(PIPELINE.format(outs=output, deps=output))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pipeline")


def test_a_model_like_stage_output_is_the_model(repo: Path, cli) -> None:
    pipeline(repo)
    (repo / "scores.json").write_text('{"accuracy": 0.9, "epoch": 3}')
    assert cli("init", "--no-ci").code == 0
    config = load_config(repo)
    model = config.model("clf")
    assert (model.artifact, model.metrics, model.params) == ("models/clf.joblib", (), ())
    assert model.policy_for("scores.json", "accuracy").direction == "higher"
    assert model.policy_for("scores.json", "epoch").direction is None
    assert "#   epoch" in (repo / "mlops.yaml").read_text()  # says how to direct it
    assert not config.forge.configured
    # The one stage that writes the metrics and no model scores PRs as the base has it.
    assert (config.evaluation.trusted, config.evaluation.mode) == ("evaluate", "enforced")


def test_no_model_found_is_a_metrics_only_project(repo: Path, cli) -> None:
    pipeline(repo, output="data/features")
    result = cli("init", "--no-ci")
    assert result.code == 0
    assert "note: no model found" in result.out
    assert load_config(repo).model("proj").artifact == ""


def test_flags_name_the_model_and_the_forge(repo: Path, cli) -> None:
    pipeline(repo)
    assert cli("init", "--no-ci", "--model", "churn=models/clf.joblib", "--forge", "github",
               "--repo", "acme/churn").code == 0
    config = load_config(repo)
    assert (config.forge.kind, config.forge.repo) == ("github", "acme/churn")
    assert config.model("churn").artifact == "models/clf.joblib"


def test_a_github_origin_is_the_forge(repo: Path, cli) -> None:
    pipeline(repo)
    git(repo, "remote", "add", "origin", "git@github.com:acme/churn-model.git")
    assert cli("init", "--no-ci").code == 0
    forge = load_config(repo).forge
    assert (forge.kind, forge.repo) == ("github", "acme/churn-model")


@pytest.mark.parametrize(("args", "message"), [
    (("--model", "Churn_Model=m.pkl"),
     "error: --model Churn_Model=...: a model name is lowercase letters, digits and dashes, "
     "at most 63 (it names Kubernetes resources)"),
    (("--repo", "churn"), "error: --repo 'churn': expected OWNER/NAME"),
    (("--forge", "github"),
     "error: --forge github needs --repo OWNER/NAME (origin is not a GitHub URL)"),
])
def test_bad_input_is_one_line_and_writes_nothing(repo: Path, cli, args: tuple[str, ...],
                                                  message: str) -> None:
    pipeline(repo)
    result = cli("init", *args)
    assert result.code == 1
    assert result.err.strip().splitlines() == [message]
    assert git(repo, "status", "--porcelain") == ""


def test_publishing_refuses_before_writing_anything(repo: Path, cli) -> None:
    """`init --repo` publishes the repository: what would stop that is refused first."""
    (repo / "dvc.yaml").write_text(PIPELINE.format(outs="m.pkl", deps="m.pkl"))
    result = cli("init", "--repo", "local/proj")
    assert (result.code, result.err.strip()) == (1, (
        f"error: {repo.resolve()}: main has no commit yet; commit your project first "
        "(`git add -A && git commit`), then publish it"))
    pipeline(repo)
    git(repo, "remote", "add", "origin", "https://gitlab.example/acme/proj.git")
    result = cli("init", "--repo", "local/proj")
    assert (result.code, result.err.strip()) == (1, (
        "error: origin is https://gitlab.example/acme/proj.git, not local/proj on the local "
        "forge; jx-mlops pushes to origin: rename it (`git remote rename origin upstream`) or "
        "point it at the forge repository"))
    git(repo, "remote", "remove", "origin")
    git(repo, "checkout", "-q", "--detach")
    result = cli("init", "--repo", "local/proj")
    assert result.code == 1 and "HEAD is detached" in result.err
    assert git(repo, "status", "--porcelain") == ""
    assert not (jx_home() / "forge").exists()


def test_a_forge_init_cannot_reach_is_a_note(repo: Path, cli) -> None:
    pipeline(repo)
    result = cli("init", "--no-ci", "--forge", "github", "--repo", "acme/churn")
    assert result.code == 0
    assert ("note: not published on the forge (the github forge needs a token: set "
            "GITHUB_TOKEN or GH_TOKEN): commit these files, then run `jx-mlops forge repo "
            "create`") in result.out
    config = load_config(repo)
    assert [(e.name, e.repo) for e in config.environments] == [
        ("staging", "acme/environment-staging"), ("production", "acme/environment-production")]


def test_not_a_dvc_project_says_how_to_make_one(tmp_path: Path, cli, monkeypatch) -> None:
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    result = cli("init")
    assert result.code == 1
    assert result.err.strip() == (f"error: {tmp_path.resolve()}: not a DVC project (no .dvc "
                                  "directory; run `dvc init`)")


def test_unreadable_metrics_are_diagnosed_precisely(repo: Path, cli) -> None:
    pipeline(repo)
    cli("init", "--no-ci")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "adopt")
    data = json.loads(cli("report", "--base", "HEAD", "--head", "HEAD", "--format", "json",
                          "--trend", "0").out)
    problems = data["models"][0]["head_problems"]
    assert problems == ["scores.json at HEAD (" + git(repo, "rev-parse", "--short=7", "HEAD")
                        + ") is a `cache: false` output of stage evaluate that is not in "
                        "git there (never committed, or deleted; DVC keeps no copy to pull: "
                        "commit it after `dvc repro`)"]
    (repo / "scores.json").write_text('{"accuracy": 0.9,\n "f1": }')
    data = json.loads(cli("report", "--base", "HEAD", "--format", "json", "--trend",
                          "0").out)
    assert data["models"][0]["head_problems"] == [
        "scores.json at workspace: not valid JSON: Expecting value: line 2 column 8 (char 25)"]
    assert data["verdict"] == "fail"


SPEC = """\
stages:
  train:
    cmd: python train.py
    params:
    - config/train.yaml:
      - lr
    metrics:
    - scores.json:
        cache: false
    plots:
    - curves:
        cache: false
        x: step
plots:
- {name}:
    y:
      history.json: acc
"""


def revision(root: Path, plot_name: str, lr: float, acc: float) -> None:
    (root / "dvc.yaml").write_text(SPEC.format(name=plot_name))
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / "train.yaml").write_text(f"lr: {lr}\nepochs: 3\n")
    (root / "scores.json").write_text(json.dumps({"acc": acc}))
    (root / "history.json").write_text(json.dumps([{"acc": acc - 0.1}, {"acc": acc}]))
    (root / "curves").mkdir(exist_ok=True)
    for name in ("train", "test"):
        (root / "curves" / f"{name}.csv").write_text(f"step,loss\n0,1\n1,{1 - acc:.2f}\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"lr {lr}")


@pytest.mark.slow  # dvc metrics/params/plots diff as the oracle, on three revisions
def test_params_files_plot_dirs_and_renamed_plots_as_dvc_reads_them(repo: Path, cli) -> None:
    (repo / "params.yaml").unlink()
    revision(repo, "accuracy-history", 0.1, 0.8)
    revision(repo, "acc-history", 0.05, 0.85)  # the plot is renamed at the head
    cli("init", "--no-ci", "--model", "clf=model.pkl")
    data = json.loads(cli("report", "--base", "HEAD~1", "--head", "HEAD", "--format",
                          "json", "--trend", "0").out)
    params = dvc_json(repo, "params", "diff", "HEAD~1", "HEAD", "--all")
    assert {(p["path"], p["name"]): (p["base"], p["head"]) for p in data["params"]} == {
        (path, name): (v["old"], v["new"]) for path, rows in params.items()
        for name, v in rows.items()}
    metrics = dvc_json(repo, "metrics", "diff", "HEAD~1", "HEAD")
    assert {m["name"]: (m["base"], m["head"]) for m in data["metrics"]} == {
        name: (v["old"], v["new"]) for rows in metrics.values() for name, v in rows.items()}
    ids = dvc_json(repo, "plots", "diff", "HEAD~1", "HEAD")["data"]
    titles = {p["title"] for p in data["plots"]}
    assert set(ids) <= titles | {n.split(":")[0] for n in data["notes"]}, (ids, titles)
    assert {"curves/train.csv", "curves/test.csv", "accuracy-history", "acc-history"} <= titles


def test_init_on_the_local_forge_makes_one_key_pair(repo: Path, cli) -> None:
    pipeline(repo)
    assert cli("init", "--no-ci").code == 0
    public = (repo / "signing.pub").read_bytes()
    assert parse_config((repo / "mlops.yaml").read_text(), repo / "mlops.yaml").signing == \
        SigningConfig(public_key="signing.pub")
    assert len(list((jx_home() / "signing").glob("*.pem"))) == 1
    assert cli("init", "--no-ci").code == 0  # again: the same key, no second pair
    assert (repo / "signing.pub").read_bytes() == public
    assert len(list((jx_home() / "signing").glob("*.pem"))) == 1
