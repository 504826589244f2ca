"""Who scored a pull request's model: the base's trusted stage, and what the PR's own
evaluation claimed beside it (value objects of ``compare.trusted``; pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

TrustedMode = Literal["enforced", "advisory"]
# What a self-reported value that differs from the trusted one does: flagged, or failing.
OnMismatch = Literal["flag", "fail"]


@dataclass(frozen=True)
class SelfReported:
    """One metric of the trusted stage's files: measured by the base's stage, and as the
    PR's own evaluation reported it (None: absent on that side)."""

    model: str
    path: str
    name: str
    trusted: Any
    reported: Any

    @property
    def differs(self) -> bool:
        return not _same(self.trusted, self.reported)


@dataclass(frozen=True)
class TrustedEvaluation:
    """Who scored the PR: ``stage`` as of ``base`` (its label and commit).

    ``problem`` says why the base's stage could not score the PR's model; then the
    verdict fails (``enforced``) or falls back to the PR's own scores (``advisory``).
    ``where`` is set when the scoring ran somewhere a reviewer should know about (the
    fork's own job). ``on_mismatch`` ``fail``: a self-reported value that differs from
    the trusted one fails the PR.
    """

    stage: str
    base: str
    base_sha: str | None
    mode: TrustedMode = "enforced"
    problem: str | None = None
    rows: tuple[SelfReported, ...] = ()
    where: str | None = None
    on_mismatch: OnMismatch = "flag"

    @property
    def scored(self) -> bool:
        return self.problem is None

    @property
    def differences(self) -> tuple[SelfReported, ...]:
        return tuple(r for r in self.rows if r.differs)


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        both_nan = math.isnan(a) and math.isnan(b)
        return both_nan or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b) and type(a) is type(b)
