"""The ``slices:`` block of a model in mlops.yaml: where to look for a worse head.

```yaml
models:
  churn:
    predictions: eval/predictions.csv
    slices:
      features: [region, age]   # columns of the predictions file (or of `data`)
      max_depth: 2              # 1: one feature's levels; 2: and every pair (default)
      min_rows: 50              # a slice needs this many rows on each side (default)
      fdr: 0.05                 # false discovery rate across all slices (default)
      bins: 4                   # numeric columns: quantile bands (default 4)
      edges: {age: [30, 45, 60]}  # or fixed band edges for a numeric column
      fail_on: regression       # none (default): report only
      tolerance: 0.05           # or {accuracy: 0.05, mae: 0.3}
      data: data/prepared/test.csv  # optional: the columns, one row per prediction
```
"""

from __future__ import annotations

import os
from typing import cast

from jx_mlops.compare.slices.policy import MAX_DEPTH, FailOn, SlicePolicy
from jx_mlops.compare.slices.rowmetrics import ROW_METRICS
from jx_mlops.config.node import ConfigNode

_KEYS = ("features", "max_depth", "min_rows", "fdr", "bins", "edges", "fail_on", "tolerance",
         "data")
_COLUMN_MAX = 200
MAX_FEATURES = 12


def _fdr(node: ConfigNode) -> float:
    value = node.number()
    if not 0 < value < 1:
        raise node.fail("a rate between 0 and 1, such as 0.05")
    return value


def _edges(node: ConfigNode, features: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    node.mapping()
    edges: dict[str, tuple[float, ...]] = {}
    for name, child in node.items():
        if name not in features:
            raise child.error(f"not one of slices.features ({', '.join(features)})")
        numbers = tuple(item.number() for item in child.sequence(
            "a non-empty list of numbers (the band edges)", non_empty=True))
        if list(numbers) != sorted(set(numbers)):
            raise child.fail("increasing numbers")
        edges[name] = numbers
    return edges


def _depth(node: ConfigNode) -> int:
    depth = node.integer(1, "1 or 2")
    if depth > MAX_DEPTH:
        raise node.fail("1 or 2")
    return depth


def _tolerance(node: ConfigNode) -> tuple[float, dict[str, float]]:
    if not isinstance(node.value, dict):
        return node.optional(ConfigNode.non_negative, 0.0), {}
    node.mapping(tuple(ROW_METRICS))
    return 0.0, {name: child.non_negative() for name, child in node.items()}


def _data(node: ConfigNode) -> str:
    path = node.string(what="a path inside the project")
    norm = os.path.normpath(path)
    if os.path.isabs(path) or norm == "." or norm.startswith(".."):
        raise node.fail("a path inside the project")
    return norm


def read_slices(node: ConfigNode) -> SlicePolicy | None:
    """Parse a model's ``slices`` mapping (absent: no slice search)."""
    if node.value is None:
        return None
    node.mapping(_KEYS, required=("features",))
    features_node = node.child("features")
    features = features_node.strings(what="a non-empty list of distinct column names",
                                     non_empty=True, limit=_COLUMN_MAX)
    if len(set(features)) != len(features) or len(features) > MAX_FEATURES:
        raise features_node.fail(f"at most {MAX_FEATURES} distinct column names")
    tolerance, tolerances = _tolerance(node.child("tolerance"))
    bins = node.child("bins").optional(lambda n: n.integer(2, "a whole number >= 2"), 4)
    return SlicePolicy(
        features=features,
        max_depth=node.child("max_depth").optional(_depth, MAX_DEPTH),
        min_rows=node.child("min_rows").optional(lambda n: n.integer(1, "a whole number >= 1"),
                                                 50),
        fdr=node.child("fdr").optional(_fdr, 0.05),
        bins=bins,
        edges=node.child("edges").optional(lambda n: _edges(n, features), {}),
        fail_on=cast(FailOn, node.child("fail_on").optional(
            lambda n: n.choice("none", "regression"), "none")),
        tolerance=tolerance,
        tolerances=tolerances,
        data=node.child("data").optional(_data),
    )
