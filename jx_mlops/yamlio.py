"""The one safe way to parse YAML and JSON the tool did not write itself.

Every file read from a repository, an artifact or an event goes through here: mlops.yaml,
params.yaml, dvc.yaml, dvc.lock, metrics files, quickstart.yaml, environment records,
event payloads, fork artifacts, local-forge records. A hostile document is refused in
milliseconds, before anything is built from it:

- nesting is bounded (``MAX_DEPTH``), so no consumer recurses itself to death;
- YAML aliases are bounded: the document's size *with aliases expanded* may exceed its
  written size by at most ``MAX_ALIAS_EXPANSION`` nodes, so a "billion laughs" document is
  refused while it is still a graph of a few dozen nodes;
- integers are bounded (``MAX_INT_DIGITS``), so nothing spends seconds on a 5,000-digit int;
- a mapping with the same key twice is refused (YAML says keys are unique; PyYAML and
  ``json`` would keep the last one silently).

:func:`safe_load` and :func:`json_loads` raise the parsers' own error types
(``yaml.YAMLError``, ``json.JSONDecodeError``) so the modules that already name the file
in their message keep doing so; :func:`load_yaml` and :func:`load_json` take the source's
name and raise :class:`~jx_mlops.errors.InputError` themselves.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Iterable
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from jx_mlops.errors import InputError

MAX_DEPTH = 100
MAX_ALIAS_EXPANSION = 100_000
MAX_INT_DIGITS = 100

_Parser: Any = getattr(yaml.cyaml, "CParser", None) if hasattr(yaml, "cyaml") else None
_MERGE_TAG = "tag:yaml.org,2002:merge"


class InputLimitError(yaml.MarkedYAMLError):
    """A YAML document beyond a limit or with a duplicate key; ``str()`` is one line."""

    def __init__(self, problem: str, problem_mark: Any = None) -> None:
        super().__init__(problem=problem, problem_mark=problem_mark)

    def __str__(self) -> str:
        mark = self.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"{self.problem}{at}"


class _BoundedConstructor(yaml.constructor.SafeConstructor):
    """SafeConstructor that refuses duplicate keys and oversized integers."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            _refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_INT_DIGITS:
            raise InputLimitError(problem=f"integer longer than {MAX_INT_DIGITS} digits",
                                  problem_mark=node.start_mark)
        return super().construct_yaml_int(node)


_BoundedConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", _BoundedConstructor.construct_yaml_int)


def _refuse_duplicate_keys(constructor: Any, node: MappingNode) -> None:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = constructor.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue
        if key in seen:
            raise InputLimitError(problem=f"duplicate key {shorten(str(key))!r}",
                                  problem_mark=key_node.start_mark)
        seen.add(key)


def _loader_class() -> Any:
    parser = _Parser
    if parser is None:  # PyYAML without libyaml: the pure-Python reader/scanner/parser
        bases: tuple[Any, ...] = (yaml.reader.Reader, yaml.scanner.Scanner,
                                  yaml.parser.Parser, yaml.composer.Composer)

        class _PureLoader(*bases, _BoundedConstructor, yaml.resolver.Resolver):  # type: ignore[misc]
            def __init__(self, stream: Any) -> None:
                yaml.reader.Reader.__init__(self, stream)
                yaml.scanner.Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)
                yaml.composer.Composer.__init__(self)
                _BoundedConstructor.__init__(self)
                yaml.resolver.Resolver.__init__(self)

        return _PureLoader

    class _CLoader(parser, _BoundedConstructor, yaml.resolver.Resolver):  # type: ignore[misc,valid-type]
        def __init__(self, stream: Any) -> None:
            parser.__init__(self, stream)
            _BoundedConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return _CLoader


_Loader: Any = _loader_class()


class _Counter:
    """Running sizes while reading events: written nodes, and nodes with aliases expanded."""

    def __init__(self) -> None:
        self.anchored: dict[str, int] = {}
        self.open: list[list[Any]] = [[0, None]]  # [expanded size so far, anchor]
        self.written = 0

    def add(self, size: int, anchor: Any, mark: Any) -> None:
        if anchor is not None:
            self.anchored[anchor] = size
        self.open[-1][0] += size
        # The innermost collection refuses early; the outermost (the whole stream, complete
        # once the root closes) catches an expansion spread over many collections.
        limit = self.written + MAX_ALIAS_EXPANSION
        if self.open[-1][0] > limit or self.open[0][0] > limit:
            raise InputLimitError(
                problem=f"aliases expand the document beyond {MAX_ALIAS_EXPANSION:,} nodes",
                problem_mark=mark)


def check_events(text: str | bytes) -> None:
    """Refuse a document nested too deep or that aliases expand past the limit.

    Reads the parser's event stream (no objects built), so a "billion laughs" document is
    refused after a few dozen events, and a deep one at ``MAX_DEPTH``.
    """
    count = _Counter()
    events: Iterable[Any] = yaml.parse(text, Loader=_Loader)
    for event in events:
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            count.add(count.anchored.get(str(anchor), 1), None, event.start_mark)
        elif isinstance(event, yaml.ScalarEvent):
            count.written += 1
            count.add(1, anchor, event.start_mark)
        elif isinstance(event, yaml.CollectionStartEvent):
            count.written += 1
            count.open.append([1, anchor])
            if len(count.open) > MAX_DEPTH + 1:
                raise InputLimitError(problem=f"nested deeper than {MAX_DEPTH} levels",
                                      problem_mark=event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = count.open.pop()
            count.add(size, anchor, event.start_mark)


def safe_load(text: str | bytes) -> Any:
    """Parse one YAML document within the limits; raises ``yaml.YAMLError`` otherwise.

    Like ``yaml.safe_load`` (C parser when available), plus the checks of this module.
    """
    check_events(text)
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_yaml(text: str | bytes, *, source: str) -> Any:
    """:func:`safe_load`, with errors as one line naming ``source``."""
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {yaml_problem(exc)}") from None


# YAML 1.2's core schema, as DVC's parser (ruamel.yaml, ``typ="safe"``) resolves plain
# scalars: only true/false are booleans, 1e-3 is a float, 0755 is 755, no sexagesimals.
_YAML12_SCALARS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:float", r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    ("tag:yaml.org,2002:int", r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp", r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789"),
)


class _Resolver12(yaml.resolver.BaseResolver):
    """Plain scalars resolved by YAML 1.2's core schema (ruamel's ``VersionedResolver``)."""


for _tag, _pattern, _first in _YAML12_SCALARS:
    _Resolver12.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))


class _Constructor12(_BoundedConstructor):
    """Integers and floats as YAML 1.2 writes them (``0o`` octal, no sexagesimals)."""

    def construct_yaml_int(self, node: Any) -> Any:
        text = str(self.construct_scalar(node)).replace("_", "")
        if len(text) > MAX_INT_DIGITS:
            raise InputLimitError(problem=f"integer longer than {MAX_INT_DIGITS} digits",
                                  problem_mark=node.start_mark)
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
            if digits.startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits)

    def construct_yaml_float(self, node: Any) -> Any:
        text = str(self.construct_scalar(node)).replace("_", "").lower()
        sign = -1.0 if text.startswith("-") else 1.0
        digits = text.lstrip("+-")
        if digits == ".inf":
            return sign * math.inf
        return math.nan if digits == ".nan" else sign * float(digits)


_Constructor12.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:int", _Constructor12.construct_yaml_int)
_Constructor12.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:float", _Constructor12.construct_yaml_float)


def _loader12_class() -> Any:
    parser = _Parser
    if parser is None:
        bases: tuple[Any, ...] = (yaml.reader.Reader, yaml.scanner.Scanner,
                                  yaml.parser.Parser, yaml.composer.Composer)

        class _PureLoader12(*bases, _Constructor12, _Resolver12):  # type: ignore[misc]
            def __init__(self, stream: Any) -> None:
                yaml.reader.Reader.__init__(self, stream)
                yaml.scanner.Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)
                yaml.composer.Composer.__init__(self)
                _Constructor12.__init__(self)
                _Resolver12.__init__(self)

        return _PureLoader12

    class _CLoader12(parser, _Constructor12, _Resolver12):  # type: ignore[misc,valid-type]
        def __init__(self, stream: Any) -> None:
            parser.__init__(self, stream)
            _Constructor12.__init__(self)
            _Resolver12.__init__(self)

    return _CLoader12


_Loader12: Any = _loader12_class()


def load_as_dvc(text: str | bytes) -> Any:
    """One YAML document read as DVC reads it: YAML 1.2's core schema (DVC parses with
    ruamel.yaml), within this module's limits; libyaml's parser, so it stays fast.

    YAML 1.1 (PyYAML's default) and 1.2 disagree on plain scalars users write in params
    files: ``1e-3`` is a float only in 1.2, ``yes``/``off`` booleans only in 1.1, ``0755``
    octal only in 1.1. DVC's numbers are the 1.2 ones. Raises ValueError with one line.
    """
    try:
        check_events(text)
        loader = _Loader12(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ValueError(yaml_problem(exc)) from None


class JsonLimitError(json.JSONDecodeError):
    """A JSON document beyond a limit or with a duplicate key; ``str()`` is the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonLimitError(f"duplicate key {shorten(key)!r}")
        result[key] = value
    return result


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonLimitError(f"integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


def _json_constant(name: str) -> float:
    return float(name)  # NaN, Infinity, -Infinity: what json.loads accepts by default


def _too_deep(data: Any) -> bool:
    """Whether parsed JSON nests deeper than ``MAX_DEPTH`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return False


def json_loads(text: str | bytes) -> Any:
    """``json.loads`` within the limits; raises ``json.JSONDecodeError`` otherwise."""
    try:
        data = json.loads(text, object_pairs_hook=_json_pairs, parse_int=_json_int,
                          parse_constant=_json_constant)
    except RecursionError:
        raise JsonLimitError(f"nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise JsonLimitError(f"not UTF-8 ({exc.reason})") from None
    if _too_deep(data):
        raise JsonLimitError(f"nested deeper than {MAX_DEPTH} levels")
    return data


def load_json(text: str | bytes, *, source: str) -> Any:
    """:func:`json_loads`, with errors as one line naming ``source``."""
    try:
        return json_loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON: {one_line(exc)}") from None
    except ValueError as exc:  # int() of an over-long literal despite the hook
        raise InputError(f"{source}: not valid JSON: {one_line(exc)}") from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """One line for a YAML error: its problem and where, without the context lines."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return shorten(f"{exc.problem}{at}", 200)
    return one_line(exc)


def one_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, cut to a readable length."""
    lines = str(exc).strip().splitlines()
    return shorten(lines[0] if lines else type(exc).__name__, 200)


def shorten(text: str, limit: int = 80) -> str:
    """``text`` whole, or cut to ``limit`` characters ending in "…" (a cut always says so)."""
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


def cut(value: object, limit: int = 80) -> str:
    """``repr``-like text of an untrusted ``value`` for an error message, at most ``limit``."""
    text = value if isinstance(value, str) else repr(value)
    return repr(shorten(text, limit)) if isinstance(value, str) else shorten(text, limit)
