"""Every git process jx-mlops runs is sealed: no hook, no fsmonitor, no filter of a
clone's own configuration runs (a pull request's code can write `.git/` before jx-mlops
runs git there), and a trusted work tree is written from checked objects, then checked.

Plain git, run beside, is the peer: the same hooks and settings do run for it.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest
from kit.git import git

from jx_mlops.errors import GitError
from jx_mlops.git.export import export_tree, tree_differences
from jx_mlops.git.repo import GitRepo


def _repository(path: Path) -> str:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "src").mkdir()
    (path / "src" / "evaluate.py").write_text("print('main evaluates')\n")
    (path / "run.sh").write_text("#!/bin/sh\n")
    (path / "run.sh").chmod(0o755)
    os.symlink("src/evaluate.py", path / "link.py")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "main")
    return git(path, "rev-parse", "HEAD")


def _plant(path: Path, marker: Path) -> None:
    """What a pull request's code can leave in `.git/`: hooks, a monitor, a filter."""
    for name in ("post-checkout", "pre-commit", "post-commit", "reference-transaction"):
        hook = path / ".git" / "hooks" / name
        hook.write_text(f"#!/bin/sh\necho {name} >> {marker}\n")
        hook.chmod(0o755)
    monitor = path / ".git" / "monitor.sh"
    monitor.write_text(f"#!/bin/sh\necho fsmonitor >> {marker}\n")
    monitor.chmod(0o755)
    git(path, "config", "core.fsmonitor", str(monitor))
    git(path, "config", "filter.evil.smudge", f"sh -c 'echo smudge >> {marker}; cat'")
    (path / ".git" / "info" / "attributes").write_text("src/evaluate.py filter=evil\n")


def test_no_hook_monitor_or_filter_runs_for_jx_mlops_git(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo_path = tmp_path / "clone"
    _repository(repo_path)
    _plant(repo_path, marker)
    repo = GitRepo.open(repo_path)
    try:
        (repo_path / "src" / "evaluate.py").write_text("print('the PR evaluates')\n")
        assert repo.dirty_paths() == ["src/evaluate.py"]
        repo.add_all()
        repo.commit("the PR's evaluation")
        repo.checkout("HEAD~1", new_branch="again")  # rewrites src/evaluate.py
        repo.checkout("main")
    finally:
        repo.close()
    assert not marker.exists()
    # The peer: plain git obeys what was planted.
    git(repo_path, "checkout", "-q", "again")
    assert {"post-checkout", "fsmonitor", "smudge"} <= set(marker.read_text().split())


def test_a_trusted_tree_is_written_from_checked_objects_and_checked_again(
        tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo_path = tmp_path / "clone"
    commit = _repository(repo_path)
    _plant(repo_path, marker)
    repo = GitRepo.open(repo_path)
    tree = tmp_path / "tree"
    try:
        files = export_tree(repo, commit, tree)
    finally:
        repo.close()
    assert not marker.exists()  # no checkout: no hook, no smudge filter
    assert [f.path for f in files] == ["link.py", "run.sh", "src/evaluate.py"]
    assert (tree / "src" / "evaluate.py").read_text() == "print('main evaluates')\n"
    assert os.readlink(tree / "link.py") == "src/evaluate.py"
    assert os.access(tree / "run.sh", os.X_OK)
    assert tree_differences(files, tree) == []
    (tree / "src" / "evaluate.py").write_text("print('forged')\n")
    (tree / "run.sh").chmod(0o644)
    assert tree_differences(files, tree) == ["run.sh", "src/evaluate.py"]


def test_an_object_altered_in_the_store_is_refused(tmp_path: Path) -> None:
    repo_path = tmp_path / "clone"
    commit = _repository(repo_path)
    blob = git(repo_path, "rev-parse", f"{commit}:src/evaluate.py")
    loose = repo_path / ".git" / "objects" / blob[:2] / blob[2:]
    forged = b"print('forged')\n"
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob %d\0" % len(forged) + forged))
    assert git(repo_path, "cat-file", "-p", blob) == "print('forged')"  # git does not check
    repo = GitRepo.open(repo_path)
    try:
        with pytest.raises(GitError, match=f"blob {blob[:12]} does not match its id"):
            export_tree(repo, commit, tmp_path / "tree")
    finally:
        repo.close()
