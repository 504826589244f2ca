"""CI context detection: GitHub Actions events and Jenkins X (Lighthouse) variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jx_mlops.ci.context import detect_context
from jx_mlops.errors import ConfigError

SHA_A, SHA_B = "a" * 40, "b" * 40


def _actions(tmp_path: Path, event: str, payload: dict) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(path),
            "GITHUB_REPOSITORY": "acme/churn", "GITHUB_SHA": SHA_A, "GITHUB_RUN_ID": "77",
            "GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_ACTOR": "ann",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3"}


def test_outside_ci() -> None:
    context = detect_context({})
    assert (context.provider, context.in_ci, context.pull_number) == ("none", False, None)


def test_pull_request_event_from_a_fork(tmp_path: Path) -> None:
    payload = {"number": 5, "pull_request": {
        "number": 5, "head": {"sha": SHA_B, "ref": "feature", "repo": {"full_name": "eve/churn"}},
        "base": {"sha": SHA_A, "ref": "main", "repo": {"full_name": "acme/churn"}}}}
    context = detect_context(_actions(tmp_path, "pull_request", payload))
    assert (context.provider, context.event, context.repo) == (
        "github-actions", "pull_request", "acme/churn")
    assert (context.pull_number, context.head_sha, context.base_sha, context.base_ref) == (
        5, SHA_B, SHA_A, "main")
    assert context.from_fork and context.actor == "ann"
    assert context.run_url == "https://ghe.example.com/acme/churn/actions/runs/77"
    assert context.api_url == "https://ghe.example.com/api/v3"


def test_issue_comment_on_a_pull_request_and_on_an_issue(tmp_path: Path) -> None:
    payload = {"issue": {"number": 9, "pull_request": {"url": "x"}},
               "comment": {"id": 1234, "body": "/retrain", "user": {"login": "wendy"}}}
    context = detect_context(_actions(tmp_path, "issue_comment", payload))
    assert context.pull_number == 9 and context.comment is not None
    assert (context.comment.id, context.comment.body, context.comment.author,
            context.comment.on_pull_request) == (1234, "/retrain", "wendy", True)
    del payload["issue"]["pull_request"]
    context = detect_context(_actions(tmp_path, "issue_comment", payload))
    assert context.pull_number is None and context.comment.on_pull_request is False


def test_push_schedule_and_workflow_run(tmp_path: Path) -> None:
    push = detect_context(_actions(tmp_path, "push", {"after": SHA_B, "ref": "refs/heads/main"}))
    assert (push.event, push.sha) == ("push", SHA_B)
    schedule = detect_context(_actions(tmp_path, "schedule", {"schedule": "17 5 * * 1-5"}))
    assert (schedule.event, schedule.sha, schedule.pull_number) == ("schedule", SHA_A, None)
    run = detect_context(_actions(tmp_path, "workflow_run", {"workflow_run": {
        "id": 31, "name": "mlops-pr", "event": "pull_request", "conclusion": "success",
        "head_sha": SHA_B, "head_branch": "feature",
        "head_repository": {"full_name": "eve/churn"}, "pull_requests": []}}))
    assert run.workflow_run is not None
    assert (run.workflow_run.id, run.workflow_run.head_sha, run.workflow_run.head_repo,
            run.workflow_run.pull_numbers) == (31, SHA_B, "eve/churn", ())


def test_bad_event_files_are_one_line(tmp_path: Path) -> None:
    env = _actions(tmp_path, "push", {})
    (tmp_path / "event.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not a JSON event payload"):
        detect_context(env)
    env["GITHUB_EVENT_PATH"] = str(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match=r"missing\.json does not exist"):
        detect_context(env)


def test_jenkins_x_presubmit_and_postsubmit() -> None:
    env = {"JOB_TYPE": "presubmit", "REPO_OWNER": "acme", "REPO_NAME": "churn",
           "PULL_NUMBER": "12", "PULL_BASE_REF": "main", "PULL_BASE_SHA": SHA_A,
           "PULL_PULL_SHA": SHA_B, "BUILD_ID": "4", "JX_MLOPS_RUN_URL": "https://jx/run/4"}
    context = detect_context(env)
    assert (context.provider, context.event, context.repo, context.pull_number) == (
        "jenkins-x", "presubmit", "acme/churn", 12)
    assert (context.head_sha, context.base_sha, context.sha, context.run_url) == (
        SHA_B, SHA_A, SHA_B, "https://jx/run/4")
    post = detect_context({**env, "JOB_TYPE": "postsubmit", "PULL_NUMBER": "",
                           "PULL_PULL_SHA": ""})
    assert (post.event, post.pull_number, post.sha) == ("postsubmit", None, SHA_A)
    with pytest.raises(ConfigError, match="PULL_NUMBER: expected a pull request number"):
        detect_context({**env, "PULL_NUMBER": "twelve"})


def test_merge_group_event_is_checked_like_a_pull_request(tmp_path: Path) -> None:
    queue = f"refs/heads/gh-readonly-queue/main/pr-12-{SHA_A}"
    payload = {"action": "checks_requested", "merge_group": {
        "head_sha": SHA_B, "head_ref": queue, "base_sha": SHA_A, "base_ref": "refs/heads/main",
        "head_commit": {"id": SHA_B}}}
    context = detect_context(_actions(tmp_path, "merge_group", payload))
    assert (context.event, context.sha, context.head_sha, context.head_ref) == (
        "merge_group", SHA_B, SHA_B, queue)
    assert (context.base_sha, context.base_ref, context.pull_number) == (
        SHA_A, "refs/heads/main", None)
    assert not context.from_fork


def test_a_queue_branch_names_the_pull_request_it_was_built_for() -> None:
    from jx_mlops.ci.mergequeue import queued_pull

    assert queued_pull(f"refs/heads/gh-readonly-queue/main/pr-12-{SHA_A}") == 12
    assert queued_pull(f"gh-readonly-queue/release/v2/pr-3-{SHA_B}") == 3
    assert queued_pull("refs/heads/feature") is None
    assert queued_pull("gh-readonly-queue/main/pr-12-notasha") is None
