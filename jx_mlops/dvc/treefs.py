"""Read-only file systems over one revision of a repository, for DVC's own resolver.

``dvc.parsing.DataResolver`` reads a revision through a handful of file-system calls
(``exists``, ``isdir``, ``open``, ``join``, ``normpath``, ``relpath``, ``suffix``): loading
``vars`` files and the default ``params.yaml``. These classes answer them from a git tree
(:class:`GitTreeFS`, no checkout) or from the work tree (:class:`WorkTreeFS`), and nothing
outside it: a ``vars: [../../x]`` that climbs out of the repository is simply absent, and
a symlink in the work tree that leaves it is not followed.

Each records every path it was asked about and the content id it found (``touched``),
absent paths included: resolution is a pure function of those, which is what the
resolution cache (:mod:`jx_mlops.dvc.resolve`) is keyed on.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
from pathlib import Path
from typing import IO, Any, Protocol

import yaml

from jx_mlops.errors import InputError
from jx_mlops.fsutil import read_bounded
from jx_mlops.yamlio import check_events, yaml_problem

_TREE_MEMO: dict[str, dict[str, tuple[str, str]]] = {}  # tree sha -> {name: (kind, sha)}
_TREE_MEMO_SIZE = 20_000


class GitObjects(Protocol):
    """What reading a git tree needs (``jx_mlops.git.repo.GitRepo`` provides it)."""

    def tree_entries(self, spec: str) -> list[tuple[str, str, str]] | None: ...

    def blob_data(self, sha: str) -> bytes | None: ...


def relative_key(path: str) -> str | None:
    """``path`` as a normalised repository-relative path ('' for the top); None when it
    leaves the repository (``..``)."""
    key = posixpath.normpath(str(path).replace("\\", "/")).lstrip("/")
    if key == ".":
        return ""
    return None if key == ".." or key.startswith("../") else key


def blob_id(data: bytes) -> str:
    """The id git gives ``data`` as a blob, so work-tree and git reads share cache keys."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _stream(path: str, data: bytes, mode: str, encoding: str | None) -> IO[Any]:
    """``data`` opened for DVC; a file DVC would read as YAML is checked against
    :mod:`jx_mlops.yamlio`'s limits first (DVC's parser has none: an alias bomb in a
    ``vars`` file would expand in its hands)."""
    if "b" in mode:
        return io.BytesIO(data)
    if posixpath.splitext(path)[1].lower() not in (".json", ".toml", ".py"):
        try:
            check_events(data)
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: invalid YAML: {yaml_problem(exc)}") from None
    return io.StringIO(data.decode(encoding or "utf-8"))


class GitTreeFS:
    """One commit's tree (``root`` a tree sha), read through ``objects``."""

    sep = "/"
    join = staticmethod(posixpath.join)
    normpath = staticmethod(posixpath.normpath)
    relpath = staticmethod(posixpath.relpath)
    parent = staticmethod(posixpath.dirname)

    def __init__(self, objects: GitObjects, root: str) -> None:
        self._objects = objects
        self.root = root
        self.touched: dict[str, str | None] = {}

    @staticmethod
    def suffix(path: str) -> str:
        return posixpath.splitext(path)[1]

    def _tree(self, sha: str) -> dict[str, tuple[str, str]]:
        found = _TREE_MEMO.get(sha)
        if found is None:
            entries = self._objects.tree_entries(sha) or []
            found = {name: (kind, oid) for name, kind, oid in entries}
            if len(_TREE_MEMO) >= _TREE_MEMO_SIZE:
                _TREE_MEMO.clear()
            _TREE_MEMO[sha] = found
        return found

    def entry(self, path: str) -> tuple[str, str] | None:
        """(kind, sha) of ``path`` in this tree, None when absent or outside it."""
        key = relative_key(path)
        if key is None:
            return None
        found: tuple[str, str] = ("tree", self.root)
        for part in key.split("/") if key else ():
            if found[0] != "tree":
                return None
            child = self._tree(found[1]).get(part)
            if child is None:
                return None
            found = child
        return found

    def content_id(self, path: str) -> str | None:
        """``kind:sha`` of ``path`` (None when absent), without recording it."""
        found = self.entry(path)
        return f"{found[0]}:{found[1]}" if found else None

    def _record(self, path: str) -> tuple[str, str] | None:
        found = self.entry(path)
        key = relative_key(path)
        self.touched[key if key is not None else str(path)] = \
            f"{found[0]}:{found[1]}" if found else None
        return found

    def exists(self, path: str, **_: Any) -> bool:
        return self._record(path) is not None

    def isdir(self, path: str, **_: Any) -> bool:
        found = self._record(path)
        return found is not None and found[0] == "tree"

    def isfile(self, path: str, **_: Any) -> bool:
        found = self._record(path)
        return found is not None and found[0] == "blob"

    def read_bytes(self, path: str) -> bytes | None:
        """The bytes of file ``path`` (recorded), None when it is not a file here."""
        found = self._record(path)
        if found is None or found[0] != "blob":
            return None
        return self._objects.blob_data(found[1])

    def open(self, path: str, mode: str = "r", encoding: str | None = None,
             **_: Any) -> IO[Any]:
        data = self.read_bytes(path)
        if data is None:
            raise FileNotFoundError(path)
        return _stream(path, data, mode, encoding)

    def files(self, path: str) -> list[str]:
        """Every file below directory ``path``, sorted ([] when it is not a directory)."""
        found = self.entry(path)
        key = relative_key(path) or ""
        if found is None or found[0] != "tree":
            return []
        out: list[str] = []
        stack = [(key, found[1])]
        while stack:
            base, sha = stack.pop()
            for name, (kind, oid) in self._tree(sha).items():
                child = f"{base}/{name}" if base else name
                if kind == "tree":
                    stack.append((child, oid))
                elif kind == "blob":
                    out.append(child)
        return sorted(out)


class WorkTreeFS:
    """The work tree below ``top`` (the repository's top directory), confined to it."""

    sep = "/"
    join = staticmethod(posixpath.join)
    normpath = staticmethod(posixpath.normpath)
    relpath = staticmethod(posixpath.relpath)
    parent = staticmethod(posixpath.dirname)

    def __init__(self, top: Path) -> None:
        self.top = top.resolve()
        self.touched: dict[str, str | None] = {}

    @staticmethod
    def suffix(path: str) -> str:
        return posixpath.splitext(path)[1]

    def _path(self, path: str) -> Path | None:
        key = relative_key(path)
        if key is None:
            return None
        full = self.top / key if key else self.top
        try:
            real = full.resolve()
        except OSError:
            return None
        return full if real == self.top or self.top in real.parents else None

    def _data(self, path: str) -> bytes | None:
        full = self._path(path)
        if full is None or not full.is_file():
            return None
        try:
            return read_bounded(full, root=self.top, name=str(path))
        except (OSError, InputError):
            return None

    def content_id(self, path: str) -> str | None:
        full = self._path(path)
        if full is None or not full.exists():
            return None
        if full.is_dir():
            return "tree:"
        data = self._data(path)
        return None if data is None else f"blob:{blob_id(data)}"

    def _record(self, path: str) -> str | None:
        found = self.content_id(path)
        key = relative_key(path)
        self.touched[key if key is not None else str(path)] = found
        return found

    def exists(self, path: str, **_: Any) -> bool:
        return self._record(path) is not None

    def isdir(self, path: str, **_: Any) -> bool:
        return (self._record(path) or "").startswith("tree:")

    def isfile(self, path: str, **_: Any) -> bool:
        return (self._record(path) or "").startswith("blob:")

    def read_bytes(self, path: str) -> bytes | None:
        data = self._data(path)
        key = relative_key(path)
        self.touched[key if key is not None else str(path)] = \
            None if data is None else f"blob:{blob_id(data)}"
        return data

    def open(self, path: str, mode: str = "r", encoding: str | None = None,
             **_: Any) -> IO[Any]:
        data = self.read_bytes(path)
        if data is None:
            raise FileNotFoundError(path)
        return _stream(path, data, mode, encoding)

    def files(self, path: str) -> list[str]:
        full = self._path(path)
        if full is None or not full.is_dir():
            return []
        found = []
        for file in full.rglob("*"):
            if file.is_file() and self._path(str(file.relative_to(self.top))) is not None:
                found.append(file.relative_to(self.top).as_posix())
        return sorted(found)
