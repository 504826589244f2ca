"""GitHub's published schemas for the REST subset: routing, validation, valid bodies.

``tests/schemas/github/rest-subset.json`` holds the request and response schema of each
operation jx-mlops may use (see tests/schemas/README.md). This module:

- matches a request (method, path) to its operation;
- validates request and response bodies (jsonschema, Draft 2020-12);
- builds a response body that carries every field the schema requires, from the few
  meaningful values a handler gives (``fill``): GitHub's schemas require ~75 keys on a
  repository and ~42 on a pull request, which the handlers should not spell out.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "github" / "rest-subset.json"
# Path parameters that are numbers, and the ones that may contain slashes.
_NUMERIC = {"pull_number", "issue_number", "comment_id", "check_run_id"}
_GREEDY = {"ref", "path"}


@functools.lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


@dataclass(frozen=True)
class Route:
    """One REST operation: ``key`` is 'METHOD /path/{template}'."""

    key: str
    method: str
    pattern: re.Pattern[str]
    status: int


def _pattern(template: str) -> re.Pattern[str]:
    def param(match: re.Match[str]) -> str:
        name = match.group(1)
        body = r"\d+" if name in _NUMERIC else ".+" if name in _GREEDY else r"[^/]+"
        return f"(?P<{name}>{body})"

    return re.compile("^" + re.sub(r"\{(\w+)\}", param, template) + "$")


@functools.lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    found = []
    for key, info in spec()["operations"].items():
        method, template = key.split(" ", 1)
        found.append(Route(key, method, _pattern(template), info["status"]))
    return tuple(found)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The operation ``method path`` calls, and its path parameters."""
    for route in routes():
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator | None:
    document = spec()["documents"].get(name)
    if document is None:
        return None
    # Imported when first needed: every pytest process loads this module (conftest's
    # kit.github plugin), and importing jsonschema costs ~1.7 s of CPU (its format checker
    # builds ~40 grammars), which xdist's controller and GitHub-free runs need not pay.
    import jsonschema

    return jsonschema.Draft202012Validator({"$defs": spec()["$defs"], **document})


def problems(name: str, instance: Any) -> list[str]:
    """Why ``instance`` does not match document ``name`` (empty when it does)."""
    validator = _validator(name)
    if validator is None:
        return []
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in validator.iter_errors(instance)][:5]


def has_schema(name: str) -> bool:
    return name in spec()["documents"]


# -- building bodies that carry every required field ------------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec()["$defs"][schema["$ref"].split("/")[-1]]
    return schema


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its allOf parts folded in (enough for filling, not for validating)."""
    schema = _resolve(schema)
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _merged(part)
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        merged["required"] = sorted(set(merged.get("required", [])) | set(part.get("required",
                                                                                   [])))
        for key in ("type", "enum", "const"):
            if key in part:
                merged.setdefault(key, part[key])
    return merged


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _placeholder(schema: dict[str, Any]) -> Any:
    """The simplest value ``schema`` accepts; null wherever GitHub allows null."""
    schema = _merged(schema)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return None if None in schema["enum"] else schema["enum"][0]
    types = _types(schema)
    if "null" in types:
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_merged(o) for o in schema[key]]
            if any("null" in _types(o) for o in options):
                return None
            return fill(options[0], {})
    kind = types[0] if types else ("object" if "properties" in schema else "string")
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(
        kind, fill(schema, {}) if kind == "object" else None)


def fill(schema: dict[str, Any], values: Any) -> Any:
    """``values`` completed with placeholders for every required field of ``schema``."""
    schema = _merged(schema)
    if not isinstance(values, dict):
        if isinstance(values, list):
            items = _merged(schema.get("items", {}))
            return [fill(items, v) for v in values]
        return values
    options = schema.get("anyOf") or schema.get("oneOf")
    if options and "properties" not in schema:
        objects = [_merged(o) for o in options if "object" in _types(_merged(o))
                   or "properties" in _merged(o)]
        if objects:
            schema = objects[0]
    properties = schema.get("properties", {})
    out: dict[str, Any] = {}
    for key in schema.get("required", []):
        if key not in values:
            out[key] = _placeholder(properties.get(key, {}))
    for key, value in values.items():
        out[key] = fill(properties[key], value) if key in properties else value
    return out


def response_schema(key: str) -> dict[str, Any]:
    return {"$defs": spec()["$defs"], **spec()["documents"][f"response {key}"]}


def document(name: str) -> dict[str, Any]:
    return spec()["documents"][name]
