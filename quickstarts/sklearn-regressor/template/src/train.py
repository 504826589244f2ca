"""Stage `train`: fit a gradient-boosting regressor, save models/model.pkl."""

from __future__ import annotations

import common
import model_io
from kit.data import encode, features, params, read_table
from sklearn.ensemble import GradientBoostingRegressor


def main() -> None:
    p = params("train")
    rows = read_table("data/prepared/train.csv")
    model = GradientBoostingRegressor(n_estimators=p["n_estimators"], max_depth=p["max_depth"],
                                      learning_rate=p["learning_rate"],
                                      subsample=p["subsample"], random_state=p["seed"])
    model.fit(encode(rows, features(), common.CATEGORIES), rows[common.TARGET].to_numpy())
    model_io.save(model)
    print(f"trained {p['n_estimators']} boosting rounds (depth {p['max_depth']}) "
          f"on {len(rows)} rows")


if __name__ == "__main__":
    main()
