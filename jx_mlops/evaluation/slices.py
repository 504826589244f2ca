"""Where is the head worse? The slice search of a model's evaluation rows, read from a
revision: the predictions of both sides and the columns that slice them.

The columns come from the evaluation data the comparison already reads: the predictions
file (``slices.features`` are columns of it), or ``slices.data``, a file with one row per
prediction in the same order. Under trusted evaluation they never come from the pull
request's own claims: the head's predictions file must be an output of the trusted stage
(written by the base's code), and ``slices.data`` is read at the base.
"""

from __future__ import annotations

from collections.abc import Sequence

from jx_mlops.compare.metrics import MetricDelta
from jx_mlops.compare.modelmetrics import HOLDOUT_ROW_SUFFIX
from jx_mlops.compare.policy import Direction
from jx_mlops.compare.significance import Predictions, canonical_metric
from jx_mlops.compare.slices.findings import SliceReport
from jx_mlops.compare.slices.policy import SlicePolicy
from jx_mlops.compare.slices.search import search_slices
from jx_mlops.config.project import ModelConfig
from jx_mlops.evaluation.formats import parse_columns, parse_prediction_table
from jx_mlops.evaluation.snapshot import Snapshot, read_bytes

Columns = dict[str, list[str]]


class NoSlices(Exception):
    """Why the search cannot run: the message is shown where the slices would be."""


def directed_metrics(metrics: Sequence[MetricDelta]) -> dict[str, Direction]:
    """Canonical metric -> direction, for the directed metrics of the test set's files
    (not the holdout's rows, not per-group breakdowns), in the table's order."""
    directions: dict[str, Direction] = {}
    for delta in metrics:
        name = canonical_metric(delta.name)
        if name and delta.policy.direction and not delta.path.endswith(HOLDOUT_ROW_SUFFIX) \
                and delta.status not in ("new", "removed"):
            directions.setdefault(name, delta.policy.direction)
    return directions


def _read(snap: Snapshot, path: str) -> bytes:
    data, reason = read_bytes(snap, path)
    if data is None:
        raise NoSlices(reason or f"{path} cannot be read at {snap.where}")
    return data


def _predictions(snap: Snapshot, path: str, columns: Sequence[str]
                 ) -> tuple[Predictions, Columns]:
    try:
        return parse_prediction_table(_read(snap, path), f"{path} at {snap.where}", columns)
    except ValueError as exc:
        raise NoSlices(str(exc)) from None


def _data_columns(snap: Snapshot, policy: SlicePolicy, rows: int, side: str) -> Columns:
    """``slices.data``'s columns at ``snap``, which must hold one row per prediction."""
    assert policy.data is not None
    where = f"{policy.data} at {snap.where} (slices.data)"
    try:
        count, columns = parse_columns(_read(snap, policy.data), where, policy.features)
    except ValueError as exc:
        raise NoSlices(str(exc)) from None
    if count != rows:
        raise NoSlices(f"{where} has {count:,} rows, the {side}'s predictions {rows:,}: "
                       "it must hold one row per prediction, in the same order")
    return columns


def _side(snap: Snapshot, model: ModelConfig, policy: SlicePolicy, data_at: Snapshot,
          side: str) -> tuple[Predictions, Columns]:
    assert model.predictions is not None
    inline = () if policy.data else policy.features
    predictions, columns = _predictions(snap, model.predictions, inline)
    if policy.data:
        columns = _data_columns(data_at, policy, len(predictions.y_true), side)
    return predictions, columns


def _check_trusted(model: ModelConfig, head: Snapshot) -> None:
    assert model.predictions is not None
    if not head.overlaid(model.predictions):
        raise NoSlices(f"under trusted evaluation the slices come from what the trusted "
                       f"stage writes, and {model.predictions} is not one of its outputs "
                       "here (the PR's own file could say anything)")


def _same_rows(base: Predictions, head: Predictions, policy: SlicePolicy) -> None:
    """``slices.data`` read at the base describes the head's rows only if they are the
    base's rows."""
    import numpy as np

    if base.y_true.shape != head.y_true.shape or not np.array_equal(base.y_true, head.y_true):
        raise NoSlices(f"under trusted evaluation {policy.data} (slices.data) is read at the "
                       "base, and the head's predictions are not for the base's rows")


def slices_for(model: ModelConfig, metrics: Sequence[MetricDelta], base: Snapshot,
               head: Snapshot, *, trusted: bool = False) -> tuple[SliceReport | None, str | None]:
    """The slice search of ``model`` between ``base`` and ``head``, or None and why not.
    ``trusted``: trusted evaluation is on (features never from the PR's own files)."""
    policy = model.slices
    if policy is None or model.predictions is None:
        return None, None
    directions = directed_metrics(metrics)
    if not directions:
        return None, "slices not searched: no metric with a direction is on both sides"
    try:
        if trusted:
            _check_trusted(model, head)
        base_preds, base_columns = _side(base, model, policy, base, "base")
        head_preds, head_columns = _side(head, model, policy, base if trusted else head,
                                         "head")
        if trusted and policy.data:
            _same_rows(base_preds, head_preds, policy)
    except NoSlices as exc:
        return None, f"slices not searched: {exc}"
    return search_slices(policy, base_preds, head_preds, base_columns, head_columns,
                         directions), None
