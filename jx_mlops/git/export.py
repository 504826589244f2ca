"""A commit's files written out from the object store by jx-mlops itself, every object
checked against its id, and checked again later.

Trusted evaluation runs the base branch's code in a work tree of its own. ``git worktree
add`` (or any checkout) in a clone where a pull request's code has just run would obey
that clone's configuration and hooks: a ``post-checkout`` hook, a smudge filter of
``.git/config`` with a ``.git/info/attributes`` line, rewrite the base's evaluation code
as it lands. Here no git command writes a file: each object is read (``cat-file``),
hashed as git hashes it (so a loose object altered in place is refused), and written by
us; :func:`tree_differences` re-hashes the files just before they are trusted.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jx_mlops.errors import GitError
from jx_mlops.git.process import GitObject
from jx_mlops.git.repo import GitRepo

_EXECUTABLE = "100755"
_SYMLINK = "120000"
_SUBMODULE = "160000"
_TREE = "40000"


@dataclass(frozen=True)
class TreeFile:
    """One file of a commit: where it goes, its mode and the blob id."""

    path: str
    mode: str
    blob: str


def _hash(obj: GitObject) -> str:
    """The id git gives ``obj``'s content (sha1, or sha256 in a sha256 repository)."""
    algorithm = hashlib.sha256 if len(obj.sha) == 64 else hashlib.sha1
    return algorithm(f"{obj.kind} {len(obj.data)}\0".encode() + obj.data).hexdigest()


def _object(repo: GitRepo, sha: str, kind: str) -> GitObject:
    """Object ``sha``, of ``kind``, whose content hashes to ``sha``; GitError otherwise."""
    found = repo.read_object(sha)
    if found is None or found.kind != kind:
        raise GitError(f"{repo.path}: {kind} {sha[:12]} is missing")
    if _hash(found) != found.sha or found.sha != sha:
        raise GitError(f"{repo.path}: {kind} {sha[:12]} does not match its id (the object "
                       "store was altered): not using it")
    return found


def _entries(data: bytes, width: int) -> Iterator[tuple[str, str, str]]:
    """(mode, name, id) of each entry of a raw tree object."""
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        mode = data[at:space].decode("ascii")
        name = data[space + 1:nul].decode("utf-8", "surrogateescape")
        sha = data[nul + 1:nul + 1 + width].hex()
        at = nul + 1 + width
        yield mode, name, sha


def tree_files(repo: GitRepo, commit: str) -> list[TreeFile]:
    """Every file of ``commit`` (recursively), read from checked objects."""
    found = _object(repo, commit, "commit")
    header = found.data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    tree = next((line.split()[1] for line in header.splitlines()
                 if line.startswith("tree ")), None)
    if tree is None:
        raise GitError(f"{repo.path}: commit {commit[:12]} names no tree")
    files: list[TreeFile] = []
    pending = [("", tree)]
    width = len(commit) // 2
    while pending:
        prefix, sha = pending.pop()
        for mode, name, entry in _entries(_object(repo, sha, "tree").data, width):
            if name in ("", ".", "..", ".git") or "/" in name or "\0" in name:
                raise GitError(f"{repo.path}: tree {sha[:12]} has an entry named {name!r}")
            path = f"{prefix}{name}"
            if mode == _TREE:
                pending.append((f"{path}/", entry))
            elif mode != _SUBMODULE:
                files.append(TreeFile(path, mode, entry))
    return sorted(files, key=lambda f: f.path)


def export_tree(repo: GitRepo, commit: str, dest: Path) -> list[TreeFile]:
    """Write every file of ``commit`` under ``dest`` (a new, empty directory) from checked
    objects, with no checkout, filter or hook; returns what was written."""
    files = tree_files(repo, commit)
    for file in files:
        target = dest / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = _object(repo, file.blob, "blob").data
        if file.mode == _SYMLINK:
            os.symlink(os.fsdecode(data), target)
            continue
        target.write_bytes(data)
        if file.mode == _EXECUTABLE:
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return files


def tree_differences(files: list[TreeFile], dest: Path) -> list[str]:
    """The files of ``files`` that ``dest`` no longer holds as the commit has them
    (content, symlink target, executable bit), e.g. rewritten since ``export_tree``."""
    changed = []
    for file in files:
        target = dest / file.path
        try:
            if file.mode == _SYMLINK:
                data = os.fsencode(os.readlink(target)) if target.is_symlink() else None
            elif target.is_symlink() or not target.is_file():
                data = None
            else:
                data = target.read_bytes()
                if (file.mode == _EXECUTABLE) != bool(target.stat().st_mode & stat.S_IXUSR):
                    data = None
        except OSError:
            data = None
        if data is None or _hash(GitObject(file.blob, "blob", data)) != file.blob:
            changed.append(file.path)
    return changed
