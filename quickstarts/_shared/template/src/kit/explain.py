"""Explainability: which features the model relies on, by permutation importance.

scikit-learn's permutation importance shuffles one feature at a time on the test set and
measures how much the score drops: model-agnostic, so the same code explains a random
forest, a gradient-boosted model and a neural network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.inspection import permutation_importance

Scorer = Callable[[np.ndarray, np.ndarray], float]


class _Predictor:
    """The minimal estimator permutation_importance accepts: fit is a no-op, the scorer
    calls ``predict`` (the project's own prediction function)."""

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray]) -> None:
        self.predict = predict

    def fit(self, _x: np.ndarray, _y: np.ndarray) -> _Predictor:
        return self


def top_features(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray,
                 names: Sequence[str], score: Scorer, *, repeats: int = 5, top: int = 10,
                 seed: int = 0) -> list[dict[str, Any]]:
    """The ``top`` features by mean drop of ``score(y, predict(x))`` when shuffled."""
    result = permutation_importance(
        _Predictor(predict), x, y, scoring=lambda est, xs, ys: score(ys, est.predict(xs)),
        n_repeats=repeats, random_state=seed, n_jobs=1)
    order = np.argsort(-result.importances_mean, kind="stable")[:top]
    return [{"feature": names[i], "importance": float(result.importances_mean[i]),
             "std": float(result.importances_std[i])} for i in order]
