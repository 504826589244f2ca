"""Running the git binary: one way to start a git process, and one long-lived
``git cat-file --batch`` per repository for reading objects without a process per read.

Every git process gets the same environment: the inherited one with what would redirect git
elsewhere dropped (:mod:`jx_mlops.git.env`), git's messages in English (``LC_ALL=C``, so
they can be read back), plus what the caller adds for one call.

And the same sealed command line. In CI jx-mlops runs git in a clone where a pull
request's code has just run, and that code can write ``.git/hooks`` and ``.git/config``:
a hook left there would run inside the trusted steps that follow (and, on a reused
runner, in the next job). ``-c`` settings outrank every configuration file, so each git
process gets ``core.hooksPath`` pointing at an empty directory of its own (no hook runs)
and :data:`SEALED` switches off the other settings that make the commands jx-mlops runs
start a program. Filter and merge drivers are named by the repository: commands that
write or read the work tree first list those the clone's own configuration defines
(``.git/config`` and what it includes) and switch them off too (:func:`driver_settings`);
the same drivers in the user's global configuration (git-lfs) keep working. Trusted work
trees are never checked out by git at all (:mod:`jx_mlops.git.export`).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
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


# Settings that would start a program during the commands jx-mlops runs.
SEALED = (
    ("core.fsmonitor", "false"),  # `status`, `add`, `commit` would run the monitor
    ("commit.gpgSign", "false"),  # gpg.program would run to sign
    ("tag.gpgSign", "false"),
    ("tag.forceSignAnnotated", "false"),
    ("protocol.ext.allow", "never"),  # an ext:: remote URL is a command line
)
_no_hooks: Path | None = None
_no_hooks_lock = threading.Lock()


def hooks_off_directory() -> Path:
    """An empty directory of this process (read-only, removed at exit): no hook is found
    in it."""
    global _no_hooks
    with _no_hooks_lock:
        if _no_hooks is None or not _no_hooks.is_dir():
            _no_hooks = Path(tempfile.mkdtemp(prefix="jx-mlops-no-hooks-"))
            _no_hooks.chmod(0o500)
            atexit.register(shutil.rmtree, _no_hooks, True)
        return _no_hooks


Setting = tuple[str, str]


def sealed_command(args: Sequence[str], extra: Sequence[Setting] = ()) -> list[str]:
    """``git ARGS`` with hooks off, :data:`SEALED` and ``extra`` set, whatever any config
    file says."""
    settings = [("core.hooksPath", str(hooks_off_directory())), *SEALED, *extra]
    return ["git", *(part for key, value in settings for part in ("-c", f"{key}={value}")),
            *args]


_DRIVER = re.compile(r"^(filter|merge)\.(.+)\.(clean|smudge|process|required|driver)$")


# The commands that apply filters (clean/smudge) or merge drivers to work-tree files.
WORK_TREE_COMMANDS = frozenset({"add", "checkout", "commit", "merge", "rm", "status",
                                "reset", "restore", "switch", "stash", "cherry-pick"})


def driver_settings(cwd: Path) -> list[Setting]:
    """Settings that switch off each filter and merge driver the repository's own
    configuration at ``cwd`` defines (a pull request's code can write it): a filter runs
    nothing, a merge driver fails (a conflict, never a silent resolution)."""
    listed = subprocess.run(
        sealed_command(["config", "--local", "--includes", "--name-only", "--get-regexp",
                        r"^(filter|merge)\."]),
        cwd=cwd, capture_output=True, env=git_environment(), check=False)
    settings: list[Setting] = []
    for name in sorted(set(listed.stdout.decode("utf-8", "replace").splitlines())):
        found = _DRIVER.match(name)
        if found is None or "=" in found.group(2):
            continue
        section, driver = found.group(1), found.group(2)
        if section == "filter":
            settings += [(f"filter.{driver}.{key}", "") for key in ("clean", "smudge",
                                                                     "process")]
            settings.append((f"filter.{driver}.required", "false"))
        else:
            settings.append((f"merge.{driver}.driver", "false"))
    return list(dict.fromkeys(settings))


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git process, with ``extra`` for this call only."""
    sanitize_environment()
    return {**os.environ, "LC_ALL": "C", "LANGUAGE": "C", **(extra or {})}


def run_git(args: Sequence[str], *, cwd: Path | None = None, data: bytes | None = None,
            env: Mapping[str, str] | None = None, config: Sequence[Setting] = ()
            ) -> Completed:
    """Run ``git ARGS`` (in ``cwd``, ``data`` on stdin, ``config`` set for this call) to
    completion."""
    proc = subprocess.run(sealed_command(args, config), cwd=cwd,
                          input=data if data is not None else b"", capture_output=True,
                          env=git_environment(env), check=False)
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
                sealed_command(["cat-file", "--batch"]), cwd=self._cwd, stdin=subprocess.PIPE,
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
