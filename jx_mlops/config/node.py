"""A value read from YAML or JSON with the dotted key it came from, so every error names
the file, the key, what was expected and what was found.

Every block of mlops.yaml is read through it, and so is the ``trusted`` block of a fork's
report artifact (untrusted data, read the same way).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any, cast

from jx_mlops.errors import ConfigError
from jx_mlops.yamlio import cut

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ConfigNode:
    """A value read from YAML plus where it came from, for precise error messages."""

    def __init__(self, value: Any, where: str, file: str) -> None:
        self.value = value
        self.where = where
        self.file = file

    def error(self, message: str) -> ConfigError:
        """``FILE: WHERE: message``, for what "expected X, got Y" does not say."""
        return ConfigError(f"{self.file}: {self.where or '(top level)'}: {message}")

    def fail(self, expected: str) -> ConfigError:
        got = "nothing" if self.value is None else cut(self.value)
        return self.error(f"expected {expected}, got {got}")

    def fail_key(self, key: str, allowed: tuple[str, ...]) -> ConfigError:
        """``key`` of this mapping is not one of ``allowed``."""
        return self.child(key).error(f"unknown key (expected one of: {', '.join(allowed)})")

    def child(self, key: str) -> ConfigNode:
        where = f"{self.where}.{key}" if self.where else key
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return ConfigNode(value, where, self.file)

    def mapping(self, allowed: tuple[str, ...] | None = None,
                required: tuple[str, ...] = (), what: str = "a mapping") -> None:
        """Check this is a mapping (else ``what`` was expected) of string keys, only
        ``allowed`` ones (None: any) and every ``required`` one."""
        if not isinstance(self.value, dict):
            raise self.fail(what)
        for key in self.value:
            if not isinstance(key, str):
                raise self.fail("string keys")
            if allowed is not None and key not in allowed:
                raise self.fail_key(key, allowed)
        for key in required:
            if key not in self.value:
                raise self.child(key).fail("a value (this key is required)")

    def items(self) -> Iterator[tuple[str, ConfigNode]]:
        assert isinstance(self.value, dict)
        for key in self.value:
            yield key, self.child(key)

    def sequence(self, what: str, *, non_empty: bool = False,
                 limit: int | None = None) -> list[ConfigNode]:
        """The items of this list as nodes named ``WHERE[i]``; else ``what`` was expected."""
        if not isinstance(self.value, list) or (non_empty and not self.value) or (
                limit is not None and len(self.value) > limit):
            raise self.fail(what)
        return [ConfigNode(item, f"{self.where}[{index}]", self.file)
                for index, item in enumerate(self.value)]

    def _is_text(self, pattern: re.Pattern[str] | None, limit: int | None) -> bool:
        value = self.value
        return isinstance(value, str) and bool(value.strip()) \
            and (pattern is None or bool(pattern.match(value))) \
            and (limit is None or len(value) <= limit)

    def string(self, pattern: re.Pattern[str] | None = None, what: str = "a string",
               limit: int | None = None) -> str:
        """A non-blank string matching ``pattern``, at most ``limit`` characters."""
        if not self._is_text(pattern, limit):
            raise self.fail(what)
        return cast(str, self.value)

    def strings(self, pattern: re.Pattern[str] | None = None, what: str = "a list of strings",
                item: str | None = None, *, non_empty: bool = False,
                limit: int | None = None) -> tuple[str, ...]:
        """A list of strings, each as ``string`` reads it. A bad item fails as ``item``
        (naming its index) when given, else the whole list fails as ``what``."""
        nodes = self.sequence(what, non_empty=non_empty)
        for node in nodes:
            if not node._is_text(pattern, limit):
                raise node.fail(item) if item else self.fail(what)
        return tuple(cast(str, node.value) for node in nodes)

    def optional(self, read: Callable[[ConfigNode], Any], default: Any = None) -> Any:
        return default if self.value is None else read(self)

    def number(self, what: str = "a number") -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise self.fail(what)
        if not math.isfinite(self.value):
            raise self.fail("a finite number")
        return float(self.value)

    def optional_number(self, what: str = "a number") -> float | None:
        """``number``, or None when the key is absent."""
        return None if self.value is None else self.number(what)

    def non_negative(self) -> float:
        number = self.number()
        if number < 0:
            raise self.fail("a number >= 0")
        return number

    def integer(self, minimum: int = 0, what: str = "a whole number >= 0") -> int:
        """A whole number (not a bool, not 1.0) of at least ``minimum``."""
        if isinstance(self.value, bool) or not isinstance(self.value, int) \
                or self.value < minimum:
            raise self.fail(what)
        return self.value

    def duration(self) -> int:
        """Seconds from ``90`` (seconds), ``30m``, ``24h``, ``2d`` or ``1h30m``."""
        if isinstance(self.value, int) and not isinstance(self.value, bool) \
                and self.value >= 0:
            return self.value
        match = _DURATION.match(self.value) if isinstance(self.value, str) and self.value \
            else None
        if not match:
            raise self.fail("a duration such as 30m, 24h or 2d (or seconds)")
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return ((days * 24 + hours) * 60 + minutes) * 60 + seconds

    def choice(self, *options: str, what: str | None = None) -> str:
        """One of ``options``; ``what`` words the expectation (default: 'a' or 'b')."""
        if self.value not in options:
            raise self.fail(what or " or ".join(repr(o) for o in options))
        return cast(str, self.value)

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail("true or false")
        return self.value

    def paths(self) -> tuple[str, ...]:
        if isinstance(self.value, str):
            return ConfigNode([self.value], self.where, self.file).paths()
        return self.strings(what="a path or a non-empty list of paths", item="a path",
                            non_empty=True)
