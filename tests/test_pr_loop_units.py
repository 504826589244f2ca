"""The team loop without DVC: merging a moved base key by key (real git), and the PR an
event payload names. Noise-aware statuses and failed-training reports are tested in
tests/unit/compare/test_significance.py and tests/unit/ci/test_failure.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.git import git

from jx_mlops.ci.context import detect_context
from jx_mlops.ci.pr import event_pull
from jx_mlops.ci.update import MergeConflictError, bring_up_to_date
from jx_mlops.errors import ConflictError, GitError
from jx_mlops.git.repo import GitRepo

PARAMS = "train:\n  n_estimators: 40\n  max_depth: 3\n"


def _repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    GitRepo.init(path).close()
    (path / "params.yaml").write_text(PARAMS)
    (path / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (path / "README.md").write_text("hello\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "start")
    return path


def _commit(path: Path, message: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        (path / name).write_text(text)
    git(path, "commit", "-qam", message)


def test_different_keys_on_adjacent_lines_merge_and_generated_files_are_regenerated(
        tmp_path: Path) -> None:
    path = _repo(tmp_path)
    git(path, "checkout", "-qb", "pr")
    _commit(path, "pr", {"params.yaml": PARAMS.replace("max_depth: 3", "max_depth: 6"),
                           "dvc.lock": "schema: '2.0'\nstages: {pr: 1}\n"})
    git(path, "checkout", "-q", "main")
    _commit(path, "main", {"params.yaml": PARAMS.replace("40", "60"),
                             "dvc.lock": "schema: '2.0'\nstages: {main: 1}\n"})
    git(path, "checkout", "-q", "pr")
    repo = GitRepo.open(path)
    update = bring_up_to_date(repo, "main", "main")
    assert (update.commits, update.regenerated, update.merged_params) == (
        1, ("dvc.lock",), ("params.yaml",))
    assert update.line == "Brought up to date with main (1 commit)."
    assert (path / "params.yaml").read_text() == "train:\n  n_estimators: 60\n  max_depth: 6\n"
    assert git(path, "status", "--porcelain") == ""
    assert bring_up_to_date(repo, "main", "main").commits == 0
    repo.close()


def test_both_changing_the_same_key_is_refused_with_nothing_merged(tmp_path: Path) -> None:
    path = _repo(tmp_path)
    git(path, "checkout", "-qb", "pr")
    _commit(path, "pr", {"params.yaml": PARAMS.replace("max_depth: 3", "max_depth: 6"),
                           "README.md": "pr\n"})
    git(path, "checkout", "-q", "main")
    _commit(path, "main", {"params.yaml": PARAMS.replace("max_depth: 3", "max_depth: 8"),
                             "README.md": "main\n"})
    git(path, "checkout", "-q", "pr")
    head = git(path, "rev-parse", "HEAD")
    repo = GitRepo.open(path)
    with pytest.raises(MergeConflictError) as caught:
        bring_up_to_date(repo, "main", "main")
    repo.close()
    assert caught.value.conflicts == ("README.md", "params.yaml: train.max_depth")
    assert "both changed README.md, params.yaml: train.max_depth" in caught.value.message
    assert git(path, "rev-parse", "HEAD") == head
    assert git(path, "status", "--porcelain") == ""


def test_a_lock_both_sides_changed_is_taken_from_the_base_even_if_git_could_merge_it(
        tmp_path: Path) -> None:
    path = _repo(tmp_path)
    lock = "schema: '2.0'\nstages:\n  train:\n    md5: a\n  x: 1\n  y: 2\n  z: 3\n" \
           "  evaluate:\n    md5: b\n"
    _commit(path, "lock", {"dvc.lock": lock})
    git(path, "checkout", "-qb", "pr")
    _commit(path, "pr", {"dvc.lock": lock.replace("md5: a", "md5: pr-train")})
    git(path, "checkout", "-q", "main")
    main_lock = lock.replace("md5: b", "md5: main-evaluate")
    _commit(path, "main", {"dvc.lock": main_lock})
    git(path, "checkout", "-q", "pr")
    repo = GitRepo.open(path)
    update = bring_up_to_date(repo, "main", "main")
    repo.close()
    # A stitched lock would claim `evaluate` ran on the PR's model: it never did.
    assert update.regenerated == ("dvc.lock",)
    assert (path / "dvc.lock").read_text() == main_lock


def test_the_event_payload_names_the_pull_request_only_when_it_is_that_one(
        tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"number": 3, "state": "open", '
                     '"head": {"ref": "tune", "sha": "' + "a" * 40 + '"}, '
                     '"base": {"ref": "main", "sha": "' + "b" * 40 + '"}}}')
    context = detect_context({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
                              "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/churn"})
    pull = event_pull(context, "Acme/Churn", 3)
    assert pull is not None
    assert (pull.number, pull.head, pull.base, pull.head_sha, pull.state) == (
        3, "tune", "main", "a" * 40, "open")
    # Another PR, another repository, or no payload: the forge is asked instead.
    assert event_pull(context, "acme/churn", 4) is None
    assert event_pull(context, "acme/other", 3) is None
    assert event_pull(detect_context({}), "acme/churn", 3) is None


def test_a_push_the_remote_refuses_as_not_fast_forward_is_a_conflict(tmp_path: Path) -> None:
    """git says why on stdout (--porcelain); stderr only "failed to push some refs"."""
    path = _repo(tmp_path)
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(path), str(remote))
    git(path, "remote", "add", "origin", str(remote))
    git(path, "commit", "-q", "--amend", "-m", "rewritten")
    repo = GitRepo.open(path)
    with pytest.raises(ConflictError, match=r"rejected.*non-fast-forward"):
        repo.push("origin", ["main:refs/heads/main"])
    with pytest.raises(GitError, match="no-such-branch") as caught:
        repo.push("origin", ["no-such-branch:refs/heads/x"])
    assert not isinstance(caught.value, ConflictError)
    # The remote's own refusal ("[remote rejected] (failed to update ref)", here a lock a
    # killed run left) is no conflict: callers clear the lock and push again.
    (remote / "refs" / "heads" / "left.lock").write_text("0" * 40 + "\n")
    with pytest.raises(GitError, match="remote rejected") as caught:
        repo.push("origin", ["main:refs/heads/left"])
    repo.close()
    assert not isinstance(caught.value, ConflictError)
