"""Synthetic evaluation rows with a known truth, for the slice search's property tests.

Two classifiers score the same rows. The head re-decides 20% of the rows at the base's
accuracy (two forests disagree on some rows both ways), so without a planted effect no
slice is truly worse; with ``effect``, the head also gets wrong a share of the rows of
``region = west`` that the base got right, so that slice is ``effect`` less accurate.
"""

from __future__ import annotations

import numpy as np

from jx_mlops.compare.significance import Predictions

REGIONS = ("north", "south", "east", "west", "centre")
ACCURACY = 0.85


def planted(seed: int, rows: int = 3000, effect: float = 0.08
            ) -> tuple[Predictions, Predictions, dict[str, list[str]]]:
    """Base and head predictions and the slicing columns (region, age)."""
    rng = np.random.default_rng(seed)
    region = np.array(REGIONS)[rng.integers(0, len(REGIONS), rows)]
    age = rng.integers(18, 80, rows)
    truth = rng.integers(0, 2, rows).astype(float)
    base_right = rng.random(rows) < ACCURACY
    redraw = rng.random(rows) < 0.2
    head_right = np.where(redraw, rng.random(rows) < ACCURACY, base_right)
    head_right &= ~((region == "west") & (rng.random(rows) < effect / ACCURACY))
    base = np.where(base_right, truth, 1 - truth)
    head = np.where(head_right, truth, 1 - truth)
    columns = {"region": region.tolist(), "age": [str(a) for a in age]}
    return Predictions(truth, base), Predictions(truth, head), columns
