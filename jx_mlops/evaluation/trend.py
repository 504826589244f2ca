"""Metric history: each directed metric over the last commits of the base branch."""

from __future__ import annotations

from jx_mlops.compare.charts import Chart, trend_chart
from jx_mlops.compare.metrics import MetricDelta
from jx_mlops.compare.values import kind_of
from jx_mlops.config.project import ModelConfig
from jx_mlops.evaluation.snapshot import Snapshot, read_structured

MAX_TREND_METRICS = 4


def metric_trend(model: ModelConfig, deltas: tuple[MetricDelta, ...], base: Snapshot,
                 head_label: str, commits: int) -> tuple[Chart, ...]:
    """Charts of the model's directed metrics at the last ``commits`` base commits + head.

    Metrics with a floor or ceiling come first (they are the ones that can fail); past
    ``MAX_TREND_METRICS``, the last chart's note names the metrics left out.
    """
    directed = [d for d in deltas if d.policy.direction and d.head_kind == "number"]
    directed.sort(key=lambda d: d.policy.min is None and d.policy.max is None)
    left_out = [d.name for d in directed[MAX_TREND_METRICS:]]
    directed = directed[:MAX_TREND_METRICS]
    if not directed or base.sha is None or commits < 1:
        return ()
    history = list(reversed(base.repo.log(base.sha, max_count=commits, first_parent=True)))
    values: dict[tuple[str, str], list[float | None]] = {(d.path, d.name): [] for d in directed}
    for commit in history:
        snap = Snapshot(base.repo, base.root, commit.sha, commit.sha[:7], prefix=base.prefix)
        files = {path: read_structured(snap, path)[0] or {} for path in {d.path for d in directed}}
        for d in directed:
            value = files[d.path].get(d.name)
            values[(d.path, d.name)].append(value if kind_of(value) == "number" else None)
    labels = [c.sha[:7] for c in history] + [head_label]
    charts = []
    for index, d in enumerate(directed):
        series = [*values[(d.path, d.name)], d.head]
        note = f"{base.label} history, then {head_label}"
        if left_out and index == len(directed) - 1:
            note += f"; not charted (at most {MAX_TREND_METRICS}): {', '.join(left_out)}"
        chart = trend_chart(d.name, labels, series, note=note)
        if chart is not None:
            charts.append(chart)
    return tuple(charts)
