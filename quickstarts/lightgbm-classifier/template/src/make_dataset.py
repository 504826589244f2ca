"""Generate the project's raw dataset: synthetic telecom subscribers and their churn.

Deterministic (fixed seed) and offline. `group` stands for a protected attribute that
the retention offers must not depend on: group B churned more for reasons the data does
not show. A model given `group` (prepare.drop_sensitive: false) steers the offers by it,
which the demographic-parity gate in mlops.yaml catches.
"""

from __future__ import annotations

import numpy as np
from kit.data import write_raw_csv

ROWS = 3000
COLUMNS = ["tenure_months", "contract", "monthly_charges", "data_usage_gb", "support_calls",
           "late_payments", "group", "churned"]
# How much more likely group B was to churn, all else equal (log-odds scale).
GROUP_GAP = 0.6


def generate(rows: int = ROWS, seed: int = 2024) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=rows, p=[0.7, 0.3])
    tenure = rng.integers(1, 72, size=rows)
    contract = rng.choice(["monthly", "one_year", "two_year"], size=rows, p=[0.55, 0.25, 0.2])
    monthly = np.clip(rng.normal(65, 20, size=rows), 15, 130).round(2)
    usage = np.clip(rng.gamma(2.0, 8.0, size=rows), 0, None).round(1)
    calls = rng.poisson(1.2, size=rows)
    late = rng.poisson(0.4, size=rows)
    risk = (-0.035 * tenure + 0.9 * (contract == "monthly") - 0.6 * (contract == "two_year")
            + 0.02 * (monthly - 65) + 0.45 * calls + 0.5 * late - 0.02 * usage
            + GROUP_GAP * (group == "B") + rng.normal(0, 0.9, size=rows))
    churned = (risk > np.quantile(risk, 0.7)).astype(int)
    return [[int(t), c, float(m), float(u), int(s), int(lp), g, int(y)]
            for t, c, m, u, s, lp, g, y in zip(tenure, contract, monthly, usage, calls, late,
                                               group, churned, strict=True)]


def main() -> None:
    write_raw_csv(COLUMNS, generate())


if __name__ == "__main__":
    main()
