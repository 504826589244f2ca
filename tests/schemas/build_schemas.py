"""Regenerate the schema files under tests/schemas/ from the shared reference schemas.

Run by hand when the reference changes (tests never read the shared directory):

    python tests/schemas/build_schemas.py /work/shared/schemas [OCTOKIT_API_JSON]

OCTOKIT_API_JSON is ``generated/api.github.com.json`` of the npm package
``@octokit/openapi@23.0.2`` (``npm pack @octokit/openapi@23.0.2``), the file the shared
reference was built from: the operations the reference lacks (``EXTRA_OPERATIONS``) are
taken from it and converted the way the reference describes (see ``openapi_to_schema``).

The reference schemas have every ``$ref`` resolved, so the same subschema (a repository,
a user, a pull request) is repeated hundreds of times. This script keeps only what the
tests use and stores each large repeated subschema once, under ``$defs``, referring to it
with ``$ref``. Only schema positions are rewritten (never a ``properties`` map itself), so
what validates is unchanged; ``check`` re-validates the reference examples to prove it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema

HERE = Path(__file__).resolve().parent
WEBHOOKS = ("webhook-pull-request-opened", "webhook-pull-request-synchronize",
            "webhook-pull-request-edited", "webhook-issue-comment-created", "webhook-push")
# Operations jx-mlops uses that the shared reference does not carry.
EXTRA_OPERATIONS = ("PUT /repos/{owner}/{repo}/branches/{branch}/protection", "GET /user")
OCTOKIT_SHA256 = "829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a"
MIN_SIZE = 300  # bytes of JSON: smaller repeated subschemas stay inline
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
              "propertyNames", "unevaluatedProperties", "unevaluatedItems")


def _key(node: Any) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def _children(node: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(container, key) of every subschema directly inside schema ``node``."""
    slots: list[tuple[Any, Any]] = []
    for name in SCHEMA_MAPS:
        if isinstance(node.get(name), dict):
            slots += [(node[name], k) for k in node[name]]
    for name in SCHEMA_LISTS:
        if isinstance(node.get(name), list):
            slots += [(node[name], i) for i in range(len(node[name]))]
    for name in SCHEMA_ONE:
        if isinstance(node.get(name), dict):
            slots.append((node, name))
    return slots


def _count(node: Any, counts: Counter[str]) -> None:
    if not isinstance(node, dict):
        return
    counts[_key(node)] += 1
    for container, key in _children(node):
        _count(container[key], counts)


def _name(node: dict[str, Any], key: str, used: set[str]) -> str:
    base = str(node.get("title") or "schema").lower().replace(" ", "-")[:40]
    name = f"{base}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
    used.add(name)
    return name


def _factor(node: Any, shared: dict[str, str], defs: dict[str, Any], used: set[str]) -> Any:
    if not isinstance(node, dict):
        return node
    key = _key(node)
    if key in shared:
        name = shared[key]
        if name not in defs:
            defs[name] = None  # placeholder: reserves the name while the body is factored
            defs[name] = _factor_children(json.loads(key), shared, defs, used)
        return {"$ref": f"#/$defs/{name}"}
    return _factor_children(node, shared, defs, used)


def _factor_children(node: dict[str, Any], shared: dict[str, str], defs: dict[str, Any],
                     used: set[str]) -> dict[str, Any]:
    node = json.loads(json.dumps(node))
    for container, key in _children(node):
        container[key] = _factor(container[key], shared, defs, used)
    return node


def compact(documents: dict[str, Any]) -> dict[str, Any]:
    """``documents`` (name -> schema) with repeated large subschemas moved to ``$defs``."""
    counts: Counter[str] = Counter()
    for schema in documents.values():
        _count(schema, counts)
    used: set[str] = set()
    shared = {k: _name(json.loads(k), k, used) for k, n in counts.items()
              if n > 1 and len(k) >= MIN_SIZE}
    defs: dict[str, Any] = {}
    out = {name: _factor(schema, shared, defs, used) for name, schema in documents.items()}
    return {"$defs": defs, "documents": out}


def github(shared_dir: Path, octokit_file: Path | None = None) -> dict[str, Any]:
    spec = json.loads((shared_dir / "github-rest-subset.json").read_text())
    docs: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    source = spec["source"]
    for op, info in spec["operations"].items():
        meta[op] = {"status": info["response_status"],
                    "other_statuses": info.get("other_success_statuses") or [],
                    "operation_id": info["operationId"]}
        for part in ("request", "response"):
            if info[f"{part}_schema"] is not None:
                docs[f"{part} {op}"] = info[f"{part}_schema"]
    for hook in WEBHOOKS:
        docs[f"webhook {hook}"] = spec["webhooks"][hook]["schema"]
    if octokit_file is not None:
        extra_meta, extra_docs, note = github_extra(octokit_file, spec)
        meta.update(extra_meta)
        docs.update(extra_docs)
        source = {**source, "extra_operations": note}
    packed = compact(docs)
    return {"source": source, "operations": meta, **packed}


def _resolve_refs(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_resolve_refs(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        assert ref not in seen, f"recursive schema at {ref}"
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        return _resolve_refs(target, root, (*seen, ref))
    return {k: _resolve_refs(v, root, seen) for k, v in node.items()}


DRAFT = "https://json-schema.org/draft/2020-12/schema"
# The shared reference undid these Octokit overrides (see its README); elsewhere it is
# exactly openapi_to_schema of the Octokit file, which ``same_conversion`` proves.
OCTOKIT_OVERRIDES = {"request POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
                     "request POST /repos/{owner}/{repo}/check-runs"}


def _operation_schemas(spec: dict[str, Any], key: str, status: int) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    op = spec["paths"][path][method.lower()]
    found = {"request": (op.get("requestBody") or {}).get("content", {}).get(
        "application/json"),
        "response": op["responses"][str(status)].get("content", {}).get("application/json")}
    return {part: {"$schema": DRAFT, **openapi_to_schema(_resolve_refs(c["schema"], spec))}
            for part, c in found.items() if c}


def same_conversion(reference: dict[str, Any], spec: dict[str, Any]) -> None:
    """Every document of the shared reference is what openapi_to_schema makes of it."""
    for key, info in reference["operations"].items():
        mine = _operation_schemas(spec, key, info["response_status"])
        for part in ("request", "response"):
            if f"{part} {key}" not in OCTOKIT_OVERRIDES:
                assert mine.get(part) == info[f"{part}_schema"], f"{part} {key} differs"


def openapi_to_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12, as the shared reference converted it:
    ``nullable`` becomes a null type (and a null enum value; a typeless composite gets a
    null alternative), ``example``/``examples`` and Octokit's ``x-octokit`` are dropped."""
    if isinstance(node, list):
        return [openapi_to_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_schema(v) for k, v in node.items()
           if k not in ("nullable", "example", "examples", "x-octokit")}
    if node.get("nullable") is True:
        if "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def github_extra(octokit_file: Path, reference: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(operations meta, documents, source note) of ``EXTRA_OPERATIONS``."""
    raw = octokit_file.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OCTOKIT_SHA256, "not @octokit/openapi@23.0.2"
    spec = json.loads(raw)
    same_conversion(reference, spec)
    meta: dict[str, Any] = {}
    docs: dict[str, Any] = {}
    for key in EXTRA_OPERATIONS:
        method, path = key.split(" ", 1)
        op = spec["paths"][path][method.lower()]
        status = min(int(code) for code in op["responses"] if code.startswith("2"))
        meta[key] = {"status": status, "other_statuses": [], "operation_id": op["operationId"]}
        for part, schema in _operation_schemas(spec, key, status).items():
            docs[f"{part} {key}"] = schema
    note = {"operations": list(EXTRA_OPERATIONS),
            "from": {"npm": "@octokit/openapi@23.0.2", "file": "generated/api.github.com.json",
                     "sha256": OCTOKIT_SHA256},
            "conversion": "refs resolved; OpenAPI 3.0 -> JSON Schema 2020-12 as the shared "
                          "reference (nullable -> null type, example(s) and x-octokit "
                          "dropped), checked to reproduce the reference's 26 operations; "
                          "not compared with the upstream file (not reachable here)"}
    return meta, docs, note


def tekton(shared_dir: Path) -> dict[str, Any]:
    docs = {name: json.loads((shared_dir / "tekton.dev" / f"{name}.json").read_text())
            for name in ("pipelinerun_v1", "task_v1")}
    return {"source": {n: d.get("x-source") for n, d in docs.items()}, **compact(docs)}


def check(packed: dict[str, Any], name: str, instance: Any, valid: bool) -> None:
    schema = {"$defs": packed["$defs"], **packed["documents"][name]}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    assert bool(errors) != valid, f"{name}: expected {'valid' if valid else 'invalid'}"


def main(shared_dir: Path, octokit_file: Path | None = None) -> None:
    gh, tk = github(shared_dir, octokit_file), tekton(shared_dir)
    examples = json.loads((shared_dir / "examples" / "github-rest-subset.examples.json")
                          .read_text())
    for op, bodies in examples.get("operations", {}).items():
        for label, body in bodies.items():
            part = "request" if label.startswith("request") else "response"
            if f"{part} {op}" in gh["documents"] and body is not None:
                check(gh, f"{part} {op}", body, label.endswith("_valid"))
    for hook in WEBHOOKS:
        for label in ("valid", "invalid"):
            check(gh, f"webhook {hook}", examples["webhooks"][hook][label], label == "valid")
    for name in ("pipelinerun_v1", "task_v1"):
        for label in ("valid", "invalid"):
            path = shared_dir / "examples" / "tekton.dev" / f"{name}.{label}.json"
            check(tk, name, json.loads(path.read_text()), label == "valid")
    (HERE / "github").mkdir(exist_ok=True)
    (HERE / "tekton").mkdir(exist_ok=True)
    (HERE / "github" / "rest-subset.json").write_text(json.dumps(gh, separators=(",", ":")))
    (HERE / "tekton" / "tekton-v1.json").write_text(json.dumps(tk, separators=(",", ":")))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
