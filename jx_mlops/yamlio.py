"""YAML loading through libyaml's C parser when PyYAML has it (several times faster)."""

from __future__ import annotations

from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str | bytes) -> Any:
    """``yaml.safe_load`` with the C loader when available; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Loader)
