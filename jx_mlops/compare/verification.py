"""Judging production checks: a query's value against its bounds (pure).

A check passes only with a number inside its bounds: no answer (Prometheus unreachable,
no sample, several series, NaN) is a failed check with that reason, never a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict, with the sentence an on-call engineer reads."""

    name: str
    query: str
    value: float | None
    min: float | None
    max: float | None
    passed: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "value": self.value,
                "min": self.min, "max": self.max, "passed": self.passed, "reason": self.reason}


def bounds_text(low: float | None, high: float | None) -> str:
    parts = [f"min {low:g}" if low is not None else "", f"max {high:g}" if high is not None
             else ""]
    return ", ".join(p for p in parts if p)


def judge(name: str, query: str, low: float | None, high: float | None,
          value: float | None, failure: str = "") -> CheckOutcome:
    """The verdict of one check whose query gave ``value`` (None: ``failure`` says why)."""
    bounds = bounds_text(low, high)
    if value is None:
        return CheckOutcome(name, query, None, low, high, False,
                            f"{failure or 'no value'} ({bounds})")
    inside = (low is None or value >= low) and (high is None or value <= high)
    reason = f"{value:g} {'within' if inside else 'outside'} {bounds}"
    return CheckOutcome(name, query, value, low, high, inside, reason)
