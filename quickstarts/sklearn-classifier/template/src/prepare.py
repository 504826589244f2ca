"""Stage `prepare`: split data/raw.csv into train and test sets (stratified)."""

from __future__ import annotations

import json

from common import FEATURES, SENSITIVE, TARGET, params, read_rows, write_rows
from sklearn.model_selection import train_test_split


def main() -> None:
    p = params("prepare")
    rows = read_rows("data/raw.csv")
    train, test = train_test_split(rows, test_size=p["test_size"], random_state=p["seed"],
                                   stratify=[r[TARGET] for r in rows])
    features = list(FEATURES) if p.get("drop_sensitive", True) else [*FEATURES, SENSITIVE]
    columns = [*FEATURES, SENSITIVE, TARGET]
    write_rows("data/prepared/train.csv", train, columns)
    write_rows("data/prepared/test.csv", test, columns)
    with open("data/prepared/features.json", "w") as handle:
        json.dump({"features": features}, handle, indent=2)
    print(f"train: {len(train)} rows, test: {len(test)} rows, features: {len(features)}")


if __name__ == "__main__":
    main()
