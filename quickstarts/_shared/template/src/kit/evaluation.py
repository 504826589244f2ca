"""Metrics, plot data and per-sample predictions of the evaluate stage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
    root_mean_squared_error,
)

from kit.data import write_table

CURVE_POINTS = 50
SCATTER_POINTS = 300


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray,
                           y_score: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "f1": f1_score(y_true, y_pred, zero_division=0),
        "precision": precision_score(y_true, y_pred, zero_division=0),
        "recall": recall_score(y_true, y_pred, zero_division=0),
        "roc_auc": roc_auc_score(y_true, y_score),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {
        "mae": mean_absolute_error(y_true, y_pred),
        "rmse": root_mean_squared_error(y_true, y_pred),
        "r2": r2_score(y_true, y_pred),
    }


def _thin(length: int, points: int) -> np.ndarray:
    """Indices of at most ``points`` evenly spaced entries (first and last kept)."""
    return np.unique(np.linspace(0, length - 1, min(points, length)).astype(int))


def roc_points(y_true: np.ndarray, y_score: np.ndarray) -> list[dict[str, float]]:
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    return [{"fpr": fpr[i], "tpr": tpr[i], "threshold": min(float(thresholds[i]), 1.0)}
            for i in _thin(len(fpr), CURVE_POINTS)]


def precision_recall_points(y_true: np.ndarray,
                            y_score: np.ndarray) -> list[dict[str, float]]:
    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    thresholds = np.append(thresholds, 1.0)
    return [{"recall": recall[i], "precision": precision[i], "threshold": thresholds[i]}
            for i in _thin(len(recall), CURVE_POINTS)]


def residual_points(y_true: np.ndarray, y_pred: np.ndarray,
                    seed: int = 0) -> list[dict[str, float]]:
    """A sample of (actual, predicted, residual) for the residuals plot."""
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.permutation(len(y_true))[:SCATTER_POINTS])
    return [{"actual": y_true[i], "predicted": y_pred[i], "residual": y_pred[i] - y_true[i]}
            for i in keep]


def write_predictions(path: str | Path, columns: dict[str, Sequence[Any]]) -> None:
    """eval/predictions.csv: one row per test sample (y_true, y_pred, y_score, group...).

    jx-mlops reads it (mlops.yaml models.X.predictions) to tell whether a metric's change
    between two revisions is larger than the noise of the test set.
    """
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        if frame[name].dtype.kind == "f":
            frame[name] = frame[name].round(6)
    write_table(path, frame)
