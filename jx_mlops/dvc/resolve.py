"""Every dvc.yaml of a revision, found and resolved as DVC resolves it.

Two steps, each DVC's own:

1. **Which dvc.yaml files** (``dvc.repo.index.collect_files``): every ``dvc.yaml`` below
   the DVC root, except under ``.git`` and ``.dvc``, inside a DVC sub-repository (a
   directory holding ``.dvc``: DVC does not descend into it) and what the root
   ``.dvcignore`` ignores.
2. **Each file resolved**: DVC's parser and schema (``dvc.utils.strictyaml.load`` with
   ``COMPILED_MULTI_STAGE_SCHEMA``), then ``dvc.parsing.DataResolver`` for ``vars``,
   ``${}`` interpolation, ``foreach`` and ``matrix``, over a read-only view of the
   revision (:mod:`jx_mlops.dvc.treefs`). A file DVC rejects is an error naming it, as
   DVC's message says, never an empty pipeline.

The fast paths: a dvc.yaml with no ``${``, no ``vars``, no ``foreach``/``matrix`` is
already its own resolution, so it is parsed as DVC parses it (YAML 1.2) and checked
against a strict subset of DVC's schema without importing DVC. A templated one goes to
DataResolver without DVC's schema (the schema's import is a third of the cost) when its
unresolved shape and its resolution fit the same subset. Anything outside the subset takes
DVC's whole path, which gives DVC's answer or DVC's error. A test resolves every fixture
both ways and compares.

Resolutions through DVC are cached by the dvc.yaml's blob id and validated by the content
ids of every path the resolver touched, absent ones included (``params.yaml`` appearing
changes the answer); the cache persists in the repository's git directory, so a repeated
run imports nothing from DVC.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import yaml

from jx_mlops.dvc.schema import plain_dvcyaml, templated_fits
from jx_mlops.fsutil import write_atomic
from jx_mlops.yamlio import check_events, load_as_dvc, one_line, yaml_problem

DVCYAML = "dvc.yaml"
CACHE_VERSION = 2  # 2: written unsorted (1 lost the stages' order)
_CACHE_LIMIT = 2_000  # entries kept per cache file; the oldest go first
Resolved = dict[str, Any]


class RevisionFS(Protocol):
    """What resolving needs of a revision's files (``treefs.GitTreeFS``/``WorkTreeFS``)."""

    touched: dict[str, str | None]

    def exists(self, path: str) -> bool: ...

    def read_bytes(self, path: str) -> bytes | None: ...

    def content_id(self, path: str) -> str | None: ...


# -- which dvc.yaml files ----------------------------------------------------------------


def _ignore_rules(fs: RevisionFS, root: str) -> Callable[[str, bool], bool] | None:
    """The root .dvcignore as a predicate (path relative to the DVC root, is a dir);
    None without patterns (``dvc init`` writes one with comments only)."""
    data = fs.read_bytes(posixpath.join(root, ".dvcignore") if root else ".dvcignore")
    lines = [ln.strip() for ln in (data or b"").decode("utf-8", "replace").splitlines()]
    patterns = [ln for ln in lines if ln and not ln.startswith("#")]
    if not patterns:
        return None
    from dvc.ignore import DvcIgnorePatterns

    rules = DvcIgnorePatterns(patterns, "/", "/")

    def ignored(path: str, is_dir: bool) -> bool:
        parent, name = posixpath.split(path)
        return bool(rules.matches("/" + parent if parent else "/", name, is_dir))

    return ignored


def dvcyaml_paths(files: Sequence[str], root: str,
                  ignored: Callable[[str, bool], bool] | None = None) -> list[str]:
    """The dvc.yaml files DVC collects among ``files`` (every file of the revision below
    the DVC root ``root``, git-top relative), shallowest first."""
    prefix = f"{root}/" if root else ""
    inside = [f[len(prefix):] for f in files if f.startswith(prefix)]
    # A directory holding its own .dvc is a sub-repository: DVC does not descend into it.
    subrepos = {f.split("/.dvc/", 1)[0] for f in inside if "/.dvc/" in f}
    found = []
    for path in inside:
        if posixpath.basename(path) != DVCYAML:
            continue
        parts = path.split("/")[:-1]
        dirs = ["/".join(parts[:i + 1]) for i in range(len(parts))]
        if {".git", ".dvc"} & set(parts) or any(d in subrepos for d in dirs):
            continue
        if ignored is not None and (any(ignored(d, True) for d in dirs)
                                    or ignored(path, False)):
            continue
        found.append(prefix + path)
    return sorted(found, key=lambda p: (p.count("/"), p))


# -- resolving one dvc.yaml --------------------------------------------------------------


def _dvc_error(exc: Exception) -> str:
    """DVC's message, with voluptuous' details when it has them, on one line."""
    detail = getattr(exc, "exc", None)
    text = f"{exc}: {detail}" if detail is not None and "validation" in str(exc) else \
        str(exc)
    return " ".join(text.split())


def _resolved(fs: RevisionFS, path: str, data: dict[str, Any]) -> Resolved:
    """DataResolver's answer for the parsed dvc.yaml ``data`` at ``path``."""
    from dvc.parsing import DataResolver

    resolver = DataResolver(SimpleNamespace(fs=fs, config={}), posixpath.dirname(path), data)
    return {"stages": resolver.resolve()["stages"] or {},
            "metrics": resolver.resolve_metrics(), "params": resolver.resolve_params(),
            "plots": resolver.resolve_plots(), "artifacts": resolver.resolve_artifacts(),
            "tracked_vars": _plain(resolver.tracked_vars)}


def _without_schema(fs: RevisionFS, path: str, text: str) -> Resolved | None:
    """The resolution of a templated dvc.yaml DVC's schema certainly accepts, without
    importing the schema (a third of DVC's cost here); None: ask the schema."""
    try:
        data = load_as_dvc(text) or {}
        resolved = _resolved(fs, path, data) if isinstance(data, dict) else None
    except Exception:
        return None
    return resolved if resolved is not None and templated_fits(data, resolved) else None


def _through_dvc(fs: RevisionFS, path: str) -> Resolved:
    """``path`` resolved as DVC does: its parser, its schema, its DataResolver."""
    from dvc.exceptions import DvcException
    from dvc.schema import COMPILED_MULTI_STAGE_SCHEMA
    from dvc.utils.strictyaml import load

    try:
        data, _text = load(path, COMPILED_MULTI_STAGE_SCHEMA, fs)
        return _resolved(fs, path, data or {})
    except DvcException as exc:
        return {"error": _dvc_error(exc)}
    except Exception as exc:
        return {"error": f"{path}: DVC cannot resolve it ({type(exc).__name__}: "
                         f"{one_line(exc)})"}


def _plain(value: Any) -> Any:
    """DVC's values as plain JSON-able data (its Context nodes, tuples, mappings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fast(text: str) -> Resolved | None:
    """The resolution of a dvc.yaml that needs none (no templating), or None when DVC
    must look at it (templating, or anything outside the schema subset checked here)."""
    if "${" in text:
        return None
    try:
        data = load_as_dvc(text) or {}
    except ValueError:
        return None  # DVC's own parser gives the exact message
    return plain_dvcyaml(data)


@dataclass
class ResolutionCache:
    """Resolutions through DVC, by dvc.yaml path and blob id, validated by their inputs;
    and the dvc.yaml paths of each tree already listed."""

    path: Path | None = None
    entries: dict[str, list[Any]] = field(default_factory=dict)
    trees: dict[str, list[str]] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, path: Path | None) -> ResolutionCache:
        cache = cls(path)
        if path is None or not path.is_file():
            return cache
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cache
        if isinstance(data, dict) and data.get("version") == CACHE_VERSION:
            cache.entries = dict(data.get("entries") or {})
            cache.trees = dict(data.get("trees") or {})
        return cache

    def save(self) -> None:
        """Write the cache if it changed; a read-only repository keeps it in memory."""
        if not self.dirty or self.path is None:
            return
        entries = dict(list(self.entries.items())[-_CACHE_LIMIT:])
        trees = dict(list(self.trees.items())[-_CACHE_LIMIT:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Not sorted: the stages' order is DVC's (the report lists them so) and the
            # entries' order is their age.
            write_atomic(self.path, json.dumps({"version": CACHE_VERSION, "entries": entries,
                                                "trees": trees}) + "\n")
            self.dirty = False
        except OSError:
            pass

    def lookup(self, key: str, fs: RevisionFS) -> Resolved | None:
        for inputs, resolved in self.entries.get(key, []):
            if all(fs.content_id(p) == oid for p, oid in inputs.items()):
                return dict(resolved)
        return None

    def store(self, key: str, inputs: Mapping[str, str | None], resolved: Resolved) -> None:
        entries = self.entries.pop(key, [])
        self.entries[key] = [[dict(inputs), resolved], *entries][:8]
        self.dirty = True


_VERSION: list[str] = []


def _dvc_version() -> str:
    """DVC's version, part of every cache key, read without importing DVC (a cache hit
    must not pay DVC's import): its generated ``_version.py``, else the distribution's."""
    if not _VERSION:
        import importlib.util
        import re

        spec = importlib.util.find_spec("dvc")
        origin = Path(spec.origin).parent / "_version.py" if spec and spec.origin else None
        found = re.search(r"""version = ['"]([^'"]+)['"]""",
                          origin.read_text(encoding="utf-8")) if origin and \
            origin.is_file() else None
        if found is None:
            from importlib.metadata import version

            _VERSION.append(version("dvc"))
        else:
            _VERSION.append(found.group(1))
    return _VERSION[0]


def resolve_file(fs: RevisionFS, path: str, cache: ResolutionCache | None = None, *,
                 fast: bool = True) -> Resolved:
    """``path`` (a dvc.yaml, git-top relative) resolved: stages (by generated name),
    top-level metrics, params, plots and artifacts, tracked vars; or ``{"error": ...}``.
    ``fast=False``: through DVC even without templating (to compare the two)."""
    data = fs.read_bytes(path)
    if data is None:
        return {"error": f"{path}: cannot read it"}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"error": f"{path}: not UTF-8"}
    try:
        check_events(text)  # before DVC's parser sees it: DVC's has no limits
    except yaml.YAMLError as exc:
        return {"error": f"{path}: invalid YAML: {yaml_problem(exc)}"}
    plain = _fast(text) if fast else None
    if plain is not None:
        return plain
    key = f"{_dvc_version()}:{path}:{fs.content_id(path)}"
    found = cache.lookup(key, fs) if cache is not None else None
    if found is not None:
        return found
    before = dict(fs.touched)
    fs.touched.clear()
    resolved = (_without_schema(fs, path, text) if fast else None) or _through_dvc(fs, path)
    inputs, fs.touched = dict(fs.touched), {**before, **fs.touched}
    inputs[path] = fs.content_id(path)
    if cache is not None:
        cache.store(key, inputs, json.loads(json.dumps(resolved, default=str)))
    return resolved


def resolve_all(fs: RevisionFS, root: str, files: Callable[[], Sequence[str]],
                cache: ResolutionCache | None = None, tree: str | None = None, *,
                fast: bool = True) -> list[tuple[str, Resolved]]:
    """Every dvc.yaml below the DVC root ``root`` and its resolution, shallowest first.

    ``files`` lists the revision's files below the root (called only when the listing of
    ``tree``, the root's tree id, is not cached)."""
    ignored = _ignore_rules(fs, root)
    key = None if tree is None or ignored is not None else f"{root}:{tree}"
    paths = cache.trees.get(key) if cache is not None and key else None
    if paths is None:
        paths = dvcyaml_paths(files(), root, ignored)
        if cache is not None and key:
            cache.trees[key] = paths
            cache.dirty = True
    return [(p, resolve_file(fs, p, cache, fast=fast)) for p in paths]


def cache_file(git_dir: Path) -> Path:
    """Where a repository keeps its resolution cache."""
    return git_dir / "jx-mlops" / "dvc-resolved.json"
