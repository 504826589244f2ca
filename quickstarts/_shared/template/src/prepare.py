"""Stage `prepare`: split data/raw.csv into train and test sets and write the data card.

`prepare.drop_sensitive` (params.yaml) decides whether the sensitive attribute is one of
the model's features. It is kept out by default; it stays in the prepared sets either
way, because the evaluate stage measures fairness across its groups. The columns the
evaluation is sliced by (`common.SLICES`) stay too. `prepare.drop_features` (a list, or
names separated by commas) leaves features out of the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import common
from kit.data import params, read_table, write_json, write_table
from kit.datacard import build_card
from sklearn.model_selection import train_test_split

OUT = Path("data/prepared")


def dropped(value: object) -> list[str]:
    """``prepare.drop_features``: a list, or names separated by commas; each a feature."""
    if value is None or value == "":
        return []
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else \
        [str(n) for n in value] if isinstance(value, list) else [str(value)]
    unknown = [n for n in names if n not in common.FEATURES]
    if unknown:
        raise SystemExit(f"params.yaml: prepare.drop_features: {unknown[0]!r} is not a "
                         f"feature (features: {', '.join(common.FEATURES)})")
    return names


def main() -> None:
    p = params("prepare")
    raw = read_table("data/raw.csv")
    stratify = raw[common.TARGET] if common.TASK == "classification" else None
    train, test = train_test_split(raw, test_size=p["test_size"], random_state=p["seed"],
                                   stratify=stratify)
    features = [f for f in common.FEATURES if f not in dropped(p.get("drop_features"))]
    if not p.get("drop_sensitive", True):
        features.append(common.SENSITIVE)
    OUT.mkdir(parents=True, exist_ok=True)
    write_table(OUT / "train.csv", train)
    write_table(OUT / "test.csv", test)
    (OUT / "features.json").write_text(json.dumps({"features": features}, indent=2) + "\n")
    card = build_card(
        dataset=common.DATASET, task=common.TASK, target=common.TARGET,
        sensitive=common.SENSITIVE, features=features, slices=common.SLICES,
        splits={"raw": (Path("data/raw.csv"), raw), "train": (OUT / "train.csv", train),
                "test": (OUT / "test.csv", test)},
        split_params={"test_size": p["test_size"], "seed": p["seed"],
                      "stratified": stratify is not None})
    write_json("reports/data_card.json", card)
    print(f"train: {len(train)} rows, test: {len(test)} rows, features: {len(features)}")


if __name__ == "__main__":
    main()
