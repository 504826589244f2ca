"""Model metrics of predictions, with scikit-learn as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from jx_mlops.compare.modelmetrics import classification_metrics, regression_metrics


def test_our_metrics_equal_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400).astype(float)
    # Rounded scores: many ties, across the classes too (roc_auc counts them half).
    score = np.round(np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1), 1)
    ours = classification_metrics(y, score)
    pred = (score > 0.5).astype(int)
    assert ours == pytest.approx({
        "accuracy": skm.accuracy_score(y, pred), "f1": skm.f1_score(y, pred),
        "precision": skm.precision_score(y, pred), "recall": skm.recall_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, score)}, abs=1e-12)
    none = classification_metrics(y, np.zeros(400))  # nothing predicted positive
    assert (none["precision"], none["f1"]) == (0.0, 0.0)
    truth, guess = rng.normal(5, 2, 300), rng.normal(5, 2, 300)
    assert regression_metrics(truth, guess) == pytest.approx({
        "mae": skm.mean_absolute_error(truth, guess),
        "rmse": skm.root_mean_squared_error(truth, guess),
        "r2": skm.r2_score(truth, guess)}, abs=1e-12)
