"""Stage `train`: fit a random forest on the training set, save models/model.pkl."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from common import labels, matrix, params, read_rows
from sklearn.ensemble import RandomForestClassifier


def main() -> None:
    p = params("train")
    features = json.loads(Path("data/prepared/features.json").read_text())["features"]
    rows = read_rows("data/prepared/train.csv")
    model = RandomForestClassifier(n_estimators=p["n_estimators"], max_depth=p["max_depth"],
                                   min_samples_leaf=p["min_samples_leaf"],
                                   random_state=p["seed"], n_jobs=1)
    model.fit(matrix(rows, features), labels(rows))
    model.feature_names_ = features
    Path("models").mkdir(exist_ok=True)
    with open("models/model.pkl", "wb") as handle:
        pickle.dump(model, handle)
    print(f"trained {p['n_estimators']} trees (max depth {p['max_depth']}) on {len(rows)} rows")


if __name__ == "__main__":
    main()
