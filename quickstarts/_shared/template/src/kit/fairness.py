"""Fairness for the sensitive attribute, computed with fairlearn.

Classifiers: demographic parity difference (the gap between the groups' selection rates)
and equalized odds difference (the larger gap between their true- and false-positive
rates), with the ratios and the per-group metrics behind them. Regressors: the error of
each group and the gaps between groups. mlops.yaml gates the headline numbers (for
example ``demographic_parity_difference: {max: 0.1}``), so a pull request that makes the
model unfair fails its check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, mean_absolute_error, root_mean_squared_error


def _by_group(frame: MetricFrame) -> dict[str, dict[str, float]]:
    """Metric -> group -> value: a group's rows sit side by side in the PR comment, and no
    key ends in a metric's name (jx-mlops matches those with the predictions file)."""
    table = frame.by_group
    return {str(metric): {str(group): float(value) for group, value in column.items()}
            for metric, column in table.items()}


def classification_fairness(y_true: np.ndarray, y_pred: np.ndarray,
                            groups: Sequence[str]) -> dict[str, Any]:
    """Disparity measures and per-group metrics of a binary classifier's decisions."""
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "accuracy": accuracy_score,
                 "true_positive_rate": true_positive_rate,
                 "false_positive_rate": false_positive_rate},
        y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    kwargs = {"sensitive_features": groups}
    return {
        "demographic_parity_difference": demographic_parity_difference(y_true, y_pred,
                                                                       **kwargs),
        "demographic_parity_ratio": demographic_parity_ratio(y_true, y_pred, **kwargs),
        "equalized_odds_difference": equalized_odds_difference(y_true, y_pred, **kwargs),
        "equalized_odds_ratio": equalized_odds_ratio(y_true, y_pred, **kwargs),
        "by_group": _by_group(frame),
    }


def regression_fairness(y_true: np.ndarray, y_pred: np.ndarray,
                        groups: Sequence[str]) -> dict[str, Any]:
    """Per-group error of a regressor and the gaps between the groups."""
    frame = MetricFrame(
        metrics={"mae": mean_absolute_error, "rmse": root_mean_squared_error,
                 "mean_prediction": lambda _t, p: float(np.mean(p)),
                 "mean_target": lambda t, _p: float(np.mean(t))},
        y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    gaps = frame.difference()
    ratios = frame.ratio()
    return {
        "mae_difference": gaps["mae"],
        "mae_ratio": ratios["mae"],
        "rmse_difference": gaps["rmse"],
        "mean_prediction_difference": gaps["mean_prediction"],
        "by_group": _by_group(frame),
    }
