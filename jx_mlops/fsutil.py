"""File primitives: bounded reads of untrusted files, atomic replace, advisory locks, and
where jx-mlops keeps its own state (``jx_home``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jx_mlops.errors import InputError

MAX_FILE_BYTES = 64 * 1024 * 1024


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so no reader (or crash) ever sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock(2) on ``path`` (created if needed) for the block.

    The kernel drops the lock when the process dies, so a killed holder never wedges
    the next one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, symlinks resolved, is ``root`` or lies under it."""
    return path.resolve().is_relative_to(root.resolve())


def read_bounded(path: Path, *, root: Path | None = None,
                 max_bytes: int = MAX_FILE_BYTES, name: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, refused with one line naming it otherwise.

    Refused: a symlink (at any level) resolving outside ``root``, anything that is not a
    regular file (a FIFO would block, ``/dev/zero`` never ends), a file past ``max_bytes``.
    ``FileNotFoundError`` passes through, so callers keep their own "missing" message.
    """
    shown = name or str(path)
    if root is not None and not inside(path, root):
        raise InputError(f"{shown}: a symlink to {path.resolve()}, outside {root}: not reading it")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # checked before fdopen, which refuses a directory itself
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"{shown}: {what}: not reading it")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"{shown}: larger than {max_bytes:,} bytes: not reading it")
    return data


def read_text_bounded(path: Path, *, root: Path | None = None,
                      max_bytes: int = MAX_FILE_BYTES, name: str | None = None) -> str:
    """:func:`read_bounded` decoded as UTF-8 (an undecodable file is an InputError)."""
    data = read_bounded(path, root=root, max_bytes=max_bytes, name=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name or path}: not UTF-8 text (byte {exc.start})") from None


def jx_home() -> Path:
    """Where the local forge and caches live: ``$JX_MLOPS_HOME`` or ``~/.jx-mlops``."""
    configured = os.environ.get("JX_MLOPS_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path.home() / ".jx-mlops"
