"""Copies of a workspace built once (a trained project, its local forge and DVC storage).

Projects are expensive to create (real `dvc repro`), so the session builds one
(``project_template`` in conftest.py) and each test gets its own copy: the project
directory and the whole local forge are copied, and the project's ``origin`` is pointed at
the copied forge.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kit.hermetic import apply_env, hermetic_env


@dataclass
class Project:
    """A copy of the session's scaffolded project on its own copy of the local forge."""

    path: Path
    home: Path
    repo: str = "local/churn"


def _link_or_copy(src: str, dst: str) -> str:
    """Hard-link the files git and DVC never change in place (git objects, the DVC cache:
    both content-addressed, replaced by rename, never rewritten), copy the others: about
    half the files of a workspace, linked in a fraction of the time a copy takes."""
    parts = Path(src).parts
    immutable = any(
        (name == "objects" and (parts[i - 1] == ".git" or parts[i - 1].endswith(".git")))
        or (name == "cache" and parts[i - 1] == ".dvc") for i, name in enumerate(parts) if i)
    if immutable:
        try:
            os.link(src, dst)
            return dst
        except OSError:  # another file system: copy
            pass
    return str(shutil.copy2(src, dst))


def clone_workspace(source: Path, dest: Path) -> Project:
    """Copy a workspace built under ``source`` (the project, its local forge and DVC
    storage, and any files beside them) into ``dest``, wired to the copies."""
    home = dest / "jx-home"
    shutil.rmtree(home, ignore_errors=True)
    for entry in source.iterdir():
        if entry.name in ("home", "dvc-site", "dvc-system"):
            continue  # each test has its own HOME and DVC site/system directories
        target = dest / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        else:
            shutil.copy2(entry, target)
    path = dest / "churn"
    bare = home / "forge" / "repos" / "local" / "churn.git"
    subprocess.run(["git", "-C", str(path), "remote", "set-url", "origin", bare.as_uri()],
                   check=True)
    # The DVC remote too (config.local, untracked): run-cache entries one test pushes must
    # not make another test's stages restore instead of run.
    (path / ".dvc" / "config.local").write_text(
        f'[\'remote "storage"\']\n    url = {home / "storage" / "local" / "churn"}\n')
    return Project(path=path, home=home)


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """A directory ``build`` fills once for the whole session, every xdist worker included.

    Without xdist: a fresh temporary directory. Under xdist, the workers share the
    session's temporary root (the parent of each worker's own): the first worker to take
    the lock builds, the others wait for it and reuse its result (read-only: tests copy it
    with ``clone_workspace``). A build that fails leaves no mark, so the next worker
    tries again and fails the same way.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        base = tmp_path_factory.mktemp(name)
        build(base)
        return base
    root = tmp_path_factory.getbasetemp().parent
    base, done = root / name, root / f"{name}.built"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir()
            build(base)
            done.touch()
    return base


def build_workspace(tmp_path_factory: pytest.TempPathFactory, template: Path, name: str,
                    steps: Callable[[Project], None]) -> Path:
    """A copy of ``template`` changed by ``steps`` once, for several tests to copy again
    (``clone_workspace``): a PR trained once serves every test that reads it."""
    base = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, hermetic_env(base))
        project = clone_workspace(template, base)
        mp.chdir(project.path)
        steps(project)
    return base
