"""Lock files a killed git process left behind, and when they may be removed.

git never removes a lock whose owner died (it tells the user to), so a kill -9 at the
wrong instant wedges every later update of that ref. No git command runs here: only the
lock files and the process table are read.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _git_working_in(git_dir: Path) -> bool:
    """Whether a live git process (other than the cat-file object readers) runs in
    ``git_dir``: such a process may hold a lock file there and must be left alone."""
    import psutil  # only when a lock is found: not on every command's start-up

    where = str(git_dir.resolve())
    for proc in psutil.process_iter():
        # Each read inside the guard: a process may exit between listing and reading, and
        # psutil then raises NoSuchProcess, or (seen under load) a plain FileNotFoundError.
        with contextlib.suppress(psutil.Error, OSError):
            if not proc.name().startswith("git") or "cat-file" in proc.cmdline():
                continue  # not git, or a reader (never holds a lock)
            cwd = proc.cwd()
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
