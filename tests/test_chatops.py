"""ChatOps: commands in PR comments, honoured only for writers, answered once."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from kit.git import git
from kit.github import TOKEN, GitHubProject, github_forge
from kit.github_events import actions_env, issue_comment_event, push_event
from kit.workspace import Project

from jx_mlops.forge.github.credentials import git_auth_env
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home


def _push_docs_pr(gp: GitHubProject, tmp_path: Path) -> int:
    """A pull request that changes only docs, merged: releasing it registers v0.0.1."""
    work = gp.clone(tmp_path / "docs-work")
    git(work, "checkout", "-qb", "docs")
    (work / "NOTES.md").write_text("notes\n")
    git(work, "add", "NOTES.md")
    git(work, "commit", "-qm", "docs")
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "docs"], check=True,
                   env={**os.environ, **git_auth_env(gp.server.url, TOKEN)})
    forge = gp.forge()
    forge.create_pull(gp.repo, title="Docs", body="", head="docs", base="main")
    return forge.merge_pull(gp.repo, 1).number


def _comment_as(gp: GitHubProject, user: str, body: str) -> int:
    token = f"ghp_{user}TokenForChatOpsTests0000000000"[:40]
    gp.server.add_user(user, token)
    return github_forge(gp.server, token=token, user=user).create_comment(gp.repo, 1, body).id


@pytest.mark.slow
def test_unauthorized_promote_changes_nothing_and_writers_are_obeyed(
        github_project: GitHubProject, cli, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    gp, server = github_project, github_project.server
    base = git(gp.path, "rev-parse", "origin/main")
    _push_docs_pr(gp, tmp_path)
    merge = gp.forge().get_pull(gp.repo, 1).merge_commit_sha or ""
    release = gp.clone(tmp_path / "release")
    for key, value in actions_env(tmp_path, server, "push",
                                  push_event(server, gp.repo, base, merge), gp.repo, merge,
                                  token=TOKEN).items():
        monkeypatch.setenv(key, value)
    assert cli("-q", "-C", release, "ci", "release").code == 0
    server.set_permission(gp.repo, "eve", "read")
    server.set_permission(gp.repo, "wendy", "write")
    production = server.state.git.path("local/environment-production")
    before = git(production, "for-each-ref")

    # mlops-chatops.yml runs on the default branch, never on the PR's code.
    checkout = gp.clone(tmp_path / "chatops")

    def chatops(comment_id: int, actor: str):
        event = issue_comment_event(server, gp.repo, 1, comment_id)
        for key, value in actions_env(tmp_path, server, "issue_comment", event, gp.repo,
                                      merge, token=TOKEN, actor=actor).items():
            monkeypatch.setenv(key, value)
        return cli("-C", checkout, "ci", "chatops", "--json")

    eve = _comment_as(gp, "eve", "/promote production")
    result = chatops(eve, "eve")
    assert result.code == 0, result.err
    outcome = json.loads(result.out)
    assert (outcome["permission"], outcome["commands"][0]["accepted"]) == ("read", False)
    comments = gp.forge().list_comments(gp.repo, 1)
    assert comments[-1].body.splitlines() == [
        f"<!-- jx-mlops:chatops comment={eve} -->",
        "Thanks @eve. `/promote production` can only be run by people with write access to "
        "`local/churn`, and you have read access, so nothing was done. A maintainer can run "
        "it for you."]
    assert comments[-2].reactions == ()
    assert git(production, "for-each-ref") == before
    assert gp.forge().list_pulls("local/environment-production", state="all") == []
    assert not (jx_home() / "history" / "chatops.jsonl").exists()

    # Answered once: the same event again does nothing more.
    assert json.loads(chatops(eve, "eve").out)["skipped"] == f"comment {eve} was already answered"
    assert len(gp.forge().list_comments(gp.repo, 1)) == 2

    quoted = _comment_as(gp, "wendy", "> /promote production\n\nshould we?")
    assert json.loads(chatops(quoted, "wendy").out)["skipped"] == (
        f"no jx-mlops command in comment {quoted}")

    wendy = _comment_as(gp, "wendy", "Ship it:\n/promote production")
    result = chatops(wendy, "wendy")
    assert result.code == 0, result.err
    done = json.loads(result.out)["commands"][0]
    assert done["ok"] and done["message"] == (
        "churn v0.0.1 -> production: local/environment-production#1 waiting for review")
    promotion = gp.forge().get_pull("local/environment-production", 1)
    assert promotion.title == "chore: promote churn to v0.0.1 in production"
    comments = gp.forge().list_comments(gp.repo, 1)
    assert [c.id for c in comments if c.reactions == ("+1",)] == [wendy]
    assert comments[-1].body.startswith(f"<!-- jx-mlops:chatops comment={wendy} -->\n@wendy:\n"
                                        "- ✅ `/promote production`")
    history = [json.loads(line) for line in
               (jx_home() / "history" / "chatops.jsonl").read_text().splitlines()]
    assert [(h["user"], h["command"], h["permission"], h["ok"]) for h in history] == [
        ("wendy", "/promote production", "write", True)]


@pytest.mark.slow
def test_rollback_report_and_mistakes_in_jenkins_x(project: Project, cli,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.path)
    first = git(project.path, "rev-parse", "HEAD")
    (project.path / "NOTES.md").write_text("notes\n")
    git(project.path, "add", "NOTES.md")
    git(project.path, "commit", "-qm", "notes")
    git(project.path, "push", "-q", "origin", "main")
    assert cli("register", "churn", "--ref", first).code == 0
    assert cli("register", "churn").code == 0
    git(project.path, "push", "-q", "origin", "--tags")
    assert cli("promote", "churn", "--version", "v0.0.2", "--to", "staging").code == 0
    forge = LocalForge(jx_home() / "forge")
    git(project.path, "checkout", "-qb", "talk")
    git(project.path, "commit", "-q", "--allow-empty", "-m", "talk")
    git(project.path, "push", "-q", "origin", "talk")
    forge.create_pull("local/churn", title="Talk", body="", head="talk", base="main")
    git(project.path, "checkout", "-q", "main")
    forge.create_comment("local/churn", 1, "/rollback staging\n/promote nowhere\n/report")
    for key, value in {"JOB_TYPE": "presubmit", "REPO_OWNER": "local", "REPO_NAME": "churn",
                       "PULL_NUMBER": "1", "BUILD_ID": "3"}.items():
        monkeypatch.setenv(key, value)
    result = cli("ci", "chatops")
    assert result.code == 1  # one command failed
    assert result.out.splitlines() == [
        "local/churn#1 comment 1: /rollback staging done: churn v0.0.2 -> v0.0.1 in staging: "
        "local/environment-staging#2 merged",
        "local/churn#1 comment 1: /promote nowhere failed: mlops.yaml: no environment named "
        "'nowhere' (environments: staging, production)",
        "local/churn#1 comment 1: /report done: evaluation comment refreshed: pass: 19 "
        "unchanged"]
    staging = forge.root / "repos" / "local" / "environment-staging.git"
    record = git(staging, "show", "main:models/churn.yaml")
    assert "version: v0.0.1" in record and "action: rollback" in record
    bodies = [c.body for c in forge.list_comments("local/churn", 1)]
    assert bodies[1].startswith("<!-- jx-mlops:report id=default -->")
    assert bodies[2].startswith("<!-- jx-mlops:chatops comment=1 -->")
    assert json.loads(cli("ci", "chatops", "--json").out)["skipped"] == (
        "comment 1 was already answered")


@pytest.mark.slow
def test_a_writers_retrain_trains_the_pull_request(project: Project, cli,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.path)
    assert cli("retrain", "--set", "train.n_estimators=60").code == 0
    git(project.path, "checkout", "-q", "main")
    forge = LocalForge(jx_home() / "forge")
    forge.set_permission("local/churn", None, "read")
    forge.set_permission("local/churn", "tester", "maintain")
    forge.create_comment("local/churn", 1, "/retrain")
    result = cli("ci", "chatops", "--pr", "1", "--json")
    assert result.code == 0, result.err
    outcome = json.loads(result.out)["commands"][0]
    assert outcome["ok"] and outcome["message"].startswith("trained ")
    pull = forge.get_pull("local/churn", 1)
    assert [s.context for s in forge.get_statuses("local/churn", pull.head_sha)] == [
        "jx-mlops/evaluation"]
    bodies = [c.body.splitlines()[0] for c in forge.list_comments("local/churn", 1)]
    assert bodies == ["/retrain", "<!-- jx-mlops:report id=default -->",
                      "<!-- jx-mlops:chatops comment=1 -->"]
