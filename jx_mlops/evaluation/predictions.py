"""Per-sample predictions at a revision, and the significance of metric changes.

Format (documented in docs/report.md): a CSV (or TSV) file with a header row and a column
``y_true`` plus ``y_pred`` (hard predictions: classes, or values for regression) and/or
``y_score`` (the positive-class probability of a binary classifier). Other columns (ids,
sensitive attributes) are ignored. Rows must be in the same order at base and head for the
comparison to be paired; if the test set changed, an unpaired bootstrap is used.
"""

from __future__ import annotations

from jx_mlops.compare.metrics import MetricDelta
from jx_mlops.compare.significance import (
    Predictions,
    SignificanceResult,
    bootstrap_many,
    canonical_metric,
    supports,
)
from jx_mlops.evaluation.formats import parse_predictions
from jx_mlops.evaluation.snapshot import Snapshot, read_bytes


def read_predictions(snap: Snapshot, path: str) -> tuple[Predictions | None, str | None]:
    """Predictions of ``snap``, or None and why they are unavailable."""
    data, reason = read_bytes(snap, path)
    if data is None:
        return None, reason
    try:
        return parse_predictions(data, f"{path} at {snap.where}"), None
    except ValueError as exc:
        return None, str(exc)


def significance_for(metrics: tuple[MetricDelta, ...], path: str, base: Snapshot,
                     head: Snapshot) -> tuple[tuple[SignificanceResult, ...], str | None]:
    """Bootstrap intervals for the metrics of a model that predictions can recompute."""
    wanted = sorted({m for d in metrics if (m := canonical_metric(d.name))
                     and d.status not in ("new", "removed")})
    if not wanted:
        return (), None
    base_preds, base_reason = read_predictions(base, path)
    head_preds, head_reason = read_predictions(head, path)
    if base_preds is None or head_preds is None:
        return (), f"no significance test: {base_reason or head_reason}"
    usable = [m for m in wanted if supports(m, base_preds) and supports(m, head_preds)]
    if not usable:
        return (), f"no significance test: {path} lacks the columns these metrics need"
    return tuple(bootstrap_many(usable, base_preds, head_preds)), None
