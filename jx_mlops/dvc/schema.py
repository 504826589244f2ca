"""A strict subset of DVC's dvc.yaml schema, checked without importing DVC (pure).

``dvc.schema.MULTI_STAGE_SCHEMA`` says what DVC accepts. A dvc.yaml without templating
that fits the subset below is accepted by DVC as it is, and is its own resolution (DVC's
``DataResolver`` returns such a file unchanged, ``vars`` aside), so the resolver may skip
DVC for it (:mod:`jx_mlops.dvc.resolve`'s fast path). Whatever falls outside, valid for
DVC or not, goes to DVC, which gives its own answer or its own error: this subset only
ever says "certainly fine".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_STR_LIST = "list of str"
_STAGE_KEYS = frozenset({"cmd", "wdir", "deps", "params", "frozen", "meta", "desc",
                         "always_changed", "outs", "metrics", "plots"})
_TOP_KEYS = frozenset({"stages", "plots", "params", "metrics", "artifacts"})
# dvc.schema.OUT_PSTAGE_DETAILED_SCHEMA (with dvc.annotations.ANNOTATION_SCHEMA)
_OUT_FLAGS: dict[str, Any] = {"cache": bool, "persist": bool, "checkpoint": bool,
                              "remote": str, "push": bool, "desc": str, "type": str,
                              "labels": _STR_LIST, "meta": object}
# dvc.schema.PLOT_PROPS: what a stage's plot output may say about its plot
_PLOT_PROPS: dict[str, Any] = {"template": str, "x": str, "y": str, "x_label": str,
                               "y_label": str, "title": str, "header": bool}
_ARTIFACT: dict[str, Any] = {"path": str, "type": str, "desc": str, "labels": _STR_LIST,
                             "meta": object}


def _fits(value: Any, kind: Any) -> bool:
    if kind is object:
        return True
    if kind == _STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind is bool:
        return isinstance(value, bool)
    return isinstance(value, kind) and not isinstance(value, bool)


def _flags_fit(flags: Any, allowed: dict[str, Any]) -> bool:
    return isinstance(flags, dict) and all(
        isinstance(k, str) and k in allowed and _fits(v, allowed[k]) for k, v in flags.items())


def _entries_fit(items: Any, allowed: dict[str, Any]) -> bool:
    """``[path, {path: {flag: value}}]``: a list of paths, each optionally with flags."""
    if not isinstance(items, list):
        return False
    for item in items:
        if isinstance(item, str):
            continue
        if not (isinstance(item, dict) and len(item) == 1):
            return False
        (path, flags), = item.items()
        if not isinstance(path, str) or not _flags_fit(flags, allowed):
            return False
    return True


def _params_fit(items: Any) -> bool:
    """``[key, {file: [keys]}, {file: }]``."""
    if not isinstance(items, list):
        return False
    for item in items:
        if isinstance(item, str):
            continue
        if not isinstance(item, dict) or not all(
                isinstance(f, str) and (keys is None or _fits(keys, _STR_LIST))
                for f, keys in item.items()):
            return False
    return True


_STAGE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "cmd": lambda v: isinstance(v, str) or _fits(v, _STR_LIST),
    "wdir": lambda v: isinstance(v, str),
    "deps": lambda v: _fits(v, _STR_LIST),
    "params": _params_fit,
    "frozen": lambda v: isinstance(v, bool),
    "always_changed": lambda v: isinstance(v, bool),
    "desc": lambda v: isinstance(v, str),
    "meta": lambda v: True,
    "outs": lambda v: _entries_fit(v, _OUT_FLAGS),
    "metrics": lambda v: _entries_fit(v, _OUT_FLAGS),
    "plots": lambda v: _entries_fit(v, {**_OUT_FLAGS, **_PLOT_PROPS}),
}


def _stage_fits(body: Any) -> bool:
    return isinstance(body, dict) and "cmd" in body and all(
        isinstance(k, str) and k in _STAGE_KEYS and _STAGE_CHECKS[k](v)
        for k, v in body.items())


def _axis_fits(key: str, value: Any) -> bool:
    if key == "x":
        return isinstance(value, str) or (isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()))
    if isinstance(value, str) or _fits(value, _STR_LIST):
        return True
    return isinstance(value, dict) and all(
        isinstance(k, str) and (isinstance(v, str) or _fits(v, _STR_LIST))
        for k, v in value.items())


def _plot_fits(item: Any) -> bool:
    """A top-level plot: a path, or ``{id: None | {x, y, x_label, y_label, title,
    template}}`` (dvc.schema.SINGLE_PLOT_SCHEMA)."""
    if isinstance(item, str):
        return True
    if not (isinstance(item, dict) and len(item) == 1):
        return False
    (name, props), = item.items()
    if not isinstance(name, str):
        return False
    if props is None:
        return True
    return isinstance(props, dict) and all(
        isinstance(k, str) and (_axis_fits(k, v) if k in ("x", "y") else
                                k in ("x_label", "y_label", "title", "template")
                                and isinstance(v, str))
        for k, v in props.items())


def _top_fits(data: dict[str, Any]) -> bool:
    stages = data.get("stages", {})
    artifacts = data.get("artifacts", {})
    return (set(data) <= _TOP_KEYS
            and isinstance(stages, dict)
            and all(isinstance(n, str) and _stage_fits(b) for n, b in stages.items())
            and _fits(data.get("metrics", []), _STR_LIST)
            and _fits(data.get("params", []), _STR_LIST)
            and isinstance(data.get("plots", []), list)
            and all(_plot_fits(p) for p in data.get("plots", []))
            and isinstance(artifacts, dict)
            and all(isinstance(n, str) and _flags_fit(a, _ARTIFACT)
                    and isinstance(a.get("path"), str) for n, a in artifacts.items()))


def _vars_fit(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, (str, dict)) for v in value)


def _template_fits(body: Any) -> bool:
    """A stage as written before resolution: ``foreach``/``do``, ``matrix``, ``vars``
    (dvc.schema.SINGLE_PIPELINE_STAGE_SCHEMA's parts the resolved stages no longer show)."""
    if not isinstance(body, dict):
        return False
    if "foreach" in body or "do" in body:
        return set(body) == {"foreach", "do"} and isinstance(
            body["foreach"], (dict, list, str)) and _template_fits(body["do"])
    matrix = body.get("matrix", {})
    return (isinstance(matrix, dict) and all(isinstance(k, str) and isinstance(v, (str, list))
                                             for k, v in matrix.items())
            and _vars_fit(body.get("vars", [])))


def templated_fits(data: Any, resolved: dict[str, Any]) -> bool:
    """Whether DVC's schema certainly accepts a templated dvc.yaml: its unresolved parts
    (``vars``, ``foreach``, ``matrix``) have their shape, and what DataResolver made of
    the rest (``resolved``) fits the subset above. False: ask DVC's schema."""
    if not isinstance(data, dict) or not set(data) <= _TOP_KEYS | {"vars"}:
        return False
    stages = data.get("stages", {})
    if not (_vars_fit(data.get("vars", [])) and isinstance(stages, dict)
            and all(_template_fits(b) for b in stages.values())):
        return False
    return _top_fits({k: v for k, v in resolved.items() if k != "tracked_vars"})


def plain_dvcyaml(data: Any) -> dict[str, Any] | None:
    """``data`` (a parsed dvc.yaml without ``${``) as its own resolution, in the shape
    :mod:`jx_mlops.dvc.resolve` gives; None when it is outside the subset DVC certainly
    accepts unchanged (then DVC resolves it, or says why not)."""
    if not isinstance(data, dict) or not _top_fits(data):
        return None
    return {"stages": dict(data.get("stages") or {}), "metrics": list(data.get("metrics", [])),
            "params": list(data.get("params", [])), "plots": list(data.get("plots", [])),
            "artifacts": dict(data.get("artifacts") or {}), "tracked_vars": {}}
