"""What a project's dvc.yaml declares: metrics, params files, plots, outputs, artifacts.

The one reader of dvc.yaml. Pure parsing of the file's text (no DVC process), so it can be
read at any git revision.
Paths are made relative to the repository root through each stage's ``wdir``, as DVC does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from jx_mlops.dvc.lockfile import malformed_is_dvc_error
from jx_mlops.errors import ConfigError, DvcError
from jx_mlops.yamlio import safe_load

DEFAULT_PARAMS = "params.yaml"


@dataclass(frozen=True)
class PlotSource:
    """One y field of one data file, with the x field to draw it against (None: index)."""

    file: str
    y: str | None
    x: str | None


@dataclass(frozen=True)
class PlotDefinition:
    """A plot declared in dvc.yaml (top-level ``plots:`` or a stage's ``plots:`` output)."""

    name: str
    title: str
    x_label: str
    y_label: str
    sources: tuple[PlotSource, ...]
    template: str = "linear"


@dataclass(frozen=True)
class Artifact:
    """An entry of dvc.yaml's ``artifacts:`` (what GTO and DVC's model registry read)."""

    name: str
    path: str
    type: str = ""
    desc: str = ""
    labels: tuple[str, ...] = ()
    # ``meta.onnx``: the model's ONNX export, what a trusted job scores without unpickling.
    onnx: str = ""


@dataclass(frozen=True)
class StageOutput:
    """A path a stage writes (``outs``, ``metrics`` or ``plots``) and whether DVC caches it."""

    stage: str
    path: str
    cached: bool = True


@dataclass(frozen=True)
class DvcSpec:
    """The parts of dvc.yaml jx-mlops reads, in file order."""

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    # Which keys of each params file the pipeline tracks (None: all), as DVC shows them.
    param_keys: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    plots: tuple[PlotDefinition, ...] = ()
    outputs: tuple[StageOutput, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    stage_names: tuple[str, ...] = field(default=())

    def output(self, path: str) -> StageOutput | None:
        """The stage output that is ``path`` or a directory holding it."""
        wanted = os.path.normpath(path)
        for out in self.outputs:
            if wanted == out.path or wanted.startswith(out.path + "/"):
                return out
        return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _entries(items: Any) -> list[tuple[str, dict[str, Any]]]:
    """``[path, {path: props}]`` list items as (path, props) pairs."""
    entries: list[tuple[str, dict[str, Any]]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            entries.append((item, {}))
        elif isinstance(item, dict):
            entries += [(str(k), v if isinstance(v, dict) else {}) for k, v in item.items()]
    return entries


def _join(wdir: str, path: str) -> str:
    return os.path.normpath(os.path.join(wdir, path))


def _plot(name: str, props: dict[str, Any], wdir: str = ".") -> PlotDefinition:
    x = props.get("x")
    y = props.get("y")
    sources: list[PlotSource] = []
    if isinstance(y, dict):
        for file, fields in y.items():
            x_field = x.get(file) if isinstance(x, dict) else x
            sources += [PlotSource(_join(wdir, str(file)), str(f), x_field)
                        for f in _as_list(fields)]
    else:
        x_field = next(iter(x.values()), None) if isinstance(x, dict) else x
        sources += [PlotSource(_join(wdir, name), None if f is None else str(f), x_field)
                    for f in _as_list(y)]
    x_name = x if isinstance(x, str) else next(iter(x.values()), "step") if isinstance(
        x, dict) else "step"
    return PlotDefinition(name, str(props.get("title") or name),
                          str(props.get("x_label") or x_name),
                          str(props.get("y_label") or (sources[0].y if sources else "") or ""),
                          tuple(sources), str(props.get("template") or "linear"))


def load_spec(text: str, where: str = "dvc.yaml") -> dict[str, Any]:
    """dvc.yaml as a mapping (empty when it is not one); DvcError when it is not YAML."""
    try:
        data = safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise DvcError(f"{where}: invalid YAML{at}: "
                       f"{getattr(exc, 'problem', None) or exc}") from None
    return data if isinstance(data, dict) else {}


def stage_deps(text: str, stage: str, where: str = "dvc.yaml") -> tuple[str, ...]:
    """The dependencies ``stage`` of dvc.yaml declares (``wdir`` applied)."""
    stages = load_spec(text, where).get("stages")
    body = stages.get(stage) if isinstance(stages, dict) else None
    if not isinstance(body, dict):
        return ()
    wdir = str(body.get("wdir") or ".")
    return tuple(_join(wdir, str(dep)) for dep in _as_list(body.get("deps"))
                 if isinstance(dep, str))


def _stage_params(params: Any, wdir: str) -> list[tuple[str, frozenset[str] | None]]:
    """(file, keys) a stage reads: bare keys come from params.yaml, ``{FILE: [keys]}`` name
    a file, ``{FILE: }`` (no keys) tracks all of it (keys None)."""
    found: list[tuple[str, frozenset[str] | None]] = []
    for item in params if isinstance(params, list) else []:
        if isinstance(item, str):
            found.append((_join(wdir, DEFAULT_PARAMS), frozenset({item})))
        elif isinstance(item, dict):
            found += [(_join(wdir, str(file)), frozenset(map(str, keys))
                       if isinstance(keys, list) and keys else None)
                      for file, keys in item.items()]
    return found


def _merge_keys(pairs: list[tuple[str, frozenset[str] | None]]
                ) -> dict[str, frozenset[str] | None]:
    """Tracked keys per params file; None (the whole file) wins over any key list."""
    merged: dict[str, frozenset[str] | None] = {}
    for file, keys in pairs:
        if file in merged:
            before = merged[file]
            merged[file] = None if before is None or keys is None else before | keys
        else:
            merged[file] = keys
    return merged


def _path(value: str) -> str:
    """A path as DVC compares it; a remote URI (``s3://...``) stays as written."""
    return value if "://" in value else os.path.normpath(value)


def read_artifacts(section: Any, where: str = "dvc.yaml", *,
                   strict: bool = False) -> tuple[Artifact, ...]:
    """dvc.yaml's ``artifacts:`` section, in file order.

    Lenient (reading any revision for a report): entries that are not artifacts are left
    out. Strict (registering, listing the registry): a ConfigError naming ``where`` and the
    key, as GTO and DVC refuse such a file.
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
                    str(body.get("desc") or ""), tuple(str(x) for x in labels),
                    _path(onnx) if isinstance(onnx, str) else "")


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@malformed_is_dvc_error
def parse_spec(text: str, where: str = "dvc.yaml") -> DvcSpec:
    """Everything jx-mlops reads from dvc.yaml: stage-declared parts first, then top-level."""
    data = load_spec(text, where)
    metrics: list[str] = []
    params: list[tuple[str, frozenset[str] | None]] = []
    plots: list[PlotDefinition] = []
    outputs: list[StageOutput] = []
    stages = data.get("stages")
    stages = stages if isinstance(stages, dict) else {}
    for name, stage in stages.items():
        if not isinstance(stage, dict):
            continue
        wdir = str(stage.get("wdir") or ".")
        for key in ("outs", "metrics", "plots"):
            outputs += [StageOutput(str(name), _join(wdir, path), props.get("cache") is not False)
                        for path, props in _entries(stage.get(key))]
        metrics += [_join(wdir, path) for path, _ in _entries(stage.get("metrics"))]
        plots += [_plot(path, props, wdir) for path, props in _entries(stage.get("plots"))]
        params += _stage_params(stage.get("params"), wdir)
    metrics += [os.path.normpath(p) for p, _ in _entries(data.get("metrics"))]
    params += [(os.path.normpath(p), None) for p, _ in _entries(data.get("params"))]
    plots += [_plot(name, props) for name, props in _entries(data.get("plots"))]
    keys = _merge_keys(params)
    return DvcSpec(metrics=_unique(metrics), params=tuple(keys), param_keys=keys,
                   plots=tuple(plots),
                   outputs=tuple(outputs), artifacts=read_artifacts(data.get("artifacts"), where),
                   stage_names=tuple(str(n) for n in stages))
