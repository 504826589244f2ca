"""Structured metric/param files as flat ``dotted.key -> value`` maps (pure, no I/O)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from typing import Any, Literal

import yaml

ValueKind = Literal["number", "nan", "inf", "bool", "string", "list", "null", "mapping"]


def load_structured(name: str, data: bytes) -> Any:
    """Parse metrics/params file contents by extension (JSON, YAML, TOML).

    Raises ValueError with a reason a user can act on.
    """
    text = data.decode("utf-8", errors="replace")
    lower = name.lower()
    try:
        if lower.endswith(".json"):
            return json.loads(text)
        if lower.endswith(".toml"):
            if sys.version_info >= (3, 11):
                import tomllib

                return tomllib.loads(text)
            raise ValueError("TOML files need Python 3.11 or newer")
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"not valid {'JSON' if lower.endswith('.json') else 'YAML'}: "
                         f"{str(exc).splitlines()[0]}") from None
    except Exception as exc:  # tomllib.TOMLDecodeError and friends
        raise ValueError(f"cannot parse: {exc}") from None


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


def kind_of(value: Any) -> ValueKind:
    """What sort of value a metric holds, so nothing is compared or shown by accident."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, float) and math.isinf(value):
            return "inf"
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return "mapping"
