"""DVC's file formats (dvc.lock, .dvc files, imports), parsed without running DVC.

They are plain YAML, and reading them at a git revision needs no DVC process at all; a
pull request controls them, so their shape is untrusted input.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import yaml

from jx_mlops.dvc.hashes import check_object_id
from jx_mlops.errors import DvcError
from jx_mlops.yamlio import load_as_dvc, safe_load, shorten

_F = TypeVar("_F", bound=Callable[..., Any])


def malformed_is_dvc_error(parse: _F) -> _F:
    """A DVC file of an unexpected shape (a number where a list belongs...) is the file's
    fault, reported as a DvcError naming it (the ``where`` argument), not a crash.

    A pull request controls these files, so their shape is untrusted input."""
    default = inspect.signature(parse).parameters["where"].default
    fallback = default if isinstance(default, str) else "a DVC file"

    @functools.wraps(parse)
    def checked(text: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(text, *args, **kwargs)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
            where = args[0] if args else kwargs.get("where", fallback)
            raise DvcError(f"{where}: not the structure DVC writes "
                           f"({type(exc).__name__}: {shorten(str(exc), 80)})") from None

    return cast(_F, checked)


@dataclass(frozen=True)
class OutputInfo:
    """One DVC-tracked file or directory, as dvc.lock or a .dvc file records it."""

    path: str
    md5: str | None
    size: int | None = None
    nfiles: int | None = None
    stage: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))


@dataclass(frozen=True)
class StageLock:
    """A stage's locked state: its command, dependency and output hashes, params."""

    name: str
    cmd: str
    deps: tuple[OutputInfo, ...] = ()
    outs: tuple[OutputInfo, ...] = ()
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DvcLock:
    """The parsed dvc.lock of a revision."""

    stages: tuple[StageLock, ...] = ()

    def output(self, path: str) -> OutputInfo | None:
        """The output recorded for ``path`` (normalised), if any stage produces it."""
        wanted = os.path.normpath(path)
        for stage in self.stages:
            for out in stage.outs:
                if os.path.normpath(out.path) == wanted:
                    return out
        return None

    def containing(self, path: str) -> tuple[OutputInfo, str] | None:
        """The output that is ``path`` or a directory holding it, and ``path`` inside it
        ("" when the output is ``path`` itself)."""
        wanted = os.path.normpath(path)
        for stage in self.stages:
            for out in stage.outs:
                top = os.path.normpath(out.path)
                if wanted == top:
                    return out, ""
                if wanted.startswith(top + "/"):
                    return out, wanted[len(top) + 1:]
        return None


def _entry(item: Any, stage: str, where: str, key: str) -> OutputInfo:
    """One dep or out of ``stage``; ``key`` names it in errors (``stages.train.outs[0]``).
    An ``md5`` must be a DVC object id: it becomes a path in the cache and the remote."""
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise DvcError(f"{where}: {key}: an entry without a path: {item!r:.80}")
    size = item.get("size")
    nfiles = item.get("nfiles")
    md5: str | None = None
    value = item.get("md5")
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:032d}"  # an unquoted all-digit hash (hand-written files) is a number
    if value is not None:
        md5 = check_object_id(value, f"{where}: {key}.md5")
    elif item.get("etag") is not None:
        # A cloud output's etag (import-url, version_aware remotes): compared, never a path.
        if not isinstance(item["etag"], str):
            raise DvcError(f"{where}: {key}.etag: expected a string, got {item['etag']!r:.80}")
        md5 = item["etag"]
    return OutputInfo(path=item["path"], md5=md5,
                      size=size if isinstance(size, int) else None,
                      nfiles=nfiles if isinstance(nfiles, int) else None, stage=stage)


def _entries(items: Any, stage: str, where: str, key: str) -> tuple[OutputInfo, ...]:
    return tuple(_entry(item, stage, where, f"{key}[{i}]") for i, item in enumerate(items or []))


@malformed_is_dvc_error
def parse_lock(text: str, where: str = "dvc.lock") -> DvcLock:
    """Parse dvc.lock (schema 2.0) text; errors name ``where``.

    Read as DVC wrote it, YAML 1.2: locked params such as ``1e-05`` or ``yes`` are a float
    and a string there, not what YAML 1.1 makes of them."""
    try:
        data = load_as_dvc(text) or {}
    except ValueError as exc:
        raise DvcError(f"{where}: invalid YAML: {exc}") from None
    stages_data = data.get("stages", {}) if isinstance(data, dict) else None
    if not isinstance(stages_data, dict):
        raise DvcError(f"{where}: expected a 'stages' mapping (dvc.lock schema 2.0)")
    stages = []
    for name, body in stages_data.items():
        body = body if isinstance(body, dict) else {}
        params = body.get("params") or {}
        stages.append(StageLock(
            name=str(name), cmd=str(body.get("cmd", "")),
            deps=_entries(body.get("deps"), str(name), where, f"stages.{name}.deps"),
            outs=_entries(body.get("outs"), str(name), where, f"stages.{name}.outs"),
            params={str(k): dict(v or {}) for k, v in params.items()},
        ))
    return DvcLock(tuple(stages))


@malformed_is_dvc_error
def parse_dvc_file(text: str, where: str) -> tuple[OutputInfo, ...]:
    """The outputs a ``.dvc`` file tracks (paths made relative to the repository root)."""
    try:
        data = safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DvcError(f"{where}: invalid YAML: {exc}") from None
    base = os.path.dirname(where)
    outs = []
    items = data.get("outs") or [] if isinstance(data, dict) else []
    for out in _entries(items, where, where, "outs"):
        outs.append(OutputInfo(os.path.normpath(os.path.join(base, out.path)), out.md5,
                               out.size, out.nfiles, stage=where))
    return tuple(outs)


@dataclass(frozen=True)
class ImportInfo:
    """A ``dvc import``/``import-url`` .dvc file: where the data comes from, what it is."""

    dvc_file: str
    path: str
    source: str
    source_path: str
    rev: str | None
    rev_lock: str | None
    md5: str | None
    size: int | None
    nfiles: int | None
    checksum: str | None


@malformed_is_dvc_error
def parse_import(text: str, where: str) -> ImportInfo | None:
    """The import a .dvc file describes, or None when it tracks local data (``dvc add``)."""
    try:
        data = safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DvcError(f"{where}: invalid YAML: {exc}") from None
    deps = data.get("deps") if isinstance(data, dict) else None
    outs = data.get("outs") if isinstance(data, dict) else None
    if not deps or not outs or not isinstance(deps[0], dict) or not isinstance(outs[0], dict):
        return None
    dep, out = deps[0], _entry(outs[0], where, where, "outs[0]")
    repo = dep.get("repo") if isinstance(dep.get("repo"), dict) else None
    checksum = next((str(dep[k]) for k in ("md5", "etag", "checksum") if dep.get(k)), None)
    return ImportInfo(
        dvc_file=where, path=os.path.normpath(os.path.join(os.path.dirname(where), out.path)),
        source=str(repo.get("url")) if repo else str(dep.get("path", "")),
        source_path=str(dep.get("path", "")) if repo else "",
        rev=str(repo["rev"]) if repo and repo.get("rev") else None,
        rev_lock=str(repo["rev_lock"]) if repo and repo.get("rev_lock") else None,
        md5=out.md5, size=out.size, nfiles=out.nfiles, checksum=checksum)
