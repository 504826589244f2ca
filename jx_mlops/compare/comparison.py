"""A whole base-vs-head comparison and its verdict (pure logic, no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from jx_mlops.compare.charts import Chart
from jx_mlops.compare.cost import CostComparison
from jx_mlops.compare.datadiff import DataChange
from jx_mlops.compare.metrics import MetricDelta, ParamChange, head_problem
from jx_mlops.compare.scoring import TrustedEvaluation
from jx_mlops.compare.significance import SignificanceResult
from jx_mlops.compare.slices.findings import SliceReport, describe_slice_failure


@dataclass(frozen=True)
class Revision:
    """One side of the comparison: a label for people and the commit (None = work tree)."""

    label: str
    sha: str | None

    @property
    def short(self) -> str:
        return self.sha[:7] if self.sha else "workspace"


@dataclass(frozen=True)
class Coverage:
    """How many of the metrics files one side declares were read, and why the others
    were not (``unread``: (path, reason) pairs)."""

    declared: int
    read: int
    unread: tuple[tuple[str, str], ...] = ()

    @property
    def blind(self) -> bool:
        """Metrics are declared and none could be read: nothing to judge by."""
        return self.declared > 0 and self.read == 0

    def line(self, side: str) -> str:
        """'read 5 of 5 metrics files DVC declares at the head'."""
        files = "file" if self.declared == 1 else "files"
        return f"read {self.read} of {self.declared} metrics {files} declared at the {side}"


@dataclass(frozen=True)
class ModelComparison:
    """Everything compared for one model of mlops.yaml."""

    model: str
    metrics: tuple[MetricDelta, ...]
    params: tuple[ParamChange, ...] = ()
    base_problems: tuple[str, ...] = ()
    head_problems: tuple[str, ...] = ()
    significance: tuple[SignificanceResult, ...] = ()
    significance_note: str | None = None
    trend: tuple[Chart, ...] = ()
    base_coverage: Coverage | None = None
    head_coverage: Coverage | None = None
    # Said once in the report, not a problem of either side (moved files, old policies).
    notes: tuple[str, ...] = ()
    # Where the head is worse: the slice search (None: not configured, or see the note).
    slices: SliceReport | None = None
    slices_note: str | None = None

    def significance_of(self, delta: MetricDelta) -> SignificanceResult | None:
        """The bootstrap result that belongs to this metric row, if one was computed."""
        from jx_mlops.compare.modelmetrics import HOLDOUT_ROW_SUFFIX
        from jx_mlops.compare.significance import canonical_metric

        if delta.path.endswith(HOLDOUT_ROW_SUFFIX):
            return None  # the bootstrap ran over the test set's predictions, not these
        name = canonical_metric(delta.name)
        return next((s for s in self.significance if s.metric == name), None)


@dataclass(frozen=True)
class StageLineage:
    """A pipeline stage's fingerprint (hash of its locked deps, params, outs) on each side."""

    stage: str
    base: str | None
    head: str | None

    @property
    def changed(self) -> bool:
        return self.base != self.head


@dataclass(frozen=True)
class Verdict:
    """Pass or fail, with the one line a reviewer reads first."""

    passed: bool
    line: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def word(self) -> str:
        return "pass" if self.passed else "fail"


@dataclass(frozen=True)
class Comparison:
    """The result of comparing every model between two revisions."""

    base: Revision
    head: Revision
    models: tuple[ModelComparison, ...]
    verdict: Verdict
    data: tuple[DataChange, ...] = ()
    plots: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()
    lineage: tuple[StageLineage, ...] = ()
    costs: CostComparison | None = None
    # Who scored the head: None when the PR's own evaluation did (no trusted stage).
    trusted: TrustedEvaluation | None = None


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def describe_failure(delta: MetricDelta) -> str:
    """'accuracy regressed 0.912 → 0.895 (-1.9%, tolerance 0.005)' and the like."""
    from jx_mlops.compare.modelmetrics import HOLDOUT_ROW_SUFFIX

    # A holdout row says so: its name alone would read as the PR's test-set metric.
    name = f"holdout {delta.name}" if delta.path.endswith(HOLDOUT_ROW_SUFFIX) else delta.name
    problem = head_problem(delta)
    if problem is not None:
        judged = "has a floor or ceiling" if delta.status == "failed_threshold" else \
            f"is {delta.policy.direction}-is-better"
        return f"{name} is {problem} ({judged}, so it cannot pass)"
    if delta.status == "failed_threshold":
        bounds = []
        if delta.policy.min is not None:
            bounds.append(f"min {_fmt(delta.policy.min)}")
        if delta.policy.max is not None:
            bounds.append(f"max {_fmt(delta.policy.max)}")
        return f"{name} is {delta.head!r} (outside {', '.join(bounds)})"
    return (f"{name} regressed {_fmt(delta.base)} → {_fmt(delta.head)} "
            f"({_change_and_tolerance(delta)})")


def _percent(fraction: float, sign: str = "") -> str:
    return f"{fraction * 100:{sign}.3g}%"


def _change_and_tolerance(delta: MetricDelta) -> str:
    """The change and what the tolerance forgives, in the metric's own unit; when the
    tolerance that applies is relative (``rel_tolerance``), as percentages of the base too,
    so neither has to be converted to compare them."""
    change = f"{delta.delta:+.4g}" if delta.delta is not None else ""
    rel_tolerance = delta.policy.rel_tolerance
    relative = delta.allowed > delta.policy.tolerance and rel_tolerance > 0
    if not relative or delta.rel_delta is None:
        return f"{change + ', ' if change else ''}tolerance {_fmt(delta.allowed)}"
    return (f"{change} = {_percent(delta.rel_delta, '+')}, tolerance {_fmt(delta.allowed)} "
            f"= {_percent(rel_tolerance)} of {_fmt(delta.base)}")


def _problems(models: Sequence[ModelComparison]) -> list[str]:
    """Each model's head problems as 'model: problem'; one every model shares (a stale
    stage of the one pipeline) is said once, without a model."""
    shared = set.intersection(*(set(m.head_problems) for m in models)) \
        if len(models) > 1 else set()
    said = [p for p in dict.fromkeys(p for m in models for p in m.head_problems)
            if p in shared]
    return said + [f"{m.model}: {p}" for m in models for p in m.head_problems
                   if p not in shared]


def decide(models: Sequence[ModelComparison]) -> Verdict:
    """The verdict: fail on any regression, broken threshold, slice regression that
    ``slices.fail_on`` fails, or unreadable head metrics, and when the head declares
    metrics files of which none could be read."""
    counts: Counter[str] = Counter(d.status for m in models for d in m.metrics)
    failing = [d for m in models for d in m.metrics if d.failing]
    # Broken floors/ceilings first (absolute promises), then regressions, as in the table.
    failing.sort(key=lambda d: (d.status != "failed_threshold", d.path, d.name))
    reasons = [describe_failure(d) for d in failing]
    reasons += [describe_slice_failure(f, m.slices.policy) for m in models if m.slices
                for f in m.slices.failures()]
    reasons += _problems(models)
    reasons += [f"{m.model}: none of the {m.head_coverage.declared} metrics files declared "
                "at the head could be read" for m in models
                if m.head_coverage is not None and m.head_coverage.blind and not m.head_problems]
    tally = ", ".join(f"{counts[s]:,} {s.replace('_', ' ')}" for s in
                      ("regressed", "failed_threshold", "unreadable", "improved",
                       "within_tolerance", "within_noise", "changed", "new", "removed",
                       "unchanged") if counts[s])
    passed = not reasons
    if passed:
        line = f"pass: {tally or 'no metrics'}"
    else:
        more = f" (+{len(reasons) - 2} more)" if len(reasons) > 2 else ""
        line = f"fail: {'; '.join(reasons[:2])}{more}; {tally or 'no metrics'}"
    return Verdict(passed=passed, line=line, counts=dict(counts))
