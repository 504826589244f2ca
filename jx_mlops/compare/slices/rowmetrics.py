"""Metrics a slice can be judged on: those made of sums over rows (pure numpy).

Accuracy, precision, recall and F1 (class 1 is positive, a zero denominator gives 0 as
scikit-learn's ``zero_division=0``), MAE, MSE and RMSE are functions of per-row
quantities summed over the slice's rows, so resampling rows resamples them exactly.
ROC AUC (it ranks rows against each other) and R² (it divides by the slice's own spread
of the target) are not: they are left to the whole-test-set table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jx_mlops.compare.significance import Predictions

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]
    Sums = Mapping[str, "Array"]

# A slice is tested on a metric only when this many rows (or events: positives for
# recall, predicted positives for precision) stand behind its value on each side.
MIN_SUPPORT = 10


def _ratio(numerator: Array, denominator: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        result: Array = np.where(denominator > 0, numerator / np.where(denominator > 0,
                                                                      denominator, 1), 0.0)
    return result


def _quantities(p: Predictions) -> dict[str, Callable[[], Array]]:
    """Per-row quantities of one side's predictions, computed on demand."""
    assert p.y_pred is not None
    truth, pred = p.y_true, p.y_pred
    positive, predicted = truth == 1, pred == 1
    return {
        "rows": lambda: np.ones(len(truth)),
        "correct": lambda: (truth == pred).astype(np.float64),
        "tp": lambda: (positive & predicted).astype(np.float64),
        "fp": lambda: (~positive & predicted).astype(np.float64),
        "fn": lambda: (positive & ~predicted).astype(np.float64),
        "abs_error": lambda: np.abs(truth - pred),
        "sq_error": lambda: (truth - pred) ** 2,
    }


@dataclass(frozen=True)
class RowMetric:
    """A metric as a function of column sums, and the count its value rests on."""

    columns: tuple[str, ...]
    value: Callable[[Sums], Array]
    support: Callable[[Sums], Array]


ROW_METRICS: Mapping[str, RowMetric] = {
    "accuracy": RowMetric(("rows", "correct"), lambda s: _ratio(s["correct"], s["rows"]),
                          lambda s: s["rows"]),
    "precision": RowMetric(("tp", "fp"), lambda s: _ratio(s["tp"], s["tp"] + s["fp"]),
                           lambda s: s["tp"] + s["fp"]),
    "recall": RowMetric(("tp", "fn"), lambda s: _ratio(s["tp"], s["tp"] + s["fn"]),
                        lambda s: s["tp"] + s["fn"]),
    "f1": RowMetric(("tp", "fp", "fn"),
                    lambda s: _ratio(2 * s["tp"], 2 * s["tp"] + s["fp"] + s["fn"]),
                    lambda s: s["tp"] + s["fp"] + s["fn"]),
    "mae": RowMetric(("rows", "abs_error"), lambda s: _ratio(s["abs_error"], s["rows"]),
                     lambda s: s["rows"]),
    "mse": RowMetric(("rows", "sq_error"), lambda s: _ratio(s["sq_error"], s["rows"]),
                     lambda s: s["rows"]),
    "rmse": RowMetric(("rows", "sq_error"),
                      lambda s: np.sqrt(_ratio(s["sq_error"], s["rows"])),
                      lambda s: s["rows"]),
}


def columns_for(metrics: list[str]) -> tuple[str, ...]:
    """The per-row quantities ``metrics`` need, each once, in a fixed order."""
    return tuple(dict.fromkeys(c for m in metrics for c in ROW_METRICS[m].columns))


def quantity_matrix(p: Predictions, columns: tuple[str, ...]) -> Array:
    """One row per prediction, one column per quantity."""
    make = _quantities(p)
    return np.column_stack([make[c]() for c in columns]) if columns else \
        np.zeros((len(p.y_true), 0))
