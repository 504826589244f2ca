"""The files of one revision of a project, read as DVC would.

Files tracked by git are read straight from git objects at a revision (no checkout, no
DVC process). A file that is a cached DVC output is read from the project's DVC cache
through the hash dvc.lock records at that revision. ``None`` as a revision means the work
tree, as after ``dvc repro``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jx_mlops import dvc
from jx_mlops.compare.values import flatten, load_structured
from jx_mlops.errors import DvcError
from jx_mlops.git import GitRepo


@dataclass(frozen=True)
class Snapshot:
    """Files of one revision (``sha`` None = work tree), read lazily and remembered."""

    repo: GitRepo
    root: Path
    sha: str | None
    label: str

    @property
    def where(self) -> str:
        return f"{self.label} ({self.sha[:7]})" if self.sha else self.label

    def read(self, path: str) -> bytes | None:
        if self.sha is None:
            file = self.root / path
            return file.read_bytes() if file.is_file() else None
        return self.repo.read_blob(self.sha, path)

    def lock(self) -> dvc.DvcLock | None:
        data = self.read("dvc.lock")
        if data is None:
            return None
        return dvc.parse_lock(data.decode("utf-8", "replace"), f"dvc.lock at {self.where}")


def read_bytes(snap: Snapshot, path: str) -> tuple[bytes | None, str | None]:
    """A file of ``snap`` from git, or from the DVC cache when it is a cached output."""
    data = snap.read(path)
    if data is not None:
        return data, None
    data, reason = _from_dvc_cache(snap, path)
    return (data, None) if data is not None else (None, reason)


def read_structured(snap: Snapshot, path: str) -> tuple[dict[str, Any] | None, str | None]:
    """A metrics/params file of ``snap`` flattened, or None and the reason it is unreadable."""
    data, reason = read_bytes(snap, path)
    if data is None:
        return None, reason
    try:
        parsed = load_structured(path, data)
    except ValueError as exc:
        return None, f"{path} at {snap.where}: {exc}"
    if not isinstance(parsed, dict):
        return None, f"{path} at {snap.where}: expected a mapping of metrics, " \
                     f"got {type(parsed).__name__}"
    return flatten(parsed), None


def _from_dvc_cache(snap: Snapshot, path: str) -> tuple[bytes | None, str]:
    missing = f"{path} does not exist at {snap.where}"
    try:
        lock = snap.lock()
    except DvcError as exc:
        return None, f"{missing}, and {exc.message}"
    out = lock.output(path) if lock else None
    if out is None or not out.md5:
        return None, missing
    cached = dvc.cache_file(snap.root, out.md5)
    if not cached.is_file():
        return None, (f"{path} at {snap.where} is a DVC output whose data is not in the "
                      f"local cache (md5 {out.md5}; run `dvc pull` or `dvc fetch`)")
    return cached.read_bytes(), ""


def default_branch_ref(repo: GitRepo) -> tuple[str, str]:
    """(ref, label) of the remote default branch: origin/HEAD, else origin/main, else HEAD."""
    symbolic = repo.run("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD",
                        check=False).strip()
    for ref in filter(None, (symbolic, "origin/main", "origin/master")):
        if repo.try_rev_parse(ref):
            return ref, ref.split("/", 1)[1]
    return "HEAD", "HEAD"


def snapshot(repo: GitRepo, root: Path, rev: str | None, label: str | None = None) -> Snapshot:
    """A snapshot of ``rev`` (None = the work tree)."""
    if rev is None:
        return Snapshot(repo, root, None, label or "workspace")
    return Snapshot(repo, root, repo.rev_parse(rev), label or rev)
