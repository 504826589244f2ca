"""Model metrics computed by jx-mlops itself, for scores no PR code may influence (the
sealed holdout, a fork's ONNX export): the quickstarts' names and definitions.

Classifiers: accuracy, f1, precision, recall (the positive class is 1; a ratio with a zero
denominator is 0, as scikit-learn's ``zero_division=0``) and roc_auc (ties count half).
Regressors: mae, rmse, r2. Pure numpy; tests use scikit-learn as the oracle.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Task = Literal["classification", "regression"]
# The path under which a model's holdout rows are shown (``data/holdout.csv (holdout)``).
HOLDOUT_ROW_SUFFIX = " (holdout)"
# The note that says how the holdout was scored starts so (shown near the verdict).
HOLDOUT_NOTE_PREFIX = "Sealed holdout: "
Array = npt.NDArray[np.float64]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def roc_auc(y_true: Array, y_score: Array) -> float:
    """The probability that a random positive scores above a random negative (ties: half),
    from the ranks of the scores (Mann-Whitney U); NaN when one class is absent."""
    positive = y_true == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(y_score, kind="mergesort")
    ranks = np.empty(len(y_score), dtype=np.float64)
    sorted_scores = y_score[order]
    # Average rank of each run of equal scores: a tie between the classes counts half.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(sorted_scores)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def classification_metrics(y_true: Array, y_score: Array,
                           threshold: float = 0.5) -> dict[str, float]:
    """The quickstarts' classifier metrics; a sample is positive when its score is above
    ``threshold`` (as their evaluate stage decides)."""
    y_pred = y_score > threshold
    actual = y_true == 1
    tp = float(np.sum(y_pred & actual))
    fp = float(np.sum(y_pred & ~actual))
    fn = float(np.sum(~y_pred & actual))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return {"accuracy": float(np.mean(y_pred == actual)),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "precision": precision, "recall": recall,
            "roc_auc": roc_auc(y_true, y_score)}


def regression_metrics(y_true: Array, y_pred: Array) -> dict[str, float]:
    """The quickstarts' regressor metrics: mae, rmse, r2 (of a constant target: 1 when
    predicted exactly, else 0, as scikit-learn's default, not a division by zero)."""
    error = y_pred - y_true
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    residual = float(np.sum(error ** 2))
    r2 = 1.0 - residual / total if total else (1.0 if residual == 0 else 0.0)
    return {"mae": float(np.mean(np.abs(error))),
            "rmse": float(np.sqrt(np.mean(error ** 2))), "r2": r2}


def model_metrics(task: Task, y_true: Array, scores: Array) -> dict[str, float]:
    """The metrics of ``task`` for ``scores`` (probabilities of class 1, or predictions)."""
    if task == "classification":
        return classification_metrics(y_true, scores)
    return regression_metrics(y_true, scores)
