"""How a metric is judged: its direction and tolerances (built by ``config`` from mlops.yaml,
used by the pure comparison)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class MetricPolicy:
    """How to judge one metric: which way is better and how much noise to forgive."""

    direction: Direction | None = None
    tolerance: float = 0.0
    rel_tolerance: float = 0.0
    min: float | None = None
    max: float | None = None
    # "required": a drop beyond tolerance fails only if the paired bootstrap tells it from
    # noise (where predictions give one); "ignore": beyond tolerance fails, noise or not.
    significance: Literal["required", "ignore"] = "required"
