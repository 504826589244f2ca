"""Stage `train`: fit a LightGBM classifier, save its booster as models/model.bst."""

from __future__ import annotations

import common
import lightgbm as lgb
import model_io
from kit.data import encode, features, params, read_table


def main() -> None:
    p = params("train")
    rows = read_table("data/prepared/train.csv")
    model = lgb.LGBMClassifier(
        n_estimators=p["n_estimators"], num_leaves=p["num_leaves"],
        learning_rate=p["learning_rate"], min_child_samples=p["min_child_samples"],
        random_state=p["seed"], n_jobs=1, deterministic=True, force_col_wise=True,
        verbose=-1)
    model.fit(encode(rows, features(), common.CATEGORIES), rows[common.TARGET].to_numpy())
    model_io.save(model.booster_)
    print(f"trained {p['n_estimators']} boosting rounds ({p['num_leaves']} leaves) "
          f"on {len(rows)} rows")


if __name__ == "__main__":
    main()
