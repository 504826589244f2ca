"""`ci pr`, `ci publish` and `ci release` in GitHub Actions-shaped runs (event payload file
and GITHUB_* variables) against the loopback GitHub."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from kit.git import git
from kit.github import TOKEN, GitHubProject, retrain_on_github
from kit.github_events import (
    READ_ONLY,
    actions_env,
    merge_group_event,
    pull_request_event,
    push_event,
    use_env,
    workflow_run_event,
)

from jx_mlops.forge.github.credentials import git_auth_env

pytestmark = pytest.mark.slow


def test_fork_pull_request_is_trained_without_secrets_then_published(
        github_project: GitHubProject, cli, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    gp, server = github_project, github_project.server
    pull = retrain_on_github(gp, cli, monkeypatch, "train.n_estimators=150")
    head_sha = gp.forge().get_pull(gp.repo, 1).head_sha

    # mlops-pr.yml: a shallow checkout of the PR head, a read-only token, no secrets.
    server.add_user("fork-runner", READ_ONLY, permissions={"metadata=read", "contents=read",
                                                           "pull_requests=read"})
    server.set_permission(gp.repo, "fork-runner", "read")
    work = gp.clone(tmp_path / "checkout", branch=pull["head"], depth=1)
    event = pull_request_event(server, gp.repo, 1)
    use_env(monkeypatch, actions_env(tmp_path, server, "pull_request", event, gp.repo,
                                     head_sha, token=READ_ONLY))
    before = len(server.calls)
    result = cli("-C", work, "ci", "pr", "--output", tmp_path / "artifact", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["pull_request"], report["head_sha"]) == (1, head_sha)
    assert report["base_sha"] == event["pull_request"]["base"]["sha"]
    assert all(c.startswith(("GET ", "git fetch")) for c in server.calls[before:])
    assert gp.forge().list_comments(gp.repo, 1) == []

    # mlops-comment.yml: no checkout at all, the artifact, a token that may write.
    empty = tmp_path / "publisher"
    empty.mkdir()
    run_event = workflow_run_event(gp.repo, 99, head_sha, pull["head"], "someone/churn")
    use_env(monkeypatch, actions_env(tmp_path, server, "workflow_run", run_event, gp.repo,
                                     "0" * 40, token=TOKEN))
    result = cli("-C", empty, "ci", "publish", tmp_path / "artifact", "--json")
    assert result.code == 0, result.err
    published = json.loads(result.out)
    assert (published["pull_request"], published["comment_created"]) == (1, True)
    comments = gp.forge().list_comments(gp.repo, 1)
    assert len(comments) == 1
    # Re-rendered from the checked JSON, it says exactly what the PR run rendered: verdict,
    # metrics with their significance, params, data, plots, lineage.
    rendered = (tmp_path / "artifact" / "comment.md").read_text()
    assert comments[0].body == rendered
    for section in ("| metrics.json: accuracy", "<summary>Data and outputs", "xychart-beta",
                    "Lineage", "**Trusted evaluation:** scored by `evaluate` as of `main`",
                    "relayed from its artifact"):
        assert section in rendered
    assert (tmp_path / "artifact" / "report.html").read_text().startswith("<!DOCTYPE html>")
    statuses = gp.forge().get_statuses(gp.repo, head_sha)
    assert [(s.context, s.state) for s in statuses] == [
        ("jx-mlops/evaluation", "success" if report["verdict"] == "pass" else "failure")]
    assert statuses[0].target_url == f"{server.url}/local/churn/actions/runs/99"
    check = next(c for c in server.state.checks.values() if c["name"] == "jx-mlops report")
    assert check["head_sha"] == head_sha and check["output"]["summary"] == comments[0].body


def test_publish_treats_the_artifact_as_untrusted(github_project: GitHubProject, cli,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    gp, server = github_project, github_project.server
    pull = retrain_on_github(gp, cli, monkeypatch, "train.n_estimators=150")
    head_sha = gp.forge().get_pull(gp.repo, 1).head_sha
    work = gp.clone(tmp_path / "checkout", branch=pull["head"], depth=1)
    use_env(monkeypatch, actions_env(tmp_path, server, "pull_request",
                                     pull_request_event(server, gp.repo, 1), gp.repo, head_sha,
                                     token=TOKEN))
    assert cli("-q", "-C", work, "ci", "pr", "--output", tmp_path / "a").code == 0
    path = tmp_path / "a" / "jx-mlops-report.json"
    data = json.loads(path.read_text())
    data["comparison"]["metrics"][0]["name"] = "<img src=x onerror=alert(1)> @org/team"
    data["comparison"]["summary"] = "pass: all good [click](https://evil.example)"
    path.write_text(json.dumps(data))
    (tmp_path / "a" / "comment.md").write_text("# pwned\n")
    run_event = workflow_run_event(gp.repo, 7, head_sha, pull["head"], "someone/churn")
    use_env(monkeypatch, actions_env(tmp_path, server, "workflow_run", run_event, gp.repo,
                                     "0" * 40, token=TOKEN))
    assert cli("ci", "publish", tmp_path / "a").code == 0
    body = gp.forge().list_comments(gp.repo, 1)[0].body
    assert "pwned" not in body and "<img" not in body and "@org" not in body
    assert "&lt;img src=x onerror=alert\\(1\\)&gt; &#64;org/team" in body
    assert "[click](https" not in body

    # A report claiming another pull request (or commit) is not posted anywhere.
    data["pull_request"] = 2
    path.write_text(json.dumps(data))
    refused = cli("ci", "publish", tmp_path / "a")
    assert refused.code == 1
    assert refused.err.strip() == (
        f"error: the report claims pull request #2, but commit {head_sha[:12]} heads #1: "
        "not publishing it")
    data.update(pull_request=1, head_sha="f" * 40)
    path.write_text(json.dumps(data))
    assert "workflow run was for" in cli("ci", "publish", tmp_path / "a").err
    data["schema"] = "something else"
    path.write_text(json.dumps(data))
    assert "schema: expected 'jx-mlops/pr-report@1'" in cli("ci", "publish", tmp_path / "a").err


def test_same_repository_pr_and_release_and_the_token_never_shows(
        github_project: GitHubProject, cli, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    gp, server = github_project, github_project.server
    outputs = []
    retrain_on_github(gp, cli, monkeypatch, "train.n_estimators=150")
    head_sha = gp.forge().get_pull(gp.repo, 1).head_sha

    # mlops-pr.yml, same-repository job: trains, commits results, posts, sets the status.
    work = gp.clone(tmp_path / "pr-checkout", depth=1)
    event = pull_request_event(server, gp.repo, 1, action="synchronize")
    use_env(monkeypatch, actions_env(tmp_path, server, "pull_request", event, gp.repo,
                                     head_sha, token=TOKEN))
    result = cli("-C", work, "ci", "pr", "--json")
    outputs.append(result)
    assert result.code == 0, result.err
    check = json.loads(result.out)
    assert check["results_committed"] is True and check["comment_created"] is True
    pull = gp.forge().get_pull(gp.repo, 1)
    assert pull.head_sha == check["head_sha"] != head_sha
    status = gp.forge().get_statuses(gp.repo, pull.head_sha)[0]
    assert status.target_url == f"{server.url}/local/churn/actions/runs/4242"
    runs = [c for c in server.state.checks.values() if c["head_sha"] == pull.head_sha]
    assert [(c["name"], c["conclusion"]) for c in runs] == [("jx-mlops report", status.state)]
    assert runs[0]["output"]["summary"].startswith("<!-- jx-mlops:report id=default -->")

    # main requires a merge queue: mlops-pr.yml checks the queue's head commit.
    outputs.append(_merge_queue_check(gp, cli, monkeypatch, tmp_path, status.state))

    # A reviewer merges; mlops-release.yml runs on the push to main.
    merged = gp.forge().merge_pull(gp.repo, 1)
    release_work = gp.clone(tmp_path / "release-checkout")
    push = push_event(server, gp.repo, event["pull_request"]["base"]["sha"],
                      merged.merge_commit_sha or "")
    use_env(monkeypatch, actions_env(tmp_path, server, "push", push, gp.repo,
                                     merged.merge_commit_sha or "", token=TOKEN))
    result = cli("-C", release_work, "ci", "release", "--json")
    outputs.append(result)
    assert result.code == 0, result.err
    released = json.loads(result.out)
    assert released["commit"] == merged.merge_commit_sha
    assert [r["tag"] for r in released["registrations"]] == ["churn@v0.0.1"]
    assert released["promotions"][0]["merged"] is True
    bare = server.state.git.path("local/churn")
    assert git(bare, "rev-parse", "churn@v0.0.1^{commit}") == merged.merge_commit_sha
    message = git(bare, "tag", "-l", "--format=%(contents)", "churn@v0.0.1")
    assert '"run_url": "' + server.url + '/local/churn/actions/runs/4242"' in message
    assert '"source_pull": 1' in message
    staging = server.state.git.path("local/environment-staging")
    assert "version: v0.0.1" in git(staging, "show", "main:models/churn.yaml")

    # An error path too: a token without write permission.
    server.add_user("reader", "ghp_readerOnlyTokenForTheScanTest00000",
                    permissions={"metadata=read", "pull_requests=read"})
    server.set_permission(gp.repo, "reader", "read")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_readerOnlyTokenForTheScanTest00000")
    outputs.append(cli("-C", gp.path, "forge", "pr", "comment", "1", "--body", "hi"))
    assert outputs[-1].code == 1 and "needs pull_requests: write" in outputs[-1].err
    _assert_token_nowhere(tmp_path, gp, outputs,
                          ["ghp_readerOnlyTokenForTheScanTest00000", TOKEN])


def _merge_queue_check(gp: GitHubProject, cli, monkeypatch: pytest.MonkeyPatch,
                       tmp_path: Path, pr_state: str) -> object:
    """PR #1 enters the merge queue; `ci pr` on the merge_group event trains the queue's
    head commit, compares it with the queue's base, and sets the status there only. main
    did not move, so the queue's head holds the PR's model and gets the PR's verdict."""
    server = gp.server
    pull = gp.forge().get_pull(gp.repo, 1)
    # What GitHub does: main with the PR merged in, pushed as a gh-readonly-queue branch.
    build = gp.clone(tmp_path / "queue-build")
    base_sha = git(build, "rev-parse", "HEAD")
    env = {**os.environ, **git_auth_env(server.url, TOKEN)}
    queue = f"gh-readonly-queue/main/pr-1-{pull.head_sha}"
    for args in (("fetch", "-q", "origin", pull.head),
                 ("merge", "-q", "--no-ff", "-m", "Merge pull request #1", "FETCH_HEAD"),
                 ("push", "-q", "origin", f"HEAD:refs/heads/{queue}")):
        subprocess.run(["git", "-C", str(build), *args], check=True, env=env)
    head_sha = git(build, "rev-parse", "HEAD")

    work = gp.clone(tmp_path / "queue-checkout", branch=queue, depth=1)
    event = merge_group_event(server, gp.repo, head_sha, queue, base_sha)
    use_env(monkeypatch, actions_env(tmp_path, server, "merge_group", event, gp.repo,
                                     head_sha, token=TOKEN))
    comments = len(gp.forge().list_comments(gp.repo, 1))
    result = cli("-C", work, "ci", "pr", "--json")
    assert result.code == 0, result.err
    check = json.loads(result.out)
    assert check["merge_group"] == {"head_sha": head_sha, "head_ref": queue,
                                    "base_sha": base_sha, "base_ref": "main"}
    assert (check["pull_request"], check["comment_id"]) == (1, None)
    accuracy = next(m for m in check["metrics"] if m["name"] == "accuracy")
    assert accuracy["base"] != accuracy["head"]  # the PR's model against main's
    # Scored by the base's evaluate stage, as the PR check is.
    assert check["trusted"]["stage"] == "evaluate" and check["trusted"]["scored"]
    statuses = gp.forge().get_statuses(gp.repo, head_sha)
    assert [(s.context, s.state) for s in statuses] == [("jx-mlops/evaluation", pr_state)]
    assert statuses[0].target_url == f"{server.url}/local/churn/actions/runs/4242"
    runs = [c for c in server.state.checks.values() if c["head_sha"] == head_sha]
    assert [(c["name"], c["conclusion"]) for c in runs] == [("jx-mlops report", pr_state)]
    # Nothing commented or pushed: the queue branch is GitHub's, the PR keeps its comment.
    assert len(gp.forge().list_comments(gp.repo, 1)) == comments
    assert git(server.state.git.path(gp.repo), "rev-parse", queue) == head_sha
    assert gp.forge().get_pull(gp.repo, 1).head_sha == pull.head_sha
    return result


def _assert_token_nowhere(tmp_path: Path, gp: GitHubProject, outputs, tokens) -> None:
    """No token, in clear or in git's header form, in any output, comment or file."""
    forms = set()
    for token in tokens:
        forms |= {token, base64.b64encode(f"x-access-token:{token}".encode()).decode()}
    texts = [r.out + r.err for r in outputs]
    texts += [c.body for c in gp.forge().list_comments(gp.repo, 1)]
    texts += [json.dumps(p) for p in gp.server.state.pulls.values()]
    scanned = 0
    for path in list(tmp_path.rglob("*")):
        if path.is_file() and "github" not in path.relative_to(tmp_path).parts[:1]:
            try:
                texts.append(path.read_text(errors="ignore"))
                scanned += 1
            except OSError:
                pass
    assert scanned > 100  # the clones, their .git/config, jx-home, the event files...
    for text in texts:
        for form in forms:
            assert form not in text
