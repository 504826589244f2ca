"""DVC's files of one revision: the resolved pipeline and every dvc.lock, read from git
objects (or the work tree) without checking anything out.

The pipeline comes from :mod:`jx_mlops.dvc.resolve` over a read-only view of the revision
(:class:`~jx_mlops.dvc.treefs.GitTreeFS`), with the repository's resolution cache; the
locks of every dvc.yaml (a ``nlp/dvc.yaml`` has its own ``nlp/dvc.lock``) are merged into
one :class:`~jx_mlops.dvc.lockfile.DvcLock` whose stage names and paths are those of the
pipeline (DVC-root relative: a lock records paths relative to the stage's ``wdir``).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from pathlib import Path

from jx_mlops.dvc.lockfile import DvcLock, StageLock, parse_lock
from jx_mlops.dvc.pipeline import DEFAULT_PARAMS, Pipeline, assemble
from jx_mlops.dvc.resolve import ResolutionCache, cache_file, resolve_all
from jx_mlops.dvc.treefs import GitTreeFS, WorkTreeFS
from jx_mlops.git.repo import GitRepo

_CACHES: dict[Path, ResolutionCache] = {}


def resolution_cache(repo: GitRepo) -> ResolutionCache:
    """The repository's resolution cache, loaded once per process."""
    path = cache_file(repo.git_dir)
    if path not in _CACHES:
        _CACHES[path] = ResolutionCache.load(path)
    return _CACHES[path]


def revision_fs(repo: GitRepo, sha: str | None) -> GitTreeFS | WorkTreeFS:
    """A read-only view of commit ``sha`` (None: the work tree), from the git top."""
    if sha is None:
        return WorkTreeFS(repo.path)
    tree = repo.tree_id(sha)
    return GitTreeFS(repo, tree)


def read_pipeline(repo: GitRepo, sha: str | None, prefix: str = "", *,
                  fast: bool = True) -> Pipeline:
    """What DVC declares at ``sha`` (None: the work tree) below the DVC root ``prefix``
    (relative to the git top). ``fast=False``: every dvc.yaml through DVC, uncached."""
    fs = revision_fs(repo, sha)
    cache = resolution_cache(repo) if fast else None
    if isinstance(fs, GitTreeFS):
        entry = fs.entry(prefix)
        if entry is None or entry[0] != "tree":
            return Pipeline(root=prefix)
        tree: str | None = entry[1]
        base = f"{prefix}/" if prefix else ""

        def files() -> list[str]:
            return [base + f for f in repo.tree_files(entry[1])]
    else:
        tree = None

        def files() -> list[str]:
            return repo.list_files(None, f"{prefix}/*" if prefix else "*")
    resolved = resolve_all(fs, prefix, files, cache, tree, fast=fast)
    if cache is not None:
        cache.save()
    default = fs.exists(posixpath.join(prefix, DEFAULT_PARAMS) if prefix else DEFAULT_PARAMS)
    return assemble(prefix, resolved, default)


def _rooted(base: str, path: str) -> str:
    return path if "://" in path else posixpath.normpath(posixpath.join(base, path))


def _locked_stage(stage: StageLock, pipeline: Pipeline, lockdir: str) -> StageLock:
    """A lock's stage named and pathed as the pipeline's: DVC addressing, DVC-root
    relative paths (a lock writes them relative to the stage's ``wdir``)."""
    config = posixpath.join(lockdir, "dvc.yaml") if lockdir else "dvc.yaml"
    name = stage.name if config == "dvc.yaml" else f"{config}:{stage.name}"
    declared = pipeline.stage(name)
    wdir = declared.wdir if declared is not None else (lockdir or ".")
    if wdir in ("", "."):
        return replace(stage, name=name)
    return replace(
        stage, name=name,
        deps=tuple(replace(d, path=_rooted(wdir, d.path), stage=name) for d in stage.deps),
        outs=tuple(replace(o, path=_rooted(wdir, o.path), stage=name) for o in stage.outs),
        params={_rooted(wdir, f): v for f, v in stage.params.items()})


def merged_lock(read: dict[str, bytes | None], pipeline: Pipeline,
                where: str) -> DvcLock | None:
    """Every dvc.lock of ``pipeline`` (``read``: path -> bytes, DVC-root relative) as one;
    None when there is none. DvcError names the lock that cannot be read."""
    stages: list[StageLock] = []
    found = False
    for path, data in read.items():
        if data is None:
            continue
        found = True
        lock = parse_lock(data.decode("utf-8", "replace"), f"{path} at {where}")
        lockdir = posixpath.dirname(path)
        stages += [_locked_stage(s, pipeline, lockdir) for s in lock.stages]
    return DvcLock(tuple(stages)) if found else None


def lock_paths(pipeline: Pipeline) -> list[str]:
    """The lockfiles to read: the root's always, then one per dvc.yaml."""
    return list(dict.fromkeys(["dvc.lock", *pipeline.lockfiles()]))
