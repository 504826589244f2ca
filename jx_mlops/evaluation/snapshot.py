"""The files of one revision of a project, read as DVC would.

Files tracked by git are read straight from git objects at a revision (no checkout, no
DVC process). A file that is a cached DVC output is read from the project's DVC cache
through the hash dvc.lock records at that revision. ``None`` as a revision means the work
tree, as after ``dvc repro``.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jx_mlops.dvc.lockfile import DvcLock
from jx_mlops.dvc.pipeline import Pipeline
from jx_mlops.dvc.storage import parse_dir_manifest, read_cached
from jx_mlops.errors import DvcError, GitError
from jx_mlops.evaluation.dvcfiles import lock_paths, merged_lock, read_pipeline, revision_fs
from jx_mlops.evaluation.formats import NotText, read_values
from jx_mlops.fsutil import read_bounded
from jx_mlops.git.repo import GitRepo


@dataclass(frozen=True)
class Snapshot:
    """Files of one revision (``sha`` None = work tree), read lazily and remembered."""

    repo: GitRepo
    root: Path
    sha: str | None
    label: str
    # Trusted evaluation: these paths (the outputs of the base's scoring stage) are read
    # from ``overlay`` (the directory it ran in) and from nowhere else.
    overlay: Path | None = None
    overlay_paths: tuple[str, ...] = ()
    # The project's directory (its DVC root) inside the repository ('' at the top).
    prefix: str = ""
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def where(self) -> str:
        return f"{self.label} ({self.sha[:7]})" if self.sha else self.label

    def git_path(self, path: str) -> str:
        """``path`` (relative to the project) relative to the top of the repository."""
        return posixpath.normpath(posixpath.join(self.prefix, path)) if self.prefix else path

    def overlaid(self, path: str) -> bool:
        """Whether ``path`` is (inside) an output of the trusted run in ``overlay``."""
        wanted = os.path.normpath(path)
        return self.overlay is not None and any(
            wanted == top or wanted.startswith(top + "/")
            for top in map(os.path.normpath, self.overlay_paths))

    def read(self, path: str) -> bytes | None:
        """``path`` from git at this revision (or the work tree); None when it is absent."""
        if self.overlay is not None and self.overlaid(path):
            file = self.overlay / path
            return read_bounded(file, root=self.overlay, name=path) if file.is_file() \
                else None
        if self.sha is None:
            file = self.root / path
            return read_bounded(file, root=self.repo.path, name=path) if file.is_file() \
                else None
        return self.repo.read_blob(self.sha, f"{self.prefix}/{path}" if self.prefix else path)

    def lock(self) -> DvcLock | None:
        """Every dvc.lock at this revision as one (stages by DVC's addressing, paths
        DVC-root relative), parsed once; DvcError when one is unreadable."""
        if "lock" not in self._memo:
            self._memo["lock"] = merged_lock(
                {path: self.read(path) for path in lock_paths(self.pipeline())},
                self.pipeline(), self.where)
        lock: DvcLock | None = self._memo["lock"]
        return lock

    def pipeline(self) -> Pipeline:
        """What DVC declares at this revision, every dvc.yaml resolved as DVC resolves
        it; a dvc.yaml DVC rejects is one of its ``problems``."""
        if "pipeline" not in self._memo:
            self._memo["pipeline"] = read_pipeline(self.repo, self.sha, self.prefix)
        pipeline: Pipeline = self._memo["pipeline"]
        return pipeline

    def manifest(self, md5: str) -> dict[str, str] | None:
        """The files of cached directory object ``md5`` (None when it is not in the cache)."""
        key = f"dir:{md5}"
        if key not in self._memo:
            data = read_cached(self.root, md5)
            self._memo[key] = None if data is None else parse_dir_manifest(
                data, f"DVC directory object {md5}")
        manifest: dict[str, str] | None = self._memo[key]
        return manifest


def read_bytes(snap: Snapshot, path: str) -> tuple[bytes | None, str | None]:
    """A file of ``snap`` from git, or from the DVC cache when it is a cached output or a
    file inside one (through the directory's ``.dir`` manifest: only that file is read)."""
    data = snap.read(path)
    if data is not None:
        return data, None
    if snap.overlaid(path):  # never the PR's own copy of what the trusted run writes
        return None, f"{path} was not written by the trusted evaluation"
    try:
        return _from_dvc_cache(snap, path)
    except DvcError as exc:
        return None, f"{path} does not exist at {snap.where}, and {exc.message}"


@dataclass(frozen=True)
class FileValues:
    """A metrics or params file read: its values, or why not. ``skipped``: a file no
    format reads (binary: DVC skips it with a warning), named; a failure only where the
    base had metrics in it the verdict judges (the report's ``_hidden_at_head``)."""

    values: dict[str, Any] | None
    problem: str | None = None
    skipped: str | None = None


def read_file_values(snap: Snapshot, path: str, what: str = "metrics") -> FileValues:
    """A metrics/params file of ``snap`` flattened, as DVC reads it, or why it cannot be."""
    data, reason = read_bytes(snap, path)
    if data is None:
        return FileValues(None, reason)
    try:
        return FileValues(read_values(path, data, what))
    except NotText as exc:
        return FileValues(None, skipped=f"{path} at {snap.where}: {exc}")
    except ValueError as exc:
        return FileValues(None, f"{path} at {snap.where}: {exc}")


def read_structured(snap: Snapshot, path: str) -> tuple[dict[str, Any] | None, str | None]:
    """A metrics/params file of ``snap`` flattened, or None and the reason it is unreadable."""
    found = read_file_values(snap, path)
    return found.values, found.problem or found.skipped


def _not_cached_reason(snap: Snapshot, path: str) -> str:
    """Why a path no stage caches is absent: never committed, or it does not exist."""
    declared = snap.pipeline().output(path)
    if declared is not None and not declared.cached:
        return (f"{path} at {snap.where} is a `cache: false` output of stage "
                f"{declared.stage} that is not in git there (never committed, or deleted; "
                "DVC keeps no copy to pull: commit it after `dvc repro`)")
    return f"{path} does not exist at {snap.where}"


def _from_dvc_cache(snap: Snapshot, path: str) -> tuple[bytes | None, str | None]:
    declared = snap.pipeline().output(path)
    if declared is not None and not declared.cached:  # git is its only home, not the cache
        return None, _not_cached_reason(snap, path)
    lock = snap.lock()
    found = lock.containing(path) if lock else None
    if found is None or not found[0].md5:
        return None, _not_cached_reason(snap, path)
    out, inside = found
    top = os.path.normpath(out.path)
    assert out.md5 is not None
    if not inside:
        data = read_cached(snap.root, out.md5)
        return (data, None) if data is not None else (None, (
            f"{path} at {snap.where} is a DVC output whose data is not in the local cache "
            f"(md5 {out.md5}; run `dvc pull {top}`)"))
    manifest = snap.manifest(out.md5) if out.is_dir else None
    if manifest is None:
        return None, (f"{path} at {snap.where} is inside {top}, a DVC output whose data is "
                      f"not in the local cache (run `dvc pull {top}`)")
    md5 = manifest.get(inside)
    if md5 is None:
        return None, f"{path} does not exist at {snap.where} (not in the DVC output {top})"
    data = read_cached(snap.root, md5)
    return (data, None) if data is not None else (None, (
        f"{path} at {snap.where} is inside {top}, whose file is not in the local cache "
        f"(run `dvc pull {top}`)"))


def list_dir(snap: Snapshot, path: str) -> list[str]:
    """Files under directory ``path`` at ``snap`` (git or work tree, else the directory's
    DVC manifest), sorted; empty when ``path`` is not a directory there."""
    prefix = os.path.normpath(path) + "/"
    if snap.overlay is not None and snap.overlaid(path):
        base = snap.overlay / path
        return sorted(str(f.relative_to(snap.overlay)) for f in base.rglob("*")
                      if f.is_file()) if base.is_dir() else []
    if snap.sha is None:
        base = snap.root / path
        if base.is_dir():
            return sorted(str(f.relative_to(snap.root)) for f in base.rglob("*") if f.is_file())
    else:
        tracked = revision_fs(snap.repo, snap.sha).files(snap.git_path(path))
        if tracked:
            return [posixpath.relpath(f, snap.prefix) if snap.prefix else f for f in tracked]
    try:
        lock = snap.lock()
        found = lock.containing(path) if lock else None
        manifest = snap.manifest(found[0].md5) if found and found[0].md5 and \
            found[0].is_dir else None
    except DvcError:
        return []
    if not found or manifest is None:
        return []
    top = os.path.normpath(found[0].path)
    files = [os.path.join(top, rel) for rel in manifest]
    return sorted(f for f in files if f.startswith(prefix))


def default_branch_ref(repo: GitRepo) -> tuple[str, str]:
    """(ref, label) of the remote default branch: origin/HEAD, else origin/main, else HEAD."""
    symbolic = repo.run("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD",
                        check=False).strip()
    for ref in filter(None, (symbolic, "origin/main", "origin/master")):
        if repo.try_rev_parse(ref):
            return ref, ref.split("/", 1)[1]
    return "HEAD", "HEAD"


def resolve_revision(repo: GitRepo, rev: str) -> str:
    """The commit ``rev`` names, as DVC resolves it: a git revision, else an experiment
    name (``dvc exp run -n NAME``: refs/exps/.../NAME), else a branch only the remote has."""
    sha = repo.try_rev_parse(rev)
    if sha is not None:
        return sha
    refs = repo.run("for-each-ref", "--format=%(refname)", "refs/exps", check=False)
    experiments = [r for r in refs.splitlines() if r.rsplit("/", 1)[-1] == rev]
    if len(experiments) > 1:
        raise GitError(f"{rev!r} names {len(experiments)} experiments; use a commit instead")
    for candidate in (*experiments, f"refs/remotes/origin/{rev}"):
        sha = repo.try_rev_parse(candidate)
        if sha is not None:
            return sha
    return repo.rev_parse(rev)  # the git error, naming the revision


def project_prefix(repo: GitRepo, root: Path) -> str:
    """Where the project ``root`` lives inside ``repo`` ('' at the top)."""
    relative = os.path.relpath(root.resolve(), repo.path.resolve())
    return "" if relative == "." else relative.replace(os.sep, "/")


def snapshot(repo: GitRepo, root: Path, rev: str | None, label: str | None = None) -> Snapshot:
    """A snapshot of ``rev`` (None = the work tree) of the project at ``root``."""
    prefix = project_prefix(repo, root)
    if rev is None:
        return Snapshot(repo, root, None, label or "workspace", prefix=prefix)
    return Snapshot(repo, root, resolve_revision(repo, rev), label or rev, prefix=prefix)


def pipeline_problems(snap: Snapshot) -> list[str]:
    """Why dvc.yaml or dvc.lock of ``snap`` cannot be read (lineage, data and plots would
    otherwise be silently empty)."""
    problems = [f"{snap.where}: {problem}" for problem in snap.pipeline().problems]
    try:
        snap.lock()
    except DvcError as exc:
        problems.append(exc.message)
    return problems
