"""Params, tables and files: what every stage reads and writes."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

DIGITS = 6


def params(section: str) -> dict[str, Any]:
    """One section of params.yaml (what DVC tracks for the stage)."""
    with open("params.yaml", encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle).get(section) or {})


def read_table(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path)


def write_table(path: str | Path, frame: pd.DataFrame) -> None:
    """CSV with a fixed layout, so the same data always hashes the same."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def encode(frame: pd.DataFrame, columns: Sequence[str],
           categories: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The model's input matrix (float32, as ONNX and the serving runtimes take it).

    Categorical columns become the index of their value in ``categories``, so a served
    model receives plain numbers in the order of ``features`` (data/prepared/features.json).
    """
    encoded = []
    for column in columns:
        if column in categories:
            codes = {value: float(i) for i, value in enumerate(categories[column])}
            values = frame[column].astype(str)
            unknown = sorted(set(values) - set(codes))
            if unknown:  # a silent NaN would reach the model: refuse instead
                raise ValueError(f"column {column!r}: unexpected values {unknown[:5]} "
                                 f"(src/common.py CATEGORIES lists {list(codes)})")
            encoded.append(values.map(codes).to_numpy(dtype=float))
        else:
            encoded.append(frame[column].to_numpy(dtype=float))
    return np.column_stack(encoded).astype(np.float32)


def features() -> list[str]:
    """The model's input columns, in order, as the prepare stage chose them."""
    data = json.loads(Path("data/prepared/features.json").read_text(encoding="utf-8"))
    return list(data["features"])


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rounded(value: Any) -> Any:
    """Numbers rounded for stable, readable JSON; NaN and infinities as None."""
    if isinstance(value, Mapping):
        return {str(k): rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return round(number, DIGITS) if math.isfinite(number) else None
    return value


def write_json(path: str | Path, data: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(rounded(data), indent=2) + "\n", encoding="utf-8")


def write_raw_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]],
                  path: str | Path = "data/raw.csv") -> None:
    """Write a generated dataset (the `make_dataset` task of every quickstart)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")
