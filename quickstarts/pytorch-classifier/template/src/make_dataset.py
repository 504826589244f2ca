"""Generate the project's raw dataset: synthetic discharged patients and readmissions.

Deterministic (fixed seed) and offline. `group` stands for a protected attribute that
the extra discharge support must not depend on: group B was readmitted more for reasons
the data does not show. A model given `group` (prepare.drop_sensitive: false) steers the
support by it, which the demographic-parity gate in mlops.yaml catches.
"""

from __future__ import annotations

import numpy as np
from kit.data import write_raw_csv

ROWS = 3000
COLUMNS = ["age", "length_of_stay", "prior_admissions", "medications", "comorbidities",
           "discharge", "follow_up_scheduled", "group", "readmitted"]
# How much more likely group B was to be readmitted, all else equal (log-odds scale).
GROUP_GAP = 0.9


def generate(rows: int = ROWS, seed: int = 77) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=rows, p=[0.65, 0.35])
    age = rng.integers(20, 95, size=rows)
    stay = np.clip(rng.gamma(2.0, 2.5, size=rows), 1, None).round(0)
    prior = rng.poisson(0.8, size=rows)
    medications = rng.poisson(8, size=rows)
    comorbidities = rng.poisson(1.0 + 0.02 * (age - 20), size=rows)
    discharge = rng.choice(["home", "care_facility", "home_with_support"], size=rows,
                           p=[0.6, 0.2, 0.2])
    follow_up = rng.choice([0, 1], size=rows, p=[0.4, 0.6])
    risk = (0.015 * (age - 55) + 0.08 * stay + 0.5 * prior + 0.05 * (medications - 8)
            + 0.3 * comorbidities + 0.4 * (discharge == "care_facility")
            - 0.2 * (discharge == "home_with_support") - 0.5 * follow_up
            + GROUP_GAP * (group == "B") + rng.normal(0, 1.0, size=rows))
    readmitted = (risk > np.quantile(risk, 0.65)).astype(int)
    return [[int(a), int(s), int(p), int(m), int(c), d, int(f), g, int(y)]
            for a, s, p, m, c, d, f, g, y in zip(age, stay, prior, medications, comorbidities,
                                                 discharge, follow_up, group, readmitted,
                                                 strict=True)]


def main() -> None:
    write_raw_csv(COLUMNS, generate())


if __name__ == "__main__":
    main()
