"""Stage `evaluate`: metrics, fairness, explanations, plots and per-sample predictions.

Writes metrics.json (performance), fairness.json (disparity across the sensitive
attribute's groups), plots/*.json, and eval/predictions.csv, which jx-mlops reads to test
whether a metric's change is larger than noise and where (in which slice of the
`common.SLICES` columns it carries) the model got worse. docs/quickstarts.md in jx-mlops
lists every file and key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import common
import model_io
import numpy as np
import pandas as pd
from kit import data, evaluation, explain, fairness
from sklearn.metrics import mean_absolute_error, roc_auc_score


def slice_columns(test: pd.DataFrame) -> dict[str, np.ndarray]:
    """The sensitive attribute and the columns the evaluation is sliced by, per row."""
    return {name: test[name].to_numpy() for name in dict.fromkeys([common.SENSITIVE,
                                                                   *common.SLICES])}


def evaluate_classifier(y: np.ndarray, scores: np.ndarray, groups: np.ndarray,
                        threshold: float, columns: dict[str, np.ndarray]
                        ) -> Callable[[np.ndarray, np.ndarray], float]:
    y_pred = (scores > threshold).astype(int)
    data.write_json("metrics.json", evaluation.classification_metrics(y, y_pred, scores))
    data.write_json("fairness.json", fairness.classification_fairness(y, y_pred, groups))
    data.write_json("plots/roc.json", {"roc": evaluation.roc_points(y, scores)})
    data.write_json("plots/precision_recall.json",
                    {"precision_recall": evaluation.precision_recall_points(y, scores)})
    evaluation.write_predictions("eval/predictions.csv", {
        "y_true": y, "y_pred": y_pred, "y_score": scores, **columns})
    return lambda truth, predicted: float(roc_auc_score(truth, predicted))


def evaluate_regressor(y: np.ndarray, predicted: np.ndarray, groups: np.ndarray,
                       columns: dict[str, np.ndarray]
                       ) -> Callable[[np.ndarray, np.ndarray], float]:
    data.write_json("metrics.json", evaluation.regression_metrics(y, predicted))
    data.write_json("fairness.json", fairness.regression_fairness(y, predicted, groups))
    data.write_json("plots/residuals.json",
                    {"residuals": evaluation.residual_points(y, predicted)})
    evaluation.write_predictions("eval/predictions.csv", {
        "y_true": y, "y_pred": predicted, **columns})
    return lambda truth, guess: -float(mean_absolute_error(truth, guess))


def main() -> None:
    p = data.params("evaluate")
    names = data.features()
    test = data.read_table("data/prepared/test.csv")
    x = data.encode(test, names, common.CATEGORIES)
    y = test[common.TARGET].to_numpy()
    groups = test[common.SENSITIVE].astype(str).to_numpy()
    model = model_io.load()

    def predict(rows: np.ndarray) -> np.ndarray:
        return model_io.predict(model, rows)

    scores = predict(x)
    columns = slice_columns(test)
    if common.TASK == "classification":
        score = evaluate_classifier(y, scores, groups, p.get("threshold", 0.5), columns)
    else:
        score = evaluate_regressor(y, scores, groups, columns)
    importance = explain.top_features(predict, x, y, names, score,
                                      repeats=p.get("importance_repeats", 5),
                                      top=p.get("top_features", 10), seed=p.get("seed", 0))
    data.write_json("plots/importance.json", {"importance": importance})
    print(Path("metrics.json").read_text().strip())


if __name__ == "__main__":
    main()
