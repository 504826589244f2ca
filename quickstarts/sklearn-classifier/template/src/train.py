"""Stage `train`: fit a random forest on the training set, save models/model.pkl."""

from __future__ import annotations

import common
import model_io
from kit.data import encode, features, params, read_table
from sklearn.ensemble import RandomForestClassifier


def main() -> None:
    p = params("train")
    rows = read_table("data/prepared/train.csv")
    model = RandomForestClassifier(n_estimators=p["n_estimators"], max_depth=p["max_depth"],
                                   min_samples_leaf=p["min_samples_leaf"],
                                   random_state=p["seed"], n_jobs=1)
    model.fit(encode(rows, features(), common.CATEGORIES), rows[common.TARGET].to_numpy())
    model_io.save(model)
    print(f"trained {p['n_estimators']} trees (max depth {p['max_depth']}) on {len(rows)} rows")


if __name__ == "__main__":
    main()
