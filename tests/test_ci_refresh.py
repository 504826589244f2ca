"""`ci refresh`: after main moves, open PRs' evaluations go stale until re-checked."""

from __future__ import annotations

import json

from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge

REPO = "local/churn"
CONTEXT = "jx-mlops/evaluation"


def test_verdicts_of_prs_behind_the_new_main_go_stale(project: Project, cli,
                                                      monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    forge = LocalForge(project.home / "forge")
    for setting in ("train.max_depth=6", "train.max_depth=7", "train.seed=3"):
        assert cli("retrain", "--set", setting).code == 0
    one, two, _three = (forge.get_pull(REPO, n) for n in (1, 2, 3))
    forge.set_status(REPO, one.head_sha, state="success", context=CONTEXT)
    forge.set_status(REPO, two.head_sha, state="failure", context=CONTEXT)
    unchanged = json.loads(cli("ci", "refresh", "--json").out)
    assert unchanged["stale"] == []  # main has not moved past any of them

    (project.path / "NOTES.md").write_text("main moves\n")
    git(project.path, "add", "NOTES.md")
    git(project.path, "commit", "-qm", "main moves")
    git(project.path, "push", "-q", "origin", "main")
    result = cli("ci", "refresh", "--json")
    assert result.code == 0, result.err
    refreshed = json.loads(result.out)
    main = git(project.path, "rev-parse", "main")
    assert refreshed == {"base": "main", "base_sha": main, "stale": [1, 2],
                         "kept": [{"pull_request": 3, "reason": "not evaluated yet"}]}
    (status,) = forge.get_statuses(REPO, one.head_sha)
    assert (status.state, status.description) == (
        "pending", f"main moved to {main[:7]}: re-run the evaluation (jx-mlops ci pr)")
    refused = cli("forge", "pr", "merge", "1")
    assert refused.code == 1 and "jx-mlops/evaluation: pending (main moved" in refused.err

    # Re-running changes nothing: a pending verdict waits for `ci pr`.
    shown = cli("ci", "refresh")
    assert shown.out.splitlines() == [
        f"main is at {main[:12]}: no open pull request's evaluation went stale",
        "PR #1: kept (evaluation pending)", "PR #2: kept (evaluation pending)",
        "PR #3: kept (not evaluated yet)"]
