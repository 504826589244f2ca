"""The data card: what the model was trained and tested on, in a form auditors can check.

Row counts, the schema with per-column statistics, the sensitive attribute's group sizes
and the SHA-256 of every split file: whoever holds the data can prove it is the data a
registered model version saw (the card is committed with each version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kit.data import sha256


def column_summary(frame: pd.DataFrame, column: str, role: str) -> dict[str, Any]:
    """Type, missing values and a few statistics of one column."""
    series = frame[column]
    summary: dict[str, Any] = {"name": column, "role": role, "dtype": str(series.dtype),
                               "missing": int(series.isna().sum())}
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        summary.update(min=float(series.min()), max=float(series.max()),
                       mean=float(series.mean()), std=float(series.std()))
    else:
        counts = series.astype(str).value_counts().sort_index()
        summary["values"] = {str(k): int(v) for k, v in counts.items()}
    return summary


def split_summary(path: str | Path, frame: pd.DataFrame, target: str, sensitive: str,
                  task: str) -> dict[str, Any]:
    """Rows, hash, target balance and group sizes of one split."""
    summary: dict[str, Any] = {"path": str(path), "rows": len(frame), "sha256": sha256(path)}
    if task == "classification":
        summary["positive_rate"] = float(frame[target].mean())
    else:
        summary["target_mean"] = float(frame[target].mean())
    counts = frame[sensitive].astype(str).value_counts().sort_index()
    summary["groups"] = {str(k): int(v) for k, v in counts.items()}
    return summary


def build_card(*, dataset: Mapping[str, Any], task: str, target: str, sensitive: str,
               features: Sequence[str], splits: Mapping[str, tuple[Path, pd.DataFrame]],
               split_params: Mapping[str, Any], slices: Sequence[str] = ()) -> dict[str, Any]:
    """The data card of a prepared dataset (``splits``: name -> (file, frame)). A column
    kept only to slice the evaluation by has the role ``slice``."""
    first = next(iter(splits.values()))[1]
    roles = {**{c: "slice" for c in slices if c not in features}, target: "target",
             sensitive: "sensitive"}
    schema = [column_summary(first, c, roles.get(c, "feature" if c in features else "unused"))
              for c in first.columns]
    return {
        "dataset": dict(dataset),
        "task": task,
        "target": target,
        "sensitive_attribute": sensitive,
        "sensitive_attribute_used_as_feature": sensitive in features,
        "features": list(features),
        "slices": list(slices),
        "split": dict(split_params),
        "splits": {name: split_summary(path, frame, target, sensitive, task)
                   for name, (path, frame) in splits.items()},
        "schema": schema,
    }
