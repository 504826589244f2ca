"""Helpers shared by the pipeline stages: params and CSV loading."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import yaml

FEATURES = ["age", "income", "debt_ratio", "credit_years", "accounts", "late_payments",
            "employment_years"]
SENSITIVE = "group"
TARGET = "approved"


def params(section: str) -> dict[str, Any]:
    with open("params.yaml") as handle:
        return dict(yaml.safe_load(handle)[section])


def read_rows(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: str | Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def matrix(rows: list[dict[str, str]], columns: list[str]) -> np.ndarray:
    """Feature matrix; the sensitive attribute, when used, becomes a 0/1 column."""
    def value(row: dict[str, str], column: str) -> float:
        if column == SENSITIVE:
            return 1.0 if row[column] == "B" else 0.0
        return float(row[column])

    return np.array([[value(row, c) for c in columns] for row in rows], dtype=float)


def labels(rows: list[dict[str, str]]) -> np.ndarray:
    return np.array([int(row[TARGET]) for row in rows])
