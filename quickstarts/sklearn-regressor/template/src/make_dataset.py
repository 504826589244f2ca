"""Generate the project's raw dataset: synthetic patients and their annual healthcare cost.

Deterministic (fixed seed) and offline. `group` stands for a protected attribute. Both
groups have the same health needs, but group B's recorded costs are lower (unequal
access to care): a model given `group` (prepare.drop_sensitive: false) predicts lower
costs for B at equal need, which the gate on mean_prediction_difference catches.

`segment` is how the patient is insured: Medicare from 65, otherwise through an employer,
individually or by Medicaid. The model does not see it; the evaluation is sliced by it
(mlops.yaml `slices`), so a change that costs one segment accuracy is named.
"""

from __future__ import annotations

import numpy as np
from kit.data import write_raw_csv

ROWS = 3000
COLUMNS = ["age", "bmi", "smoker", "chronic_conditions", "visits_last_year",
           "exercise_hours", "group", "segment", "annual_cost"]
# How much lower (in thousands) group B's recorded costs are at equal need.
ACCESS_GAP = 1.0


def generate(rows: int = ROWS, seed: int = 4321) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=rows, p=[0.65, 0.35])
    age = rng.integers(18, 80, size=rows)
    bmi = np.clip(rng.normal(27, 4.5, size=rows), 15, 50).round(1)
    smoker = rng.choice(["no", "yes"], size=rows, p=[0.8, 0.2])
    chronic = rng.poisson(0.3 + 0.02 * (age - 18), size=rows)
    visits = rng.poisson(2 + chronic, size=rows)
    exercise = np.clip(rng.normal(3, 2, size=rows), 0, None).round(1)
    need = (0.08 * (age - 18) + 0.12 * np.clip(bmi - 25, 0, None) + 3.0 * (smoker == "yes")
            + 1.6 * chronic + 0.35 * visits - 0.15 * exercise)
    cost = np.clip(2.0 + need - ACCESS_GAP * (group == "B")
                   + rng.normal(0, 1.2, size=rows), 0.2, None).round(3)
    segment = _segments(age, seed)
    return [[int(a), float(b), s, int(c), int(v), float(e), g, sg, float(y)]
            for a, b, s, c, v, e, g, sg, y in zip(age, bmi, smoker, chronic, visits, exercise,
                                                  group, segment, cost, strict=True)]


def _segments(age: np.ndarray, seed: int) -> np.ndarray:
    """Each patient's insurance segment, drawn apart so the other columns stay as they
    were."""
    rng = np.random.default_rng(seed + 1)
    younger = rng.choice(["employer", "individual", "medicaid"], size=len(age),
                         p=[0.6, 0.25, 0.15])
    return np.where(age >= 65, "medicare", younger)


def main() -> None:
    write_raw_csv(COLUMNS, generate())


if __name__ == "__main__":
    main()
