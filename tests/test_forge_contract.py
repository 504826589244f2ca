"""The forge contract: the same tests against the local forge and GitHubForge.

GitHubForge talks to the loopback GitHub (tests/kit/github_server), which checks every request
and response against GitHub's published schemas; its page size is 2 here so every list
crosses page boundaries.
"""

from __future__ import annotations

import pytest
from kit.github import HARNESSES, Harness

from jx_mlops.errors import ConflictError, ForgeError, NotFoundError
from jx_mlops.forge.comments import upsert_marked_comment
from jx_mlops.forge.kinds import FORGES

REPO = "acme/app"


@pytest.fixture
def repo(harness: Harness) -> str:
    harness.forge.create_repo(REPO, description="contract", auto_init=True)
    return REPO


def test_every_forge_kind_runs_the_contract() -> None:
    assert list(HARNESSES) == list(FORGES)


def test_repositories(harness: Harness) -> None:
    forge = harness.forge
    created = forge.create_repo(REPO, description="demo", auto_init=True)
    assert (created.full_name, created.default_branch) == (REPO, "main")
    assert forge.get_repo(REPO) == created
    assert forge.find_repo("acme/nope") is None
    with pytest.raises(NotFoundError, match="repository acme/nope not found"):
        forge.get_repo("acme/nope")
    with pytest.raises(ConflictError, match="already exists"):
        forge.create_repo(REPO)
    with pytest.raises(ForgeError, match="invalid repository name"):
        forge.get_repo("../escape")
    empty = forge.create_repo("acme/empty")
    assert empty.default_branch == "main"


def test_pull_request_lifecycle(harness: Harness, repo: str) -> None:
    forge = harness.forge
    first = harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    pull = forge.create_pull(repo, title="Add a", body="why", head="feature", base="main",
                             draft=True)
    assert (pull.number, pull.state, pull.draft, pull.head_sha) == (1, "open", True, first)
    assert (pull.author, pull.base, pull.head, pull.body) == ("tester", "main", "feature", "why")
    with pytest.raises(ConflictError, match="already open"):
        forge.create_pull(repo, title="again", body="", head="feature", base="main")
    with pytest.raises(NotFoundError, match="head branch 'nope' does not exist"):
        forge.create_pull(repo, title="x", body="", head="nope", base="main")

    forge.add_labels(repo, 1, ["retrain", "env/staging"])
    forge.remove_label(repo, 1, "retrain")
    assert forge.get_pull(repo, 1).labels == ("env/staging",)
    with pytest.raises(NotFoundError, match="has no label 'retrain'"):
        forge.remove_label(repo, 1, "retrain")

    updated = forge.update_pull(repo, 1, title="Add a and b", body="because")
    assert (updated.title, updated.body) == ("Add a and b", "because")
    assert forge.update_pull(repo, 1, state="closed").state == "closed"
    assert forge.list_pulls(repo) == []
    assert forge.update_pull(repo, 1, state="open").state == "open"

    # A push to the head branch moves the pull request's head.
    second = harness.push_branch(repo, "feature", {"b.txt": "b\n"}, base="feature")
    assert forge.get_pull(repo, 1).head_sha == second
    with pytest.raises(NotFoundError, match="pull request #9 not found"):
        forge.get_pull(repo, 9)


def test_listing_filters_by_state_head_and_base(harness: Harness, repo: str) -> None:
    forge = harness.forge
    for name in ("one", "two", "three"):
        harness.push_branch(repo, name, {f"{name}.txt": name})
        forge.create_pull(repo, title=name, body="", head=name, base="main")
    forge.update_pull(repo, 2, state="closed")
    forge.merge_pull(repo, 3)
    assert [p.number for p in forge.list_pulls(repo)] == [1]
    assert [p.number for p in forge.list_pulls(repo, state="closed")] == [2, 3]
    assert [p.number for p in forge.list_pulls(repo, state="merged")] == [3]
    assert [p.number for p in forge.list_pulls(repo, state="all")] == [1, 2, 3]
    assert [p.number for p in forge.list_pulls(repo, state="all", head="two")] == [2]
    assert forge.list_pulls(repo, base="develop") == []
    with pytest.raises(ForgeError, match="unknown pull request state"):
        forge.list_pulls(repo, state="weird")


def test_merge_is_a_real_git_merge(harness: Harness, repo: str) -> None:
    forge = harness.forge
    head = harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    forge.create_pull(repo, title="Add a", body="", head="feature", base="main")
    merged = forge.merge_pull(repo, 1)
    assert (merged.state, merged.merged_by) == ("merged", "tester")
    assert merged.merged_at and merged.merge_commit_sha
    assert harness.parents(repo, merged.merge_commit_sha)[1] == head
    with pytest.raises(ConflictError, match="is merged, not open"):
        forge.merge_pull(repo, 1)
    with pytest.raises(ConflictError, match="is merged"):
        forge.update_pull(repo, 1, state="open")
    assert [p.number for p in forge.pulls_for_commit(repo, merged.merge_commit_sha)] == [1]
    assert [p.number for p in forge.pulls_for_commit(repo, head)] == [1]


def test_squash_merge_has_one_parent(harness: Harness, repo: str) -> None:
    forge = harness.forge
    harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    forge.create_pull(repo, title="Add a", body="", head="feature", base="main")
    merged = forge.merge_pull(repo, 1, method="squash", message="Add a (#1)")
    assert len(harness.parents(repo, merged.merge_commit_sha or "")) == 1


def test_conflicting_merge_is_refused(harness: Harness, repo: str) -> None:
    forge = harness.forge
    harness.push_branch(repo, "one", {"a.txt": "one\n"})
    harness.push_branch(repo, "two", {"a.txt": "two\n"})
    forge.create_pull(repo, title="one", body="", head="one", base="main")
    forge.create_pull(repo, title="two", body="", head="two", base="main")
    forge.merge_pull(repo, 1)
    with pytest.raises(ConflictError, match="cannot be merged"):
        forge.merge_pull(repo, 2)
    assert forge.get_pull(repo, 2).state == "open"


def test_comments_across_pages_and_the_marked_comment(harness: Harness, repo: str) -> None:
    forge = harness.forge
    harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    forge.create_pull(repo, title="x", body="", head="feature", base="main")
    for n in range(5):
        forge.create_comment(repo, 1, f"human {n}")
    first, created = upsert_marked_comment(forge, repo, 1, "<!-- m -->", "<!-- m -->\nv1")
    second, again = upsert_marked_comment(forge, repo, 1, "<!-- m -->", "<!-- m -->\nv2")
    assert created and not again and second.id == first.id
    comments = forge.list_comments(repo, 1)
    assert [c.body for c in comments] == [f"human {n}" for n in range(5)] + ["<!-- m -->\nv2"]
    assert comments[-1].author == "tester"
    edited = forge.update_comment(repo, comments[0].id, "human 0 (edited)")
    assert (edited.id, edited.body) == (comments[0].id, "human 0 (edited)")
    forge.delete_comment(repo, comments[1].id)
    assert len(forge.list_comments(repo, 1)) == 5
    with pytest.raises(NotFoundError, match="not found"):
        forge.update_comment(repo, 999_999, "x")
    with pytest.raises(NotFoundError, match="pull request #9 not found"):
        forge.list_comments(repo, 9)


def test_markers_count_only_in_the_posters_comments(harness: Harness, repo: str) -> None:
    """Attack 9 of issue 20: a reader who comments first with the report marker must not
    get the evaluation written into their own (editable) comment."""
    forge = harness.forge
    harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    forge.create_pull(repo, title="x", body="", head="feature", base="main")
    assert harness.fresh().poster() == forge.poster() == "tester"
    planted = harness.comment_as("rita", repo, 1, "<!-- m -->\nmine")
    comment, created = upsert_marked_comment(forge, repo, 1, "<!-- m -->", "<!-- m -->\nv1")
    assert created and comment.id != planted and comment.author == forge.poster()
    again, created = upsert_marked_comment(harness.fresh(), repo, 1, "<!-- m -->",
                                           "<!-- m -->\nv2")
    assert (again.id, created) == (comment.id, False)
    assert [(c.author, c.body) for c in forge.list_comments(repo, 1)] == [
        ("rita", "<!-- m -->\nmine"), ("tester", "<!-- m -->\nv2")]


def test_reactions_are_idempotent(harness: Harness, repo: str) -> None:
    forge = harness.forge
    harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    forge.create_pull(repo, title="x", body="", head="feature", base="main")
    comment = forge.create_comment(repo, 1, "/retrain")
    forge.add_reaction(repo, comment.id, "+1")
    forge.add_reaction(repo, comment.id, "+1")
    forge.add_reaction(repo, comment.id, "eyes")
    assert forge.list_comments(repo, 1)[0].reactions == ("+1", "eyes")
    with pytest.raises(NotFoundError):
        forge.add_reaction(repo, 999_999, "+1")


def test_statuses_keep_the_latest_per_context(harness: Harness, repo: str) -> None:
    forge = harness.forge
    sha = harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    forge.set_status(repo, sha, state="pending", context="jx-mlops/evaluation")
    forge.set_status(repo, sha, state="success", context="jx-mlops/evaluation",
                     description="pass " * 50, target_url="https://ci.example/run/1")
    forge.set_status(repo, sha, state="failure", context="lint")
    statuses = forge.get_statuses(repo, sha)
    assert [(s.context, s.state) for s in statuses] == [
        ("jx-mlops/evaluation", "success"), ("lint", "failure")]
    # Cut to the forge's 140 characters at a word, and saying so.
    assert statuses[0].description == " ".join(["pass"] * 27) + "…"
    assert statuses[0].target_url == "https://ci.example/run/1"
    with pytest.raises(NotFoundError, match="no commit"):
        forge.set_status(repo, "0" * 40, state="success", context="x")


def test_check_runs(harness: Harness, repo: str) -> None:
    forge = harness.forge
    sha = harness.push_branch(repo, "feature", {"a.txt": "a\n"})
    run = forge.create_check_run(repo, sha, name="jx-mlops/evaluation", status="in_progress",
                                 title="Training", summary="dvc repro",
                                 details_url="https://ci.example/run/1")
    assert (run.sha, run.status, run.conclusion, run.title) == (
        sha, "in_progress", None, "Training")
    done = forge.update_check_run(repo, run.id, status="completed", conclusion="failure",
                                  title="fail: accuracy regressed", summary="| a | b |")
    assert (done.id, done.status, done.conclusion) == (run.id, "completed", "failure")
    assert (done.summary, done.completed_at is not None) == ("| a | b |", True)
    direct = forge.create_check_run(repo, sha, name="other", status="completed",
                                    conclusion="success")
    assert direct.conclusion == "success"
    with pytest.raises(ForgeError, match="conclusion exactly when"):
        forge.create_check_run(repo, sha, name="x", status="completed")
    with pytest.raises(NotFoundError):
        forge.update_check_run(repo, 999_999, status="completed", conclusion="success")


def test_permissions(harness: Harness, repo: str) -> None:
    forge = harness.forge
    harness.restrict(repo)
    for user, level in (("wendy", "write"), ("mo", "maintain"), ("tri", "triage"),
                        ("rita", "read")):
        harness.set_permission(repo, user, level)
    assert [forge.get_permission(repo, u) for u in ("wendy", "mo", "tri", "rita")] == [
        "write", "maintain", "triage", "read"]
    assert forge.get_permission(repo, "stranger") == "none"
