"""Trusted evaluation (issue 13): a pull request cannot grade its own homework.

The quickstart's mlops.yaml names `evaluate` as the trusted stage, so `ci pr` scores the
PR's model with main's `evaluate` in a separate work tree and judges those numbers; the
PR's own are shown beside them as self-reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git
from kit.workspace import Project

from jx_mlops.ci.fork_report import FORK_TRUSTED_NOTE, comparison_from_json
from jx_mlops.compare.comparison import Comparison
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.report.markdown import render_comment

pytestmark = pytest.mark.slow
REPO = "local/churn"

FORGERY = '''    import json
    forged = json.loads(Path("metrics.json").read_text())
    forged["accuracy"] = 1.0  # "the model is perfect"
    Path("metrics.json").write_text(json.dumps(forged, indent=2))
'''


def _open_pull(project: Project, cli, branch: str, *edits: tuple[str, str, str]) -> None:
    """A PR from ``branch`` that replaces text in files: (path, old, new) each."""
    git(project.path, "checkout", "-q", "-b", branch)
    for path, old, new in edits:
        file = project.path / path
        assert old in file.read_text()
        file.write_text(file.read_text().replace(old, new))
    git(project.path, "commit", "-qam", f"{branch}: edit {edits[0][0]}")
    result = cli("forge", "pr", "create")
    assert result.code == 0, result.err
    git(project.path, "checkout", "-q", "main")


def _worktrees(project: Project) -> list[str]:
    return [line for line in git(project.path, "worktree", "list").splitlines() if line]


def _main_metrics(project: Project) -> dict[str, float]:
    metrics: dict[str, float] = json.loads(git(project.path, "show", "main:metrics.json"))
    return metrics


def test_a_forged_accuracy_is_shown_as_self_reported_and_never_judged(
        project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    main = _main_metrics(project)
    _open_pull(project, cli, "better-evaluation", (
        "src/evaluate.py", '    print(Path("metrics.json").read_text().strip())',
        FORGERY + '    print(Path("metrics.json").read_text().strip())'))

    result = cli("ci", "pr", "--pr", "1", "--json")
    assert result.code == 0, result.err
    check = json.loads(result.out)
    # The verdict's numbers are main's evaluation of the PR's (unchanged) model.
    accuracy = next(m for m in check["metrics"] if m["name"] == "accuracy")
    assert (accuracy["head"], accuracy["status"]) == (main["accuracy"], "unchanged")
    trusted = check["trusted"]
    assert (trusted["stage"], trusted["base"], trusted["scored"]) == ("evaluate", "main", True)
    assert trusted["base_sha"] == git(project.path, "rev-parse", "main")
    differing = [r for r in trusted["self_reported"] if r["differs"]]
    assert differing == [{"model": "churn", "path": "metrics.json", "name": "accuracy",
                          "trusted": main["accuracy"], "reported": 1.0, "differs": True}]
    assert check["summary"].endswith("1 self-reported value differs from trusted evaluation")

    forge = LocalForge(project.home / "forge")
    body = forge.list_comments(REPO, 1)[0].body
    assert "**Trusted evaluation:** scored by `evaluate` as of `main` @ " in body
    assert f"| metrics.json: accuracy | {main['accuracy']:.4g} | ⚠️ 1 |" in body
    pull = forge.get_pull(REPO, 1)
    (status,) = forge.get_statuses(REPO, pull.head_sha)
    assert "self-reported value differs" in status.description
    # The PR branch holds its own (self-reported) results, nothing of the trusted run,
    # and the trusted work tree is gone.
    assert json.loads(git(project.path, "show", f"{pull.head_sha}:metrics.json"))[
        "accuracy"] == 1.0
    assert len(_worktrees(project)) == 1

    # `ci publish` carries it faithfully from a fork's artifact, saying where it ran.
    relayed = comparison_from_json(check, "jx-mlops-report.json")
    assert relayed.trusted is not None and relayed.trusted.differences[0].reported == 1.0
    assert relayed.verdict.line == check["summary"]
    relayed = _with_where(relayed)
    assert "⚠️ 1 |" in render_comment(relayed)
    assert "relayed from its artifact" in render_comment(relayed)


def _with_where(comparison: Comparison) -> Comparison:
    from dataclasses import replace

    assert comparison.trusted is not None
    return replace(comparison, trusted=replace(comparison.trusted, where=FORK_TRUSTED_NOTE))


def test_a_model_the_base_cannot_score_fails_the_check(project: Project, cli,
                                                       monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    # A new model format: the PR wraps the estimator; main's evaluate cannot read it.
    _open_pull(project, cli, "wrapped-model",
               ("src/model_io.py", "        pickle.dump(model, handle)",
                '        pickle.dump({"format": 2, "estimator": model}, handle)'),
               ("src/model_io.py", "        return pickle.load(handle)",
                '        return pickle.load(handle)["estimator"]'))

    result = cli("ci", "pr", "--pr", "1", "--json")
    check = json.loads(result.out)
    assert check["verdict"] == "fail"
    assert check["trusted"]["scored"] is False
    assert "predict_proba" in check["trusted"]["problem"]
    assert "trusted evaluation: main's `evaluate` could not score this PR's model" in \
        check["summary"]
    body = LocalForge(project.home / "forge").list_comments(REPO, 1)[0].body
    assert "❌ **Trusted evaluation failed:** `evaluate` as of `main` @ " in body
    assert len(_worktrees(project)) == 1


def test_a_pr_cannot_switch_trusted_evaluation_off(project: Project, cli, monkeypatch,
                                                   tmp_path: Path) -> None:
    from jx_mlops.config.project import load_config
    from jx_mlops.evaluation.snapshot import snapshot
    from jx_mlops.evaluation.trusted import effective_evaluation
    from jx_mlops.git.repo import GitRepo

    mlops = project.path / "mlops.yaml"
    mlops.write_text(mlops.read_text().replace("evaluation:\n  trusted: evaluate\n", ""))
    config = load_config(project.path)
    assert config.evaluation.trusted is None
    repo = GitRepo.open(project.path)
    try:
        base = snapshot(repo, project.path, "main", "main")
        assert effective_evaluation(config, repo, base).trusted == "evaluate"
    finally:
        repo.close()
