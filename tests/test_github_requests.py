"""How many GitHub REST requests `ci pr` makes: an unchanged re-run must stay cheap (a
team's PRs are re-run often, and every request counts against the token's rate limit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git
from kit.github import TOKEN, GitHubProject
from kit.github_events import actions_env, pull_request_event

pytestmark = pytest.mark.slow

# What an unchanged re-run needs at most: the marked comment (one paginated list, and
# GET /user: a marker counts only in the comments of the token's own account), the pending
# status, the final status and the check run; the event payload names the PR.
RERUN_BUDGET = 5


def _api_calls(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith("git ")]


def test_unchanged_rerun_of_ci_pr_stays_within_its_request_budget(
        github_project: GitHubProject, cli, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    gp, server = github_project, github_project.server
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    # A PR that changes no stage input: ci pr runs the whole flow without training, which
    # is what the request count is about.
    git(gp.path, "switch", "-qc", "docs")
    (gp.path / "README.md").write_text((gp.path / "README.md").read_text() + "\nMore.\n")
    git(gp.path, "commit", "-qam", "README: more")
    assert cli("-C", gp.path, "forge", "pr", "create").code == 0
    pull = server.state.pulls[("local/churn", 1)]
    work = gp.clone(tmp_path / "checkout", depth=1)
    event = pull_request_event(server, gp.repo, 1, action="synchronize")
    for key, value in actions_env(tmp_path, server, "pull_request", event, gp.repo,
                                  pull["head_sha"], token=TOKEN).items():
        monkeypatch.setenv(key, value)

    runs = []
    for _ in range(2):
        before = len(server.calls)
        result = cli("-C", work, "ci", "pr", "--json")
        assert result.code == 0, result.err
        runs.append((json.loads(result.out), _api_calls(server.calls[before:])))
    (first, first_calls), (second, second_calls) = runs
    assert first["comment_created"] is True and second["comment_created"] is False
    assert second["head_sha"] == first["head_sha"]
    # The first run also creates the comment and re-lists to settle a race with another run.
    assert len(first_calls) <= RERUN_BUDGET + 2, "\n".join(first_calls)
    assert len(second_calls) <= RERUN_BUDGET, "\n".join(
        [f"{len(second_calls)} requests on an unchanged re-run (first run: "
         f"{len(first_calls)}):", *second_calls])
    # The re-run left the PR as the first run did: one comment, the same verdict.
    comments = gp.forge().list_comments(gp.repo, 1)
    assert len(comments) == 1
    statuses = gp.forge().get_statuses(gp.repo, second["head_sha"])
    assert [(s.context, s.state) for s in statuses] == [
        ("jx-mlops/evaluation", "success" if second["verdict"] == "pass" else "failure")]
