"""The local forge: repositories, pull requests, comments, statuses, real git merges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kit.cli import run_cli_process
from kit.git import git
from kit.local_forge import REPO, push_branch

from jx_mlops.errors import ConflictError, ForgeError, NotFoundError
from jx_mlops.forge.comments import upsert_marked_comment
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home


@pytest.fixture
def forge() -> LocalForge:
    return LocalForge(jx_home() / "forge")


@pytest.fixture
def repo_with_branch(forge: LocalForge, tmp_path: Path) -> str:
    forge.create_repo(REPO, auto_init=True)
    return push_branch(forge, tmp_path, "feature", {"a.txt": "a\n"})


def test_create_and_list_repositories(forge: LocalForge) -> None:
    created = forge.create_repo(REPO, description="demo", auto_init=True)
    forge.create_repo("acme/empty")
    assert created.default_branch == "main"
    assert created.clone_url.startswith("file://")
    assert [r.full_name for r in forge.list_repos()] == ["acme/app", "acme/empty"]
    with pytest.raises(ConflictError, match="already exists"):
        forge.create_repo(REPO)
    with pytest.raises(ForgeError, match="invalid repository name"):
        forge.create_repo("../escape")
    with pytest.raises(NotFoundError, match="repository acme/nope not found"):
        forge.get_repo("acme/nope")


def test_pull_request_lifecycle_with_real_merge(forge: LocalForge, repo_with_branch: str,
                                                 tmp_path: Path) -> None:
    pull = forge.create_pull(REPO, title="Add a", body="why", head="feature", base="main")
    assert (pull.number, pull.state, pull.head_sha) == (1, "open", repo_with_branch)
    with pytest.raises(ConflictError, match="already open"):
        forge.create_pull(REPO, title="again", body="", head="feature", base="main")
    forge.add_labels(REPO, 1, ["retrain", "env/staging"])
    forge.remove_label(REPO, 1, "retrain")
    assert forge.get_pull(REPO, 1).labels == ("env/staging",)
    # A new push to the head branch moves the PR's head, as on GitHub.
    new_head = push_branch(forge, tmp_path, "feature", {"b.txt": "b\n"}, base="feature")
    assert forge.get_pull(REPO, 1).head_sha == new_head
    merged = forge.merge_pull(REPO, 1)
    assert merged.state == "merged"
    bare = forge.root / "repos" / "acme" / "app.git"
    parents = git(bare, "rev-list", "--parents", "-n1", "main").split()
    assert parents[0] == merged.merge_commit_sha and parents[2] == new_head
    assert git(bare, "show", "main:b.txt") == "b"
    with pytest.raises(ConflictError, match="is merged, not open"):
        forge.merge_pull(REPO, 1)
    assert forge.pulls_for_commit(REPO, merged.merge_commit_sha or "")[0].number == 1


def test_conflicting_merge_is_refused(forge: LocalForge, repo_with_branch: str,
                                      tmp_path: Path) -> None:
    push_branch(forge, tmp_path, "other", {"a.txt": "different\n"})
    forge.create_pull(REPO, title="a", body="", head="feature", base="main")
    forge.create_pull(REPO, title="b", body="", head="other", base="main")
    forge.merge_pull(REPO, 1)
    with pytest.raises(ConflictError, match=r"cannot be merged: conflicts in a\.txt"):
        forge.merge_pull(REPO, 2)
    assert forge.get_pull(REPO, 2).state == "open"


def test_pull_request_errors(forge: LocalForge, repo_with_branch: str) -> None:
    with pytest.raises(NotFoundError, match="head branch 'nope' does not exist"):
        forge.create_pull(REPO, title="x", body="", head="nope", base="main")
    with pytest.raises(NotFoundError, match="pull request #7 not found in acme/app"):
        forge.get_pull(REPO, 7)


def test_comments_and_marked_comment_upsert(forge: LocalForge, repo_with_branch: str) -> None:
    forge.create_pull(REPO, title="x", body="", head="feature", base="main")
    forge.create_comment(REPO, 1, "human says hi")
    first, created = upsert_marked_comment(forge, REPO, 1, "<!-- m -->", "<!-- m -->\nv1")
    assert created
    second, created = upsert_marked_comment(forge, REPO, 1, "<!-- m -->", "<!-- m -->\nv2")
    assert not created and second.id == first.id
    bodies = [c.body for c in forge.list_comments(REPO, 1)]
    assert bodies == ["human says hi", "<!-- m -->\nv2"]
    forge.delete_comment(REPO, first.id)
    assert len(forge.list_comments(REPO, 1)) == 1


def test_statuses_keep_latest_per_context(forge: LocalForge, repo_with_branch: str) -> None:
    sha = repo_with_branch
    forge.set_status(REPO, sha, state="pending", context="jx-mlops/evaluation")
    forge.set_status(REPO, sha, state="success", context="jx-mlops/evaluation",
                     description="pass")
    forge.set_status(REPO, sha, state="failure", context="lint")
    assert [(s.context, s.state) for s in forge.get_statuses(REPO, sha)] == [
        ("jx-mlops/evaluation", "success"), ("lint", "failure")]
    with pytest.raises(NotFoundError, match="no commit"):
        forge.set_status(REPO, "0" * 40, state="success", context="x")


def test_permissions_default_to_write_until_restricted(forge: LocalForge) -> None:
    forge.create_repo(REPO)
    assert forge.get_permission(REPO, "anyone") == "write"
    forge.set_permission(REPO, None, "read")
    forge.set_permission(REPO, "alice", "admin")
    assert forge.get_permission(REPO, "anyone") == "read"
    assert forge.get_permission(REPO, "alice") == "admin"
    with pytest.raises(ForgeError, match="invalid permission 'god'"):
        forge.set_permission(REPO, "bob", "god")


def test_collaborator_cli(forge: LocalForge, cli) -> None:
    forge.create_repo(REPO)
    result = cli("forge", "collaborator", "*", "read", "--repo", REPO)
    assert result.out.strip() == "everyone else has read on acme/app"
    cli("forge", "collaborator", "bob", "write", "--repo", REPO)
    assert (forge.get_permission(REPO, "bob"), forge.get_permission(REPO, "eve")) == (
        "write", "read")


def test_records_are_written_atomically(forge: LocalForge, repo_with_branch: str) -> None:
    forge.create_pull(REPO, title="x", body="", head="feature", base="main")
    for n in range(5):
        forge.create_comment(REPO, 1, f"c{n}")
    meta = forge.root / "repos" / "acme" / "app.forge"
    leftovers = [p.name for p in meta.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    json.loads((meta / "pulls" / "1.json").read_text())


@pytest.mark.slow  # eight writer processes at once
def test_concurrent_comment_processes_lose_nothing(forge: LocalForge,
                                                   repo_with_branch: str) -> None:
    forge.create_pull(REPO, title="x", body="", head="feature", base="main")
    writers = 8
    procs = [subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom jx_mlops.cli.main import main\n"
         f"for i in range(5):\n    main(['forge','pr','comment','1','--repo','{REPO}',"
         f"'--body',f'writer {n} comment {{i}}'])\n"],
        stdout=subprocess.DEVNULL) for n in range(writers)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    comments = forge.list_comments(REPO, 1)
    assert len(comments) == writers * 5
    assert len({c.id for c in comments}) == writers * 5
    assert {c.body for c in comments} == {f"writer {n} comment {i}"
                                          for n in range(writers) for i in range(5)}


def test_two_cli_processes_comment_at_once(forge: LocalForge, repo_with_branch: str) -> None:
    forge.create_pull(REPO, title="x", body="", head="feature", base="main")
    procs = [subprocess.Popen([sys.executable, "-m", "jx_mlops", "forge", "pr", "comment", "1",
                               "--repo", REPO, "--body", text], stdout=subprocess.PIPE)
             for text in ("first", "second")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert sorted(c.body for c in forge.list_comments(REPO, 1)) == ["first", "second"]
    result = run_cli_process("forge", "pr", "show", "1", "--repo", REPO, "--json")
    data = json.loads(result.stdout)
    assert {"number", "title", "state", "comments", "statuses"} <= set(data)
    assert len(data["comments"]) == 2
