"""Generate the project's raw dataset: a synthetic credit-approval table.

Deterministic (fixed seed) so every scaffolded project starts from the same data, and
offline (no download). `group` stands for a protected attribute. The two groups look
almost alike on paper, but the historical decisions in `approved` held group B back: a
model that is given `group` learns that bias (see prepare.drop_sensitive in params.yaml),
which is what the fairness gate in mlops.yaml catches.

`region` is where the applicant lives. The model does not see it, but the evaluation is
sliced by it (mlops.yaml `slices`): in the west, household debt is what decides, as most
applications whose outcome turns on `debt_ratio` come from there. A model that loses
`debt_ratio` (`retrain --set prepare.drop_features=debt_ratio`) is about as accurate
overall and much worse in the west, which the "Where it got worse" section names.
"""

from __future__ import annotations

import numpy as np
from kit.data import write_raw_csv

ROWS = 3000
COLUMNS = ["age", "income", "debt_ratio", "credit_years", "accounts", "late_payments",
           "employment_years", "group", "region", "approved"]
# How far the historical decisions held group B back, and how far B's finances differ.
HISTORICAL_BIAS = 0.7
GROUP_SHIFT = 0.05
# How likely an applicant is to live in the west when debt_ratio decides their outcome,
# and when it does not; the other regions share the rest evenly.
WEST_IF_DEBT_DECIDES, WEST_OTHERWISE = 0.95, 0.04


def generate(rows: int = ROWS, seed: int = 1234) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=rows, p=[0.6, 0.4])
    in_b = group == "B"
    shift = np.where(in_b, -GROUP_SHIFT, 0.0)
    age = rng.integers(21, 70, size=rows)
    income = np.round(rng.lognormal(10.6 + shift * 0.3, 0.45, size=rows), -2)
    debt_ratio = np.clip(rng.normal(0.35 - shift * 0.1, 0.15, size=rows), 0.0, 1.2)
    credit_years = np.clip((age - 18) * rng.uniform(0.2, 0.9, size=rows), 0, None).round(1)
    accounts = rng.poisson(4, size=rows)
    late = rng.poisson(np.clip(1.0 - shift, 0.1, None), size=rows)
    employment = np.clip(rng.normal(8 + shift * 3, 5, size=rows), 0, None).round(1)
    debt = -2.2 * (debt_ratio - 0.35)
    score = (0.9 * (np.log(income) - 10.6) + debt + 0.04 * credit_years
             - 0.45 * late + 0.05 * employment + rng.normal(0, 0.6, size=rows)
             - HISTORICAL_BIAS * in_b)
    cut = np.quantile(score, 0.45)
    approved = (score > cut).astype(int)
    region = _regions(approved != (score - (debt - debt.mean()) > cut), seed)
    return [[int(a), float(i), round(float(d), 4), float(c), int(n), int(lp), float(e), g, r,
             int(y)]
            for a, i, d, c, n, lp, e, g, r, y in zip(age, income, debt_ratio, credit_years,
                                                     accounts, late, employment, group, region,
                                                     approved, strict=True)]


def _regions(debt_decides: np.ndarray, seed: int) -> np.ndarray:
    """Each applicant's region, drawn apart so that the other columns stay as they were."""
    rng = np.random.default_rng(seed + 1)
    west = rng.random(len(debt_decides)) < np.where(debt_decides, WEST_IF_DEBT_DECIDES,
                                                    WEST_OTHERWISE)
    return np.where(west, "west", rng.choice(["north", "south", "east"], size=len(west)))


def main() -> None:
    write_raw_csv(COLUMNS, generate())


if __name__ == "__main__":
    main()
