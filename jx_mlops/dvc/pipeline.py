"""What a DVC project declares at one revision, resolved as DVC resolves it.

The one reader of dvc.yaml. :mod:`jx_mlops.dvc.resolve` finds every dvc.yaml below the
DVC root and has DVC's own resolver expand it (``vars``, ``${}``, ``foreach``,
``matrix``); :func:`assemble` then applies DVC's post-processing rules, each mirroring
the DVC function named in its docstring, into one :class:`Pipeline`: stages by DVC's
addressing (``train@unet``, ``nlp/dvc.yaml:train``), metrics and params files as
``dvc metrics/params show`` collect them, plot ids as ``dvc plots diff`` names them, and
artifacts by their GTO/DVC full names (``nlp:classifier``).

Every path in a Pipeline is relative to the DVC root, as DVC prints it; the root itself
is relative to the top of the git repository.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jx_mlops.errors import ConfigError

DEFAULT_PARAMS = "params.yaml"
OutputKind = Literal["out", "metric", "plot"]
_PLOT_PROPS = ("template", "x", "y", "x_label", "y_label", "title", "header")


@dataclass(frozen=True)
class PlotSource:
    """One y field of one data file, with the x field to draw it against (None: index)."""

    file: str
    y: str | None
    x: str | None


@dataclass(frozen=True)
class PlotDefinition:
    """A plot as ``dvc plots diff`` names it (``name``: its id before a directory is
    expanded to its files), with the template that says how to draw it."""

    name: str
    title: str
    x_label: str
    y_label: str
    sources: tuple[PlotSource, ...]
    template: str = "linear"
    # The id is a path (a file, or a directory standing for its files), not a name.
    path_id: bool = True


@dataclass(frozen=True)
class Artifact:
    """An entry of a dvc.yaml's ``artifacts:`` (what GTO and DVC's model registry read).

    ``name`` is the full name (``DIR:NAME`` for ``DIR/dvc.yaml``, DIR relative to the top
    of the git repository), ``path`` is relative to the DVC root."""

    name: str
    path: str
    type: str = ""
    desc: str = ""
    labels: tuple[str, ...] = ()
    # ``meta.onnx``: the model's ONNX export, what a trusted job scores without unpickling.
    onnx: str = ""
    dvcfile: str = "dvc.yaml"


@dataclass(frozen=True)
class StageOutput:
    """A path a stage writes (``outs``, ``metrics`` or ``plots``) and whether DVC caches it."""

    stage: str
    path: str
    cached: bool = True
    kind: OutputKind = "out"


@dataclass(frozen=True)
class Stage:
    """One resolved stage: ``name`` is DVC's addressing (``train@unet``,
    ``nlp/dvc.yaml:train``); ``group`` the dvc.yaml key it was generated from and ``item``
    the foreach/matrix item ('' for a plain stage)."""

    name: str
    dvcfile: str
    wdir: str
    deps: tuple[str, ...] = ()
    outs: tuple[StageOutput, ...] = ()
    # params file -> keys it tracks (None: the whole file), as DVC merges them.
    params: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    group: str = ""
    item: str = ""

    @property
    def lock_name(self) -> str:
        """The stage's key in its dvc.lock (its name within its own dvc.yaml)."""
        return self.name if self.dvcfile == "dvc.yaml" else self.name[len(self.dvcfile) + 1:]


@dataclass(frozen=True)
class Pipeline:
    """Everything DVC declares at one revision, below one DVC root."""

    root: str = ""
    dvcfiles: tuple[str, ...] = ()
    stages: tuple[Stage, ...] = ()
    metrics: tuple[str, ...] = ()
    params: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    # Keys ``${}`` used from vars files that are not params files: DVC shows them too.
    vars_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    plots: tuple[PlotDefinition, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    # One line per dvc.yaml DVC rejects or cannot resolve: what it would say.
    problems: tuple[str, ...] = ()

    @property
    def outputs(self) -> tuple[StageOutput, ...]:
        return tuple(out for stage in self.stages for out in stage.outs)

    def output(self, path: str) -> StageOutput | None:
        """The stage output that is ``path`` or a directory holding it."""
        wanted = posixpath.normpath(path)
        for out in self.outputs:
            if wanted == out.path or wanted.startswith(out.path + "/"):
                return out
        return None

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def git_path(self, path: str) -> str:
        """``path`` (DVC-root relative) relative to the top of the git repository."""
        return posixpath.normpath(posixpath.join(self.root, path)) if self.root else path

    def lockfiles(self) -> tuple[str, ...]:
        """The dvc.lock next to each dvc.yaml (DVC-root relative)."""
        return tuple(posixpath.join(posixpath.dirname(f), "dvc.lock") if "/" in f
                     else "dvc.lock" for f in self.dvcfiles)


# -- DVC's rules ------------------------------------------------------------------------


def _entries(items: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``[path, {path: props}]`` list items as (path, props) pairs."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            yield item, {}
        elif isinstance(item, dict):
            for key, value in item.items():
                yield str(key), value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class _Paths:
    """Git-top relative paths (the resolver's) made DVC-root relative."""

    def __init__(self, root: str) -> None:
        self.root = root

    def rel(self, path: str) -> str:
        if "://" in path:
            return path  # a remote URI stays as written
        path = posixpath.normpath(path)
        return posixpath.relpath(path, self.root) if self.root else path

    def join(self, base: str, path: str) -> str:
        """``path`` of a dvc.yaml in (git-top relative) ``base``, DVC-root relative
        (``Output.def_path`` joined with the stage's ``wdir``)."""
        return path if "://" in path else self.rel(posixpath.join(base, str(path)))


def _merge_params(pairs: list[tuple[str, tuple[str, ...] | None]]
                  ) -> dict[str, tuple[str, ...] | None]:
    """dvc.dependency._merge_params: a file tracked whole (no keys) wins over key lists."""
    merged: dict[str, list[str] | None] = {}
    for file, keys in pairs:
        before = merged.get(file, [])
        if keys is None or before is None:
            merged[file] = None
        else:
            merged[file] = before + [k for k in keys if k not in before]
    return {f: None if k is None else tuple(k) for f, k in merged.items()}


def _stage_params(body: dict[str, Any], wdir: str,
                  paths: _Paths) -> list[tuple[str, tuple[str, ...] | None]]:
    """dvc.dependency.loads_params: a bare key is in ``params.yaml`` of the stage's wdir;
    ``{FILE: [keys]}`` names a file, ``{FILE: }`` or ``{FILE: []}`` tracks all of it."""
    found: list[tuple[str, tuple[str, ...] | None]] = []
    for item in body.get("params") or []:
        if isinstance(item, str):
            found.append((paths.join(wdir, DEFAULT_PARAMS), (item,)))
        elif isinstance(item, dict):
            found += [(paths.join(wdir, str(file)), tuple(map(str, keys)) if keys else None)
                      for file, keys in item.items()]
    return found


def plot_definition(name: str, props: dict[str, Any], files_base: str,
                    paths: _Paths) -> PlotDefinition:
    """dvc.repo.plots._resolve_definitions/_id_is_path: a plot whose ``y`` is not a
    mapping is a path (its own data file, joined with the dvc.yaml's directory); one whose
    ``y`` maps files to fields is a name, its files joined with the directory."""
    x, y = props.get("x"), props.get("y")
    sources: list[PlotSource] = []
    path_id = not isinstance(y, dict)
    if isinstance(y, dict):
        for file, fields in y.items():
            x_field = x.get(file) if isinstance(x, dict) else x
            sources += [PlotSource(paths.join(files_base, str(file)), str(f),
                                   None if x_field is None else str(x_field))
                        for f in _as_list(fields)]
        plot_id = name
    else:
        plot_id = paths.join(files_base, name)
        x_field = next(iter(x.values()), None) if isinstance(x, dict) else x
        sources += [PlotSource(plot_id, None if f is None else str(f),
                               None if x_field is None else str(x_field))
                    for f in _as_list(y)]
    x_name = x if isinstance(x, str) else next(iter(x.values()), "step") if isinstance(
        x, dict) and x else "step"
    return PlotDefinition(plot_id, str(props.get("title") or plot_id),
                          str(props.get("x_label") or x_name),
                          str(props.get("y_label") or (sources[0].y if sources else "") or ""),
                          tuple(sources), str(props.get("template") or "linear"), path_id)


def _path(value: str) -> str:
    """A path as DVC compares it; a remote URI (``s3://...``) stays as written."""
    return value if "://" in value else posixpath.normpath(value)


def read_artifacts(section: Any, where: str = "dvc.yaml", *,
                   strict: bool = False) -> tuple[Artifact, ...]:
    """An ``artifacts:`` section (dvc.yaml's, or GTO's artifacts.yaml), in file order,
    paths as written.

    Lenient: entries that are not artifacts are left out. Strict (registering, listing the
    registry): a ConfigError naming ``where`` and the key, as GTO and DVC refuse them.
    """
    if not section:
        return ()
    if not isinstance(section, dict):
        if strict:
            raise ConfigError(f"{where}: artifacts: expected a mapping of name to artifact")
        return ()
    found = [_artifact(str(name), body, where, strict) for name, body in section.items()]
    return tuple(a for a in found if a is not None)


def _artifact(name: str, body: Any, where: str, strict: bool) -> Artifact | None:
    if not isinstance(body, dict) or not isinstance(body.get("path"), str):
        if strict:
            raise ConfigError(f"{where}: artifacts.{name}: expected a mapping with a path")
        return None
    labels = body.get("labels") or []
    if not isinstance(labels, list):
        if strict:
            raise ConfigError(f"{where}: artifacts.{name}.labels: expected a list")
        labels = []
    meta = body.get("meta")
    onnx = meta.get("onnx") if isinstance(meta, dict) else None
    return Artifact(name, _path(body["path"]), str(body.get("type") or ""),
                    str(body.get("desc") or body.get("description") or ""),
                    tuple(str(x) for x in labels),
                    _path(onnx) if isinstance(onnx, str) else "", where)


def _stage(name: str, body: dict[str, Any], dvcdir: str, config: str,
           paths: _Paths) -> Stage:
    """dvc.stage.Stage.addressing and PipelineStage's paths: ``name`` in the DVC root's
    dvc.yaml, ``DIR/dvc.yaml:name`` elsewhere; paths joined with the stage's ``wdir``."""
    address = name if config == "dvc.yaml" else f"{config}:{name}"
    wdir = posixpath.normpath(posixpath.join(dvcdir, str(body.get("wdir") or ".")))
    kinds: tuple[tuple[OutputKind, str], ...] = (("out", "outs"), ("metric", "metrics"),
                                                 ("plot", "plots"))
    outs = [StageOutput(address, paths.join(wdir, p), props.get("cache", True) is not False,
                        kind)
            for kind, key in kinds for p, props in _entries(body.get(key))]
    deps = tuple(paths.join(wdir, p) for p, _ in _entries(body.get("deps")))
    group, _, item = name.partition("@")
    return Stage(address, config, paths.rel(wdir), deps, tuple(outs),
                 _merge_params(_stage_params(body, wdir, paths)), group, item)


def _unique_plot_ids(plots: list[tuple[str, PlotDefinition]]) -> tuple[PlotDefinition, ...]:
    """dvc.utils.plots.group_definitions_by_id: an id two config files use becomes
    ``CONFIG::ID`` (``dvc.yaml::plots/unet.json``); stage outputs keep theirs."""
    configs: dict[str, set[str]] = {}
    for config, plot in plots:
        configs.setdefault(plot.name, set()).add(config)
    final = []
    for config, plot in plots:
        if len(configs[plot.name]) > 1 and config:
            name = f"{config}::{plot.name}"
            title = name if plot.title == plot.name else plot.title
            plot = PlotDefinition(name, title, plot.x_label, plot.y_label, plot.sources,
                                  plot.template, plot.path_id)
        final.append(plot)
    return tuple(final)


@dataclass
class _Collected:
    stages: list[Stage] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    top_metrics: list[str] = field(default_factory=list)
    params: list[tuple[str, tuple[str, ...] | None]] = field(default_factory=list)
    top_params: list[tuple[str, tuple[str, ...] | None]] = field(default_factory=list)
    plots: list[tuple[str, PlotDefinition]] = field(default_factory=list)
    stage_plots: list[tuple[str, PlotDefinition]] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    vars_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _collect(resolved: dict[str, Any], dvcyaml: str, paths: _Paths, out: _Collected) -> None:
    """One resolved dvc.yaml into ``out`` (dvc.repo.metrics/params.show collect every
    stage's first, then the top-level sections)."""
    dvcdir = posixpath.dirname(dvcyaml)
    config = paths.rel(dvcyaml)
    for name, body in (resolved.get("stages") or {}).items():
        stage = _stage(str(name), body if isinstance(body, dict) else {}, dvcdir, config,
                       paths)
        out.stages.append(stage)
        out.metrics += [o.path for o in stage.outs if o.kind == "metric"]
        out.params += list(stage.params.items())
        for p, props in _entries(body.get("plots") if isinstance(body, dict) else None):
            plot_props = {k: v for k, v in props.items() if k in _PLOT_PROPS}
            wdir = posixpath.join(dvcdir, str(body.get("wdir") or "."))
            out.stage_plots.append(("", plot_definition(p, plot_props, wdir, paths)))
        for file, used in (resolved.get("tracked_vars") or {}).get(name, {}).items():
            out.vars_params.setdefault(paths.rel(file), {}).update(used)
    out.top_metrics += [paths.join(dvcdir, m) for m in resolved.get("metrics") or []]
    out.top_params += [(paths.join(dvcdir, p), None) for p in resolved.get("params") or []]
    for item in resolved.get("plots") or []:
        name, props = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        out.plots.append((config, plot_definition(str(name), props or {}, dvcdir, paths)))
    prefix = posixpath.normpath(dvcdir) if dvcdir else ""
    for artifact in read_artifacts(resolved.get("artifacts"), config):
        out.artifacts.append(Artifact(
            f"{prefix}:{artifact.name}" if prefix else artifact.name,
            paths.join(dvcdir, artifact.path), artifact.type, artifact.desc, artifact.labels,
            paths.join(dvcdir, artifact.onnx) if artifact.onnx else "", config))


def assemble(root: str, files: list[tuple[str, dict[str, Any]]],
             default_params: bool) -> Pipeline:
    """The Pipeline of resolved dvc.yaml ``files`` ((git-top relative path, resolution)
    pairs, shallowest first) below DVC root ``root``; ``default_params``: the root's
    ``params.yaml`` exists, which DVC always shows whole (dvc.repo.params.show)."""
    paths = _Paths(root)
    out = _Collected()
    for dvcyaml, resolved in files:
        if "error" in resolved:
            out.problems.append(f"DVC rejects {paths.rel(dvcyaml)}: {resolved['error']}")
            continue
        _collect(resolved, dvcyaml, paths, out)
    if default_params:
        out.top_params.append((DEFAULT_PARAMS, None))
    params = _merge_params(out.params + out.top_params)
    return Pipeline(
        root=root, dvcfiles=tuple(paths.rel(f) for f, _ in files),
        stages=tuple(out.stages), metrics=tuple(dict.fromkeys(out.metrics + out.top_metrics)),
        params=params,
        vars_params={f: v for f, v in out.vars_params.items() if f not in params},
        plots=_unique_plot_ids(out.stage_plots + out.plots),
        artifacts=tuple(out.artifacts), problems=tuple(out.problems))
