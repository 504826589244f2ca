"""What the slice search found: every test, the slices significantly worse or better, and
which of them fail the verdict (value types and pure functions over them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from jx_mlops.compare.policy import Direction
from jx_mlops.compare.significance import Pairing
from jx_mlops.compare.slices.policy import SlicePolicy

SliceStatus = Literal["worse", "better", "not_significant"]


@dataclass(frozen=True)
class SliceResult:
    """One metric in one slice: base and head on the slice's rows, the change, its 95%
    bootstrap interval, the p-value and the Benjamini-Hochberg q-value across all tests."""

    slice: str
    conditions: tuple[str, ...]
    metric: str
    direction: Direction
    rows: int
    base_rows: int
    base: float
    head: float
    delta: float
    low: float
    high: float
    p: float
    q: float
    status: SliceStatus
    # A two-feature slice whose change is within its one-feature parent's interval: the
    # parent says it already (``region = west`` for ``region = west and age < 33``).
    subsumed_by: str | None = None

    @property
    def harm(self) -> float:
        """How much worse the head is (negative: better), in the metric's unit."""
        return -self.delta if self.direction == "higher" else self.delta

    @property
    def worst_harm(self) -> float:
        """The harm at the worse end of the interval."""
        return -self.low if self.direction == "higher" else self.high

    @property
    def best_harm(self) -> float:
        """The harm at the better end of the interval."""
        return -self.high if self.direction == "higher" else self.low


@dataclass(frozen=True)
class SliceFinding:
    """A slice significantly worse (or better): its most significant metric, and the
    others that moved the same way."""

    lead: SliceResult
    also: tuple[SliceResult, ...] = ()


@dataclass(frozen=True)
class SliceReport:
    """The search over one model's evaluation rows. ``results`` holds every test, most
    significant first; ``notes`` say what was not tested and why."""

    policy: SlicePolicy
    results: tuple[SliceResult, ...]
    slices: int
    rows: int
    pairing: Pairing
    replicates: int
    metrics: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # How many (slice, metric) tests ran: ``results`` may hold only the significant ones
    # (a fork's artifact carries no more).
    tests: int = 0

    def worse(self) -> list[SliceFinding]:
        """Slices significantly worse, most significant first (refinements that their
        one-feature parent explains are left out)."""
        return _findings(self.results, "worse")

    def better(self) -> list[SliceFinding]:
        return _findings(self.results, "better")

    def failures(self) -> list[SliceFinding]:
        """With ``fail_on: regression``: slices significantly worse by more than the
        tolerance on some metric (led by the most significant such metric), but for
        refinements within their one-feature slice's interval (it speaks for them)."""
        if self.policy.fail_on != "regression":
            return []
        beyond = [r for r in self.results if r.status == "worse" and r.subsumed_by is None
                  and r.harm > self.policy.tolerance_for(r.metric)]
        return _group(beyond)


def _group(results: Sequence[SliceResult]) -> list[SliceFinding]:
    by_slice: dict[str, list[SliceResult]] = {}
    for result in sorted(results, key=lambda r: (r.p, -abs(r.harm), r.slice, r.metric)):
        by_slice.setdefault(result.slice, []).append(result)
    return [SliceFinding(rows[0], tuple(rows[1:])) for rows in by_slice.values()]


def _findings(results: Sequence[SliceResult], status: SliceStatus) -> list[SliceFinding]:
    return _group([r for r in results if r.status == status and r.subsumed_by is None])


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def describe_slice_failure(finding: SliceFinding, policy: SlicePolicy) -> str:
    """'accuracy regressed 0.7188 → 0.5859 in slice region = west (-0.1329, q 0.002;
    slices.tolerance 0.05)' for the verdict line."""
    r = finding.lead
    q = f"q {r.q:.2g}" if r.q >= 1e-4 else "q < 0.0001"
    return (f"{r.metric} regressed {_fmt(r.base)} → {_fmt(r.head)} in slice {r.slice} "
            f"({r.delta:+.4g}, {q}; slices.tolerance {_fmt(policy.tolerance_for(r.metric))})")
