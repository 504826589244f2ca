"""Running the git binary: one way to start a git process, and one long-lived
``git cat-file --batch`` per repository for reading objects without a process per read.

Every git process gets the same environment: the inherited one with what would redirect git
elsewhere dropped (:mod:`jx_mlops.git.env`), git's messages in English (``LC_ALL=C``, so
they can be read back), plus what the caller adds for one call.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jx_mlops.git.env import sanitize_environment


@dataclass(frozen=True)
class Completed:
    """A finished git process: its exit status, stdout and stderr."""

    status: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "surrogateescape")

    def explain(self) -> str:
        """git's most useful line of stderr (its 'fatal:'/'error:' line when there is one)."""
        lines = [ln.strip() for ln in self.err.decode("utf-8", "replace").splitlines()
                 if ln.strip()]
        for line in lines:
            if line.startswith(("fatal:", "error:")):
                return line
        return lines[-1] if lines else f"git exited with status {self.status}"


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git process, with ``extra`` for this call only."""
    sanitize_environment()
    return {**os.environ, "LC_ALL": "C", "LANGUAGE": "C", **(extra or {})}


def run_git(args: Sequence[str], *, cwd: Path | None = None, data: bytes | None = None,
            env: Mapping[str, str] | None = None) -> Completed:
    """Run ``git ARGS`` (in ``cwd``, ``data`` on stdin) to completion."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=data if data is not None else b"",
                          capture_output=True, env=git_environment(env), check=False)
    return Completed(proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True)
class GitObject:
    """One object as ``git cat-file --batch`` returns it."""

    sha: str
    kind: str  # blob, tree, commit or tag
    data: bytes


_KINDS = (b"blob", b"tree", b"commit", b"tag")


class ObjectReader:
    """A ``git cat-file --batch`` process kept open for one repository: each read is a
    line written and an answer read, not a new process. Thread-safe; started on the first
    read, stopped by :meth:`close`."""

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def read(self, spec: str) -> GitObject | None:
        """The object ``spec`` names (``REV``, ``REV:PATH``, ``REV^{commit}``...), or None
        when it names nothing. A spec the batch protocol cannot carry is asked of git."""
        if "\n" in spec or "\r" in spec:
            return self._read_one(spec)
        with self._lock:
            proc = self._started()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            # "SHA TYPE SIZE", else "SPEC missing" / "SPEC ambiguous" (SPEC may hold spaces)
            if len(header) != 3 or header[1] not in _KINDS or not header[2].isdigit():
                return None
            size = int(header[2])
            data = proc.stdout.read(size + 1)[:size]
        return GitObject(header[0].decode(), header[1].decode(), data)

    def _read_one(self, spec: str) -> GitObject | None:
        kind = run_git(["cat-file", "-t", spec], cwd=self._cwd)
        sha = run_git(["rev-parse", "--verify", "--quiet", spec], cwd=self._cwd)
        if kind.status or sha.status:
            return None
        data = run_git(["cat-file", kind.text.strip(), spec], cwd=self._cwd)
        return GitObject(sha.text.strip(), kind.text.strip(), data.out)

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"], cwd=self._cwd, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_environment())
        return self._proc

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            proc.wait()
            proc.stdout.close()


_TREE_KINDS = {b"40000": "tree", b"160000": "commit"}


def parse_tree(data: bytes) -> list[tuple[str, str, str]]:
    """A raw tree object as (name, kind, sha) entries (``<mode> <name>\\0<20 bytes>``)."""
    entries = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = data[pos:space]
        name = data[space + 1:nul].decode("utf-8", "surrogateescape")
        entries.append((name, _TREE_KINDS.get(mode, "blob"), data[nul + 1:nul + 21].hex()))
        pos = nul + 21
    return entries
