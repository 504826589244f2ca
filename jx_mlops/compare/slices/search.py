"""The slice search: every slice, every directed per-row metric, a bootstrap interval and
a q-value each (pure numpy).

For each slice and metric the change ``head - base`` on the slice's rows is resampled
(``resample``: paired when both sides scored the same rows, so their shared noise
cancels). The interval is the 2.5th to 97.5th percentile of the replicates. The p-value
is two-sided, from the change over the replicates' standard deviation (a normal
approximation: a thousand replicates cannot resolve the small p-values that hundreds of
tests need). The q-values are Benjamini-Hochberg's across every test of the search: a
slice is significant when its q-value is at most ``fdr``, so that among the slices
reported, the expected share of chance findings is at most ``fdr``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from jx_mlops.compare.policy import Direction
from jx_mlops.compare.significance import SEED, Predictions
from jx_mlops.compare.slices.findings import SliceReport, SliceResult, SliceStatus
from jx_mlops.compare.slices.forming import Column, SliceSpace, form_slices
from jx_mlops.compare.slices.policy import SlicePolicy
from jx_mlops.compare.slices.resample import Sums, slice_sums
from jx_mlops.compare.slices.rowmetrics import (
    MIN_SUPPORT,
    ROW_METRICS,
    columns_for,
    quantity_matrix,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

REPLICATES = 1000


def benjamini_hochberg(p: Array) -> Array:
    """Benjamini-Hochberg adjusted p-values (q-values) of ``p``, in its order."""
    count = len(p)
    if not count:
        return np.array([])
    order = np.argsort(p, kind="stable")
    ranked = p[order] * count / np.arange(1, count + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    q = np.empty(count)
    q[order] = adjusted
    return q


def _paired(base: Predictions, head: Predictions, base_columns: Mapping[str, Column],
            head_columns: Mapping[str, Column], features: tuple[str, ...]) -> bool:
    """Both sides scored the same rows: same labels and feature values, in the same order."""
    if base.y_true.shape != head.y_true.shape or not np.array_equal(base.y_true, head.y_true):
        return False
    return all(list(base_columns[f]) == list(head_columns[f]) for f in features)


def _sums(space: SliceSpace, base: Predictions, head: Predictions, columns: tuple[str, ...],
          paired: bool, replicates: int, seed: int) -> tuple[Sums, Sums]:
    rng = np.random.default_rng(seed)
    base_q, head_q = quantity_matrix(base, columns), quantity_matrix(head, columns)
    if not paired:
        return (slice_sums(space, 0, base_q, replicates, rng),
                slice_sums(space, 1, head_q, replicates, rng))
    both = slice_sums(space, 0, np.hstack([base_q, head_q]), replicates, rng)
    width = len(columns)
    return (Sums(both.full[:, :width], both.replicates[..., :width]),
            Sums(both.full[:, width:], both.replicates[..., width:]))


def _named(matrix: Array, columns: tuple[str, ...]) -> dict[str, Array]:
    return {name: matrix[..., j] for j, name in enumerate(columns)}


def _p_values(delta: Array, spread: Array) -> Array:
    """Two-sided normal p-values of ``delta / spread``; 1 where nothing moved."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(delta) / spread
    p = np.array([math.erfc(v / math.sqrt(2)) if math.isfinite(v) else math.nan for v in z])
    p[(spread == 0) & (delta == 0)] = 1.0
    return p


def _test(metric: str, sums: tuple[Sums, Sums], columns: tuple[str, ...]
          ) -> dict[str, Array]:
    """Per slice: base, head, change, interval, p-value and support of ``metric``."""
    spec = ROW_METRICS[metric]
    base_full, head_full = (_named(s.full, columns) for s in sums)
    base_reps, head_reps = (_named(s.replicates, columns) for s in sums)
    base, head = spec.value(base_full), spec.value(head_full)
    replicated = spec.value(head_reps) - spec.value(base_reps)  # replicates x slices
    low, high = np.percentile(replicated, [2.5, 97.5], axis=0)
    spread = replicated.std(axis=0, ddof=1)
    support = np.minimum(spec.support(base_full), spec.support(head_full))
    return {"base": base, "head": head, "delta": head - base, "low": low, "high": high,
            "p": _p_values(head - base, spread), "support": support}


def _status(delta: float, q: float, direction: Direction, fdr: float) -> SliceStatus:
    if q > fdr or delta == 0:
        return "not_significant"
    return "worse" if (delta < 0) == (direction == "higher") else "better"


def _subsume(results: list[SliceResult]) -> list[SliceResult]:
    """Mark two-feature findings that their one-feature parent already explains."""
    parents = {(r.conditions[0], r.metric): r for r in results if len(r.conditions) == 1}
    marked = []
    for result in results:
        if len(result.conditions) > 1 and result.status != "not_significant":
            for condition in result.conditions:
                parent = parents.get((condition, result.metric))
                if parent is None or parent.status != result.status:
                    continue
                inside = result.harm <= parent.worst_harm if result.status == "worse" \
                    else -result.harm <= -parent.best_harm
                if inside:
                    result = replace(result, subsumed_by=parent.slice)
                    break
        marked.append(result)
    return marked


def _untestable(directions: Mapping[str, Direction], base: Predictions,
                head: Predictions) -> tuple[list[str], list[str]]:
    """(metrics to test, notes on the directed metrics that cannot be)."""
    metrics = [m for m in directions if m in ROW_METRICS]
    skipped = [m for m in directions if m not in ROW_METRICS]
    notes = [f"{', '.join(skipped)}: not searched per slice (not a sum over rows)"] \
        if skipped else []
    if metrics and (base.y_pred is None or head.y_pred is None):
        notes.append(f"{', '.join(metrics)}: not searched per slice (the predictions have no "
                     "y_pred column)")
        metrics = []
    return metrics, notes


def search_slices(policy: SlicePolicy, base: Predictions, head: Predictions,
                  base_columns: Mapping[str, Column], head_columns: Mapping[str, Column],
                  directions: Mapping[str, Direction], *, replicates: int = REPLICATES,
                  seed: int = SEED) -> SliceReport:
    """Test every slice of ``policy.features`` on every metric of ``directions`` (canonical
    metric name -> which way is better) that is a sum over rows."""
    metrics, notes = _untestable(directions, base, head)
    paired = _paired(base, head, base_columns, head_columns, policy.features)
    space = form_slices(policy, base_columns, None if paired else head_columns)
    notes += [f.problem for f in space.features if f.problem]
    if not paired:
        notes.append("base and head scored different rows: unpaired intervals (wider)")
    report = SliceReport(policy, (), len(space.slices), len(head.y_true),
                         "paired" if paired else "unpaired", replicates, tuple(metrics))
    if not space.slices or not metrics:
        if not space.slices:
            notes.append(f"no slice has {policy.min_rows} rows or more on each side "
                         "(slices.min_rows)")
        return replace(report, notes=tuple(notes))
    columns = columns_for(metrics)
    sums = _sums(space, base, head, columns, paired, replicates, seed)
    tests = [(metric, index, values) for metric in metrics
             for values in [_test(metric, sums, columns)] for index in range(len(space.slices))]
    valid = [(m, i, v) for m, i, v in tests if v["support"][i] >= MIN_SUPPORT
             and math.isfinite(v["p"][i])]
    if len(valid) < len(tests):
        notes.append(f"{len(tests) - len(valid)} slice metrics not tested: fewer than "
                     f"{MIN_SUPPORT} rows or events behind them")
    q = benjamini_hochberg(np.array([v["p"][i] for _m, i, v in valid]))
    results = []
    for (metric, index, v), q_value in zip(valid, q, strict=True):
        piece, direction = space.slices[index], directions[metric]
        results.append(SliceResult(
            piece.name, piece.conditions, metric, direction, piece.rows[1], piece.rows[0],
            float(v["base"][index]), float(v["head"][index]), float(v["delta"][index]),
            float(v["low"][index]), float(v["high"][index]), float(v["p"][index]),
            float(q_value), _status(float(v["delta"][index]), float(q_value), direction,
                                    policy.fdr)))
    results.sort(key=lambda r: (r.p, -abs(r.harm), r.slice, r.metric))
    return replace(report, results=tuple(_subsume(results)), notes=tuple(notes),
                   tests=len(results))
