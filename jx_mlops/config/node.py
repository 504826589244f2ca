"""A value read from mlops.yaml with the dotted key it came from, so every error names
the file, the key, what was expected and what was found."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any, cast

from jx_mlops.errors import ConfigError
from jx_mlops.yamlio import cut


class ConfigNode:
    """A value read from YAML plus where it came from, for precise error messages."""

    def __init__(self, value: Any, where: str, file: str) -> None:
        self.value = value
        self.where = where
        self.file = file

    def fail(self, expected: str) -> ConfigError:
        got = "nothing" if self.value is None else cut(self.value)
        where = self.where or "(top level)"
        return ConfigError(f"{self.file}: {where}: expected {expected}, got {got}")

    def child(self, key: str) -> ConfigNode:
        where = f"{self.where}.{key}" if self.where else key
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return ConfigNode(value, where, self.file)

    def mapping(self, allowed: tuple[str, ...] | None = None,
                required: tuple[str, ...] = ()) -> None:
        if not isinstance(self.value, dict):
            raise self.fail("a mapping")
        for key in self.value:
            if not isinstance(key, str):
                raise self.fail("string keys")
            if allowed is not None and key not in allowed:
                where = f"{self.where}.{key}" if self.where else key
                raise ConfigError(
                    f"{self.file}: {where}: unknown key (expected one of: {', '.join(allowed)})"
                )
        for key in required:
            if key not in self.value:
                raise self.child(key).fail("a value (this key is required)")

    def items(self) -> Iterator[tuple[str, ConfigNode]]:
        assert isinstance(self.value, dict)
        for key in self.value:
            yield key, self.child(key)

    def string(self, pattern: re.Pattern[str] | None = None, what: str = "a string") -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail(what)
        if pattern is not None and not pattern.match(self.value):
            raise self.fail(what)
        return self.value

    def optional(self, read: Callable[[ConfigNode], Any], default: Any = None) -> Any:
        return default if self.value is None else read(self)

    def number(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise self.fail("a number")
        if not math.isfinite(self.value):
            raise self.fail("a finite number")
        return float(self.value)

    def non_negative(self) -> float:
        number = self.number()
        if number < 0:
            raise self.fail("a number >= 0")
        return number

    def choice(self, *options: str) -> str:
        if self.value not in options:
            raise self.fail(" or ".join(repr(o) for o in options))
        return cast(str, self.value)

    def paths(self) -> tuple[str, ...]:
        value = [self.value] if isinstance(self.value, str) else self.value
        if not isinstance(value, list) or not value:
            raise self.fail("a path or a non-empty list of paths")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise ConfigNode(item, f"{self.where}[{index}]", self.file).fail("a path")
        return tuple(value)
