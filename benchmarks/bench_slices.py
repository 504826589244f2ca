"""The slice search at the issue's size: 100,000 rows, 6 features, depth 2.

    python benchmarks/bench_slices.py

Two pairs of models score the same 100,000 synthetic rows: classifiers judged on accuracy,
precision, recall and F1 (few distinct per-row quantity vectors: the by-class bootstrap)
and regressors judged on MAE and RMSE (continuous errors: the by-row bootstrap, Poisson
weights for every row in every replicate). Six slicing features, as text the way a
predictions CSV gives them: three categorical (5, 4 and 3 levels), three numeric cut into
quartile bands, one with missing values. Each search runs 1,000 paired replicates with
q-values over every slice and metric; the time covers forming the slices and the whole
search (median of 5 runs after a warm-up), as wall time and as CPU time of the process
(all its threads: on a busy machine the wall time grows, the CPU time much less).
Prints a markdown table.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from jx_mlops.compare.policy import Direction
from jx_mlops.compare.significance import Predictions
from jx_mlops.compare.slices.policy import SlicePolicy
from jx_mlops.compare.slices.search import search_slices

ROWS = 100_000
FEATURES = ("region", "segment", "channel", "age", "income", "tenure")


def _text(values: np.ndarray) -> list[str]:
    """As a CSV reader gives them: text, empty where missing."""
    return ["" if v != v else str(v) for v in values.tolist()]


def _columns(rng: np.random.Generator) -> dict[str, list[str]]:
    income = rng.lognormal(10, 0.5, ROWS).round(2)
    income[rng.random(ROWS) < 0.05] = np.nan
    return {
        "region": _text(np.array(["north", "south", "east", "west", "centre"])[
            rng.integers(0, 5, ROWS)]),
        "segment": _text(np.array(["a", "b", "c", "d"])[rng.integers(0, 4, ROWS)]),
        "channel": _text(np.array(["web", "store", "phone"])[rng.integers(0, 3, ROWS)]),
        "age": _text(rng.integers(18, 90, ROWS)),
        "income": _text(income),
        "tenure": _text(rng.exponential(5, ROWS).round(3)),
    }


def _classifiers(rng: np.random.Generator) -> tuple[Predictions, Predictions]:
    truth = rng.integers(0, 2, ROWS).astype(np.float64)
    base_right = rng.random(ROWS) < 0.85
    head_right = np.where(rng.random(ROWS) < 0.2, rng.random(ROWS) < 0.85, base_right)
    return (Predictions(truth, np.where(base_right, truth, 1 - truth)),
            Predictions(truth, np.where(head_right, truth, 1 - truth)))


def _regressors(rng: np.random.Generator) -> tuple[Predictions, Predictions]:
    truth = rng.normal(100, 20, ROWS)
    base = truth + rng.normal(0, 5, ROWS)
    head = base + rng.normal(0, 1, ROWS)
    return Predictions(truth, base), Predictions(truth, head)


def _time(base: Predictions, head: Predictions, columns: dict[str, list[str]],
          directions: dict[str, Direction]) -> tuple[float, float, int, int]:
    policy = SlicePolicy(FEATURES, max_depth=2, min_rows=50)
    search_slices(policy, base, head, columns, columns, directions)
    wall, cpu = [], []
    for _ in range(5):
        started, used = time.perf_counter(), time.process_time()
        report = search_slices(policy, base, head, columns, columns, directions)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return statistics.median(wall), statistics.median(cpu), report.slices, report.tests


def main() -> None:
    rng = np.random.default_rng(7)
    columns = _columns(rng)
    cases: list[tuple[str, tuple[Predictions, Predictions], dict[str, Direction]]] = [
        ("classifier: accuracy, precision, recall, F1", _classifiers(rng),
         {"accuracy": "higher", "precision": "higher", "recall": "higher", "f1": "higher"}),
        ("regressor: MAE, RMSE", _regressors(rng), {"mae": "lower", "rmse": "lower"}),
    ]
    print(f"{ROWS:,} rows, {len(FEATURES)} features, depth 2, 1,000 paired replicates, "
          f"{os.cpu_count()} cores\n")
    print(f"load average at the start: {os.getloadavg()[0]:.1f}\n")
    print("| models | slices | tests (slice x metric) | wall time | CPU time |")
    print("|---|---:|---:|---:|---:|")
    for name, (base, head), directions in cases:
        wall, cpu, slices, tests = _time(base, head, columns, directions)
        print(f"| {name} | {slices:,} | {tests:,} | {wall:.2f} s | {cpu:.2f} s |")


if __name__ == "__main__":
    main()
