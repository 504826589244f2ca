"""A fork's slice search, read back from its report artifact as untrusted data.

The fork's job searched the slices (its trusted stage ran there, docs/security.md) and
wrote the significant ones (``jsonout.slices_to_json`` without every test). Every field
is read through ``ConfigNode`` (file: the artifact, key: ``models[i].slices.*``) and
rebuilt into our own values, so ``ci publish`` renders the section itself.
"""

from __future__ import annotations

import math
from typing import Any, cast

from jx_mlops.compare.policy import Direction
from jx_mlops.compare.significance import Pairing
from jx_mlops.compare.slices.findings import SliceReport, SliceResult, SliceStatus
from jx_mlops.compare.slices.policy import FailOn, SlicePolicy
from jx_mlops.compare.slices.rowmetrics import ROW_METRICS
from jx_mlops.config.node import ConfigNode

_MAX_RESULTS = 1000
_TEXT = 300


def _text(node: ConfigNode, limit: int = _TEXT) -> str:
    if not isinstance(node.value, str) or len(node.value) > limit:
        raise node.fail(f"a string (<= {limit})")
    return node.value


def _number(node: ConfigNode) -> float:
    """A finite number, or NaN/infinity as their JSON strings."""
    value = node.value
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return node.number()


def _count(node: ConfigNode) -> int:
    return node.integer(0, "a count")


def _result(node: ConfigNode) -> SliceResult:
    node.mapping(what="an object")
    conditions = tuple(_text(c) for c in node.child("conditions").sequence(
        "a list of at most 2 conditions", non_empty=True, limit=2))
    subsumed = node.child("subsumed_by").optional(_text)
    return SliceResult(
        slice=" and ".join(conditions), conditions=conditions,
        metric=node.child("metric").choice(*ROW_METRICS),
        direction=cast(Direction, node.child("direction").choice("higher", "lower")),
        rows=_count(node.child("rows")), base_rows=_count(node.child("base_rows")),
        base=_number(node.child("base")), head=_number(node.child("head")),
        delta=_number(node.child("delta")), low=_number(node.child("low")),
        high=_number(node.child("high")), p=_number(node.child("p")),
        q=_number(node.child("q")),
        status=cast(SliceStatus, node.child("status").choice("worse", "better",
                                                             "not_significant")),
        subsumed_by=subsumed)


def _policy(node: ConfigNode) -> SlicePolicy:
    features = tuple(_text(f, 200) for f in node.child("features").sequence(
        "a list of at most 12 columns", non_empty=True, limit=12))
    tolerances = node.child("tolerances").optional(lambda n: n.value, {})
    if not isinstance(tolerances, dict) or any(
            k not in ROW_METRICS or not isinstance(v, (int, float)) or isinstance(v, bool)
            or not math.isfinite(v) for k, v in tolerances.items()):
        raise node.child("tolerances").fail("metric tolerances")
    fdr = node.child("fdr").number()
    if not 0 < fdr < 1:
        raise node.child("fdr").fail("a rate between 0 and 1")
    return SlicePolicy(
        features=features, max_depth=node.child("max_depth").integer(1, "1 or 2"),
        min_rows=_count(node.child("min_rows")), fdr=fdr,
        bins=node.child("bins").integer(2, "a whole number >= 2"),
        fail_on=cast(FailOn, node.child("fail_on").choice("none", "regression")),
        tolerance=node.child("tolerance").non_negative(),
        tolerances={k: float(v) for k, v in tolerances.items()},
        data=node.child("data").optional(_text))


def slices_from_json(data: Any, where: str, field: str) -> SliceReport | None:
    """Rebuild ``slices_to_json`` output, checking every field (None: not searched)."""
    if data is None:
        return None
    node = ConfigNode(data, field, where)
    node.mapping(what="an object or null")
    results = tuple(_result(r) for r in node.child("results").sequence(
        f"a list of at most {_MAX_RESULTS} results", limit=_MAX_RESULTS))
    notes = tuple(_text(n, 1000) for n in node.child("notes").sequence(
        "a list of at most 20 notes", limit=20))
    metrics = tuple(m.choice(*ROW_METRICS) for m in node.child("metrics").sequence(
        "a list of metrics", limit=len(ROW_METRICS)))
    return SliceReport(
        policy=_policy(node), results=results, slices=_count(node.child("slices")),
        rows=_count(node.child("rows")),
        pairing=cast(Pairing, node.child("pairing").choice("paired", "unpaired")),
        replicates=_count(node.child("replicates")), metrics=metrics, notes=notes,
        tests=_count(node.child("tests")))
