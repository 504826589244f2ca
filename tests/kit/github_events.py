"""GitHub Actions-shaped runs: event payloads (checked against GitHub's webhook schemas)
and the environment a runner gives a job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kit.github_server import GitHubServer, schemas

# A fork's pull request job gets a token that may only read.
READ_ONLY = "ghs_forkPullRequestReadOnlyToken000000"


def _checked(document: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = schemas.fill(schemas.document(document), payload)
    problems = schemas.problems(document, body)
    assert problems == [], problems
    return body


def _repository(server: GitHubServer, repo: str) -> dict[str, Any]:
    state = server.state
    return state.repo_json(state.repos[repo.lower()], state.repos[repo.lower()].owner)


def pull_request_event(server: GitHubServer, repo: str, number: int,
                       action: str = "opened", sender: str = "tester",
                       changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``pull_request`` webhook payload GitHub sends for ``repo#number`` (``edited``
    carries ``changes``: what the title, body or base was before)."""
    state = server.state
    pull = state.pull_json(state.pulls[(state.repos[repo.lower()].full_name, number)])
    extra = {"changes": changes or {}} if action == "edited" else {}
    return _checked(f"webhook webhook-pull-request-{action}", {
        "action": action, "number": number, "pull_request": pull,
        "repository": _repository(server, repo), "sender": state.user_json(sender), **extra})


def issue_comment_event(server: GitHubServer, repo: str, number: int,
                        comment_id: int) -> dict[str, Any]:
    """The ``issue_comment`` (created) payload for comment ``comment_id`` on PR ``number``."""
    state = server.state
    comment = state.comment_json(state.comments[comment_id])
    pull = state.pull_json(state.pulls[(state.repos[repo.lower()].full_name, number)])
    issue = {key: pull[key] for key in ("id", "node_id", "number", "title", "body", "user",
                                        "labels", "state", "locked", "created_at",
                                        "updated_at", "closed_at", "html_url", "url",
                                        "comments_url", "author_association")}
    issue["pull_request"] = {"url": pull["url"], "html_url": pull["html_url"],
                             "diff_url": f"{pull['html_url']}.diff",
                             "patch_url": f"{pull['html_url']}.patch"}
    issue["reactions"] = {**comment["reactions"], "total_count": 0}
    return _checked("webhook webhook-issue-comment-created", {
        "action": "created", "comment": comment, "issue": issue,
        "repository": _repository(server, repo), "sender": comment["user"]})


def push_event(server: GitHubServer, repo: str, before: str, after: str,
               ref: str = "refs/heads/main") -> dict[str, Any]:
    """The ``push`` payload for ``ref`` moving from ``before`` to ``after``."""
    owner = server.state.user_json("tester")
    return _checked("webhook webhook-push", {
        "ref": ref, "before": before, "after": after, "created": False, "deleted": False,
        "forced": False, "repository": _repository(server, repo), "sender": owner,
        "pusher": {"name": "tester", "email": None},
        "head_commit": None, "commits": []})


def merge_group_event(server: GitHubServer, repo: str, head_sha: str, head_ref: str,
                      base_sha: str, base_ref: str = "main") -> dict[str, Any]:
    """A ``merge_group`` (checks_requested) payload, as GitHub documents it. Not checked
    against a schema: the reference schemas the tests are built from have no merge_group
    webhook."""
    return {"action": "checks_requested", "merge_group": {
        "head_sha": head_sha, "head_ref": f"refs/heads/{head_ref}", "base_sha": base_sha,
        "base_ref": f"refs/heads/{base_ref}",
        "head_commit": {"id": head_sha, "tree_id": "0" * 40,
                        "message": f"Merge pull request into {base_ref}",
                        "timestamp": "2026-12-05T22:00:00Z",
                        "author": {"name": "tester", "email": "tester@example.invalid"},
                        "committer": {"name": "GitHub", "email": "noreply@github.com"}}},
        "repository": _repository(server, repo), "sender": server.state.user_json("tester")}


def workflow_run_event(repo: str, run_id: int, head_sha: str, head_branch: str,
                       head_repo: str, pull_numbers: tuple[int, ...] = ()) -> dict[str, Any]:
    """A ``workflow_run`` (completed) payload: the fields jx-mlops reads.

    GitHub leaves ``pull_requests`` empty when the head is in a fork.
    """
    return {"action": "completed", "workflow_run": {
        "id": run_id, "name": "mlops-pr", "event": "pull_request", "status": "completed",
        "conclusion": "success", "head_sha": head_sha, "head_branch": head_branch,
        "head_repository": {"full_name": head_repo},
        "pull_requests": [{"number": n} for n in pull_numbers]},
        "repository": {"full_name": repo}}


def actions_env(tmp: Path, server: GitHubServer, event: str, payload: dict[str, Any],
                repo: str, sha: str, *, token: str | None = None,
                actor: str = "tester") -> dict[str, str]:
    """The variables a GitHub Actions runner sets for a job (payload written to a file)."""
    path = tmp / f"event-{event}-{len(list(tmp.glob('event-*')))}.json"
    path.write_text(json.dumps(payload))
    env = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_EVENT_NAME": event,
           "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": repo, "GITHUB_SHA": sha,
           "GITHUB_REF": "refs/heads/main", "GITHUB_SERVER_URL": server.url,
           "GITHUB_API_URL": server.api_url, "GITHUB_RUN_ID": "4242", "GITHUB_ACTOR": actor}
    if token:
        env["GITHUB_TOKEN"] = token
    return env


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Run the rest of the test in the job's environment ``env`` (no inherited token)."""
    for key in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
