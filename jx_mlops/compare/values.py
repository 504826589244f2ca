"""Structured metric/param files as flat ``dotted.key -> value`` maps (pure, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

ValueKind = Literal["number", "nan", "inf", "bool", "string", "list", "null", "mapping"]


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings become ``a.b.c`` keys; lists and scalars are kept as values."""
    if not isinstance(data, Mapping):
        return {prefix: data} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


_PLAIN_KINDS: dict[type, ValueKind] = {int: "number", bool: "bool", str: "string",
                                       list: "list", type(None): "null", dict: "mapping"}


def kind_of(value: Any) -> ValueKind:
    """What sort of value a metric holds, so nothing is compared or shown by accident."""
    kind = type(value)
    if kind is float:  # the common case first: metrics are mostly floats
        if value != value:
            return "nan"
        return "inf" if value in (math.inf, -math.inf) else "number"
    return _PLAIN_KINDS.get(kind) or _kind_of_subclass(value)


def _kind_of_subclass(value: Any) -> ValueKind:
    """Kinds of values whose type is a subclass (numpy scalars, OrderedDict, tuples...)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float):
        return kind_of(float(value))
    if isinstance(value, int):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return "null" if value is None else "mapping"
