"""How slices are formed and judged: ``slices:`` of a model in mlops.yaml (built by
``config``, used by the pure search)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FailOn = Literal["none", "regression"]
MAX_DEPTH = 2


@dataclass(frozen=True)
class SlicePolicy:
    """Which columns slice the evaluation rows, and what a slice regression does.

    ``features`` are columns of the predictions file (or of ``data``, a file with one row
    per prediction, in the same order). A numeric column with more than ``bins`` distinct
    values is cut at its quantiles into ``bins`` bands (or at ``edges`` given for it);
    every other column's values are its levels. Slices are one level of one feature, and
    (``max_depth: 2``) one level of each of two; a slice needs ``min_rows`` rows. ``fdr``
    is the false discovery rate controlled across every slice and metric tested.
    ``fail_on: regression`` fails the verdict on a significant slice regression larger
    than ``tolerance`` (one number, or one per metric); ``none`` only reports.
    """

    features: tuple[str, ...]
    max_depth: int = MAX_DEPTH
    min_rows: int = 50
    fdr: float = 0.05
    bins: int = 4
    edges: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    fail_on: FailOn = "none"
    tolerance: float = 0.0
    tolerances: Mapping[str, float] = field(default_factory=dict)
    data: str | None = None

    def tolerance_for(self, metric: str) -> float:
        """How much worse a slice may get on ``metric`` before ``fail_on`` fails it."""
        return self.tolerances.get(metric, self.tolerance)
