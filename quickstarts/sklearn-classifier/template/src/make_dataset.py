"""Generate the project's raw dataset: a synthetic credit-approval table.

Deterministic (fixed seed) so every scaffolded project starts from the same data, and
offline (no download). `group` stands for a protected attribute. The two groups look
almost alike on paper, but the historical decisions in `approved` held group B back: a
model that is given `group` learns that bias (see prepare.drop_sensitive in params.yaml),
which is what the fairness gate in mlops.yaml catches.
"""

from __future__ import annotations

import numpy as np
from kit.data import write_raw_csv

ROWS = 3000
COLUMNS = ["age", "income", "debt_ratio", "credit_years", "accounts", "late_payments",
           "employment_years", "group", "approved"]
# How far the historical decisions held group B back, and how far B's finances differ.
HISTORICAL_BIAS = 0.7
GROUP_SHIFT = 0.05


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
    score = (0.9 * (np.log(income) - 10.6) - 2.2 * (debt_ratio - 0.35) + 0.04 * credit_years
             - 0.45 * late + 0.05 * employment + rng.normal(0, 0.6, size=rows)
             - HISTORICAL_BIAS * in_b)
    approved = (score > np.quantile(score, 0.45)).astype(int)
    return [[int(a), float(i), round(float(d), 4), float(c), int(n), int(lp), float(e), g,
             int(y)]
            for a, i, d, c, n, lp, e, g, y in zip(age, income, debt_ratio, credit_years,
                                                  accounts, late, employment, group, approved,
                                                  strict=True)]


def main() -> None:
    write_raw_csv(COLUMNS, generate())


if __name__ == "__main__":
    main()
