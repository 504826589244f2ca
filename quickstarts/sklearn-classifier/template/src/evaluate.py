"""Stage `evaluate`: metrics.json, plots/roc.json and per-sample predictions.

eval/predictions.csv (y_true, y_pred, y_score, group) lets jx-mlops test whether a metric
change is larger than noise (paired bootstrap between base and head).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
from common import SENSITIVE, labels, matrix, read_rows, write_rows
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

ROC_POINTS = 50


def main() -> None:
    with open("models/model.pkl", "rb") as handle:
        model = pickle.load(handle)
    rows = read_rows("data/prepared/test.csv")
    y_true = labels(rows)
    y_score = model.predict_proba(matrix(rows, model.feature_names_))[:, 1]
    y_pred = (y_score >= 0.5).astype(int)
    metrics = {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 6),
        "f1": round(float(f1_score(y_true, y_pred)), 6),
        "precision": round(float(precision_score(y_true, y_pred)), 6),
        "recall": round(float(recall_score(y_true, y_pred)), 6),
        "roc_auc": round(float(roc_auc_score(y_true, y_score)), 6),
    }
    Path("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(ROC_POINTS, len(fpr))).astype(int))
    roc = [{"fpr": round(float(fpr[i]), 4), "tpr": round(float(tpr[i]), 4),
            "threshold": round(float(min(thresholds[i], 1.0)), 4)} for i in keep]
    Path("plots").mkdir(exist_ok=True)
    Path("plots/roc.json").write_text(json.dumps({"roc": roc}, indent=1) + "\n")

    write_rows("eval/predictions.csv",
               [{"y_true": int(t), "y_pred": int(p), "y_score": round(float(s), 6),
                 SENSITIVE: row[SENSITIVE]}
                for t, p, s, row in zip(y_true, y_pred, y_score, rows, strict=True)],
               ["y_true", "y_pred", "y_score", SENSITIVE])
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
