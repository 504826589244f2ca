"""`ci pr` and `ci release` in Jenkins X (Lighthouse) runs: Prow's variables, no flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git
from kit.github import TOKEN, GitHubProject

pytestmark = pytest.mark.slow


def _lighthouse_env(job_type: str, *, base_sha: str, pull: int | None = None,
                    pull_sha: str | None = None) -> dict[str, str]:
    """The variables Lighthouse gives every step of a PipelineRun it starts."""
    env = {"JOB_TYPE": job_type, "JOB_NAME": "pr" if pull else "release",
           "BUILD_ID": "7", "REPO_OWNER": "local", "REPO_NAME": "churn",
           "PULL_BASE_REF": "main", "PULL_BASE_SHA": base_sha, "CI": "true",
           "GITHUB_TOKEN": TOKEN}
    if pull is not None and pull_sha:
        env.update(PULL_NUMBER=str(pull), PULL_PULL_SHA=pull_sha,
                   PULL_REFS=f"main:{base_sha},{pull}:{pull_sha}")
    return env


def test_jenkins_x_presubmit_and_postsubmit(github_project: GitHubProject, cli,
                                            monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    gp = github_project
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert cli("-C", gp.path, "retrain", "--set", "train.max_depth=7").code == 0
    pull = gp.forge().get_pull(gp.repo, 1)
    base_sha = git(gp.path, "rev-parse", "origin/main")

    # Lighthouse clones the repository and checks out the pull request's head.
    work = gp.clone(tmp_path / "presubmit", branch=pull.head)
    for key, value in _lighthouse_env("presubmit", base_sha=base_sha, pull=1,
                                      pull_sha=pull.head_sha).items():
        monkeypatch.setenv(key, value)
    result = cli("-C", work, "ci", "pr", "--json")
    assert result.code == 0, result.err
    check = json.loads(result.out)
    assert check["pull_request"] == 1 and check["results_committed"] is True
    comments = gp.forge().list_comments(gp.repo, 1)
    assert [c.body.splitlines()[0] for c in comments] == ["<!-- jx-mlops:report id=default -->"]

    merged = gp.forge().merge_pull(gp.repo, 1)
    work = gp.clone(tmp_path / "postsubmit")
    for key in ("PULL_NUMBER", "PULL_PULL_SHA", "PULL_REFS"):
        monkeypatch.delenv(key)
    for key, value in _lighthouse_env("postsubmit",
                                      base_sha=merged.merge_commit_sha or "").items():
        monkeypatch.setenv(key, value)
    result = cli("-C", work, "ci", "release", "--json")
    assert result.code == 0, result.err
    released = json.loads(result.out)
    assert released["commit"] == merged.merge_commit_sha
    assert released["registrations"][0]["tag"] == "churn@v0.0.1"
    assert released["promotions"][0]["environment"] == "staging"
