"""Lock files a killed git process left behind, and whether git still works there.

Kept apart from :mod:`jx_mlops.git` (which runs git): these only look at files and at
the process table, and run no git command.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _git_working_in(git_dir: Path) -> bool:
    """Whether a live git process (other than GitPython's cat-file readers) runs in
    ``git_dir``: such a process may hold a lock file there and must be left alone."""
    import psutil

    where = str(git_dir.resolve())
    for proc in psutil.process_iter(["name", "cwd", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            info = proc.info
            if not str(info.get("name") or "").startswith("git"):
                continue
            if "cat-file" in (info.get("cmdline") or []):
                continue  # a reader: never holds a lock
            cwd = str(info.get("cwd") or "")
            if cwd == where or cwd.startswith(where + os.sep):
                return True
    return False


def stale_locks(git_dir: Path) -> list[Path]:
    """Lock files in ``git_dir`` (ref locks, packed-refs.lock, index.lock, shallow.lock...)."""
    found = [p for p in git_dir.glob("*.lock") if p.is_file()]
    refs = git_dir / "refs"
    if refs.is_dir():
        found += [p for p in refs.rglob("*.lock") if p.is_file()]
    return found


def clear_stale_locks(git_dir: Path) -> list[Path]:
    """Remove the lock files a killed process left in ``git_dir``; returns those removed.

    git never removes a lock whose owner died (it tells the user to), so a kill -9 at the
    wrong instant wedges every later update of that ref. Call this only while holding
    jx-mlops' own lock of the repository (no jx-mlops operation is then under way in it);
    the locks are left alone if any git process still works there.
    """
    locks = stale_locks(git_dir)
    if not locks or _git_working_in(git_dir):
        return []
    for lock in locks:
        lock.unlink(missing_ok=True)
    return locks
