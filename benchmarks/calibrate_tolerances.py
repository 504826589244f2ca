"""Measure each quickstart's metric noise at its test-set size and propose tolerances.

    python benchmarks/calibrate_tolerances.py [QUICKSTART ...] [--seeds N] [--seeds-only]

For every quickstart named (default: all whose packages are installed) the script creates
the project in a throwaway JX_MLOPS_HOME (`jx-mlops create` runs the pipeline once), then
re-trains and re-evaluates it N times on the same test set: once as shipped, then N - 1
times with another `train.seed` and another training set, a bootstrap draw (rows with
replacement, same size) of the shipped one. That is the noise of a retrain: what the same
recipe gives on another sample of the same population. The seed alone is not enough:
LightGBM (no bagging) and gradient boosting (subsample 1.0) give the same model whatever
the seed, yet their metrics move as much as the random forest's when the data does
(`--seeds-only` shows it). For every metric that mlops.yaml gates with a direction:

- shipped: the quickstart's value; and the range over the N retrains;
- retrain noise: the 95th percentile of |difference| between two of the N retrains
  (N (N - 1) / 2 pairs): how far the metric moves when nothing but chance changed;
- paired half-width: the paired bootstrap 95% half-width of the change between the
  shipped model and a retrain (median over retrains), on the test set's rows: the noise
  `significance: required` forgives where jx-mlops can bootstrap the metric (fairness
  gaps are recomputed here the way fairlearn computes them, per replicate);
- sampling half-width: the 95% bootstrap half-width of the shipped model's metric itself,
  i.e. how precisely a test set of this size measures it;
- the tolerance in mlops.yaml, and the one proposed: the retrain noise rounded up to one
  significant digit, never below one test row's worth of the metric, in the policy's
  unit (relative to the shipped value for a ``rel_tolerance``).

`evaluate.importance_repeats` is set to 1 during the retrains: permutation importance is a
plot, not a gated metric, and it is most of the evaluate stage's time. Resampling and
bootstrap draws use fixed seeds, so a re-run on the same packages prints the same table
(PyTorch's CPU kernels may differ in the last digits between machines).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import hermetic_env, workdir

from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.significance import METRICS, Predictions, canonical_metric
from jx_mlops.compare.values import flatten
from jx_mlops.config.project import load_config
from jx_mlops.project.quickstarts import list_quickstarts, missing_requirements
from jx_mlops.project.retrain import apply_settings, parse_setting

REPLICATES = 1000
BOOT_SEED = 20240917
Weights = np.ndarray
GroupMetric = Callable[["Run", Weights], np.ndarray]


@dataclass(frozen=True)
class Run:
    """One retrain's gated metric values and per-sample predictions."""

    seed: int
    values: dict[str, float]
    predictions: Predictions
    groups: np.ndarray


def _read_predictions(path: Path) -> tuple[Predictions, np.ndarray]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = rows[0].keys()

    def column(name: str) -> np.ndarray | None:
        return np.array([float(r[name]) for r in rows]) if name in columns else None

    group_column = next(c for c in columns if c not in ("y_true", "y_pred", "y_score"))
    truth = column("y_true")
    assert truth is not None
    return (Predictions(truth, column("y_pred"), column("y_score")),
            np.array([r[group_column] for r in rows]))


def _resample_training_set(project: Path, original: str, seed: int) -> None:
    """data/prepared/train.csv as a bootstrap draw (rows with replacement) of ``original``:
    another training set from the same population, of the same size."""
    header, *rows = original.splitlines(keepends=True)
    picks = np.random.default_rng(seed).integers(0, len(rows), size=len(rows))
    (project / "data" / "prepared" / "train.csv").write_text(
        header + "".join(rows[i] for i in picks))


def _retrain(project: Path, env: dict[str, str], seed: int, metric_files: Sequence[str],
             predictions: str, original: str | None) -> Run:
    """Train and evaluate with ``train.seed`` = ``seed``, on a bootstrap draw of the
    training set when ``original`` (its text) is given, else on the training set itself."""
    if original is not None:
        _resample_training_set(project, original, seed)
    params = project / "params.yaml"
    settings = [parse_setting(f"train.seed={seed}", "params.yaml"),
                parse_setting("evaluate.importance_repeats=1", "params.yaml")]
    params.write_text(apply_settings(params.read_text(), settings, "params.yaml"))
    for stage in ("train", "evaluate"):
        subprocess.run([sys.executable, f"src/{stage}.py"], cwd=project, env=env, check=True,
                       capture_output=True)
    values: dict[str, float] = {}
    for name in metric_files:
        if (project / name).exists():
            flat = flatten(json.loads((project / name).read_text()))
            values.update({k: float(v) for k, v in flat.items()
                           if isinstance(v, (int, float)) and not isinstance(v, bool)})
    pred, groups = _read_predictions(project / predictions)
    return Run(seed, values, pred, groups)


def _group_rates(run: Run, w: Weights, values: np.ndarray, mask: np.ndarray | None = None
                 ) -> np.ndarray:
    """(replicates x groups) weighted mean of ``values`` per group (rows in ``mask``)."""
    columns = []
    for group in np.unique(run.groups):
        member = (run.groups == group) & (True if mask is None else mask)
        weight = w @ member.astype(w.dtype)
        columns.append((w @ (values * member).astype(w.dtype)) / np.where(weight > 0, weight, 1))
    return np.stack(columns, axis=1)


def _gap(table: np.ndarray) -> np.ndarray:
    result: np.ndarray = table.max(axis=1) - table.min(axis=1)
    return result


def _dp_difference(run: Run, w: Weights) -> np.ndarray:
    assert run.predictions.y_pred is not None
    return _gap(_group_rates(run, w, run.predictions.y_pred))


def _eo_difference(run: Run, w: Weights) -> np.ndarray:
    p = run.predictions
    assert p.y_pred is not None
    tpr = _gap(_group_rates(run, w, p.y_pred, p.y_true == 1))
    fpr = _gap(_group_rates(run, w, p.y_pred, p.y_true == 0))
    result: np.ndarray = np.maximum(tpr, fpr)
    return result


# The regressor's gap between the groups' mean predictions: the same computation.
_mean_prediction_difference = _dp_difference


def _mae_ratio(run: Run, w: Weights) -> np.ndarray:
    p = run.predictions
    assert p.y_pred is not None
    table = _group_rates(run, w, np.abs(p.y_true - p.y_pred))
    result: np.ndarray = table.min(axis=1) / table.max(axis=1)
    return result


# The fairness metrics the quickstarts gate, recomputed per bootstrap replicate the way
# fairlearn computes them once (kit/fairness.py in the quickstarts).
FAIRNESS: dict[str, GroupMetric] = {
    "demographic_parity_difference": _dp_difference,
    "equalized_odds_difference": _eo_difference,
    "mean_prediction_difference": _mean_prediction_difference,
    "mae_ratio": _mae_ratio,
}


def _metric_fn(name: str) -> GroupMetric | None:
    leaf = name.rsplit(".", 1)[-1]
    if leaf in FAIRNESS:
        return FAIRNESS[leaf]
    canonical = canonical_metric(name)
    if canonical is None:
        return None
    fn = METRICS[canonical][0]
    return lambda run, w: fn(run.predictions, w)


def _weights(n: int) -> Weights:
    rng = np.random.default_rng(BOOT_SEED)
    draws = rng.integers(0, n, size=(REPLICATES, n)) + (np.arange(REPLICATES) * n)[:, None]
    weights: Weights = np.bincount(draws.ravel(), minlength=REPLICATES * n).reshape(
        REPLICATES, n).astype(np.float64)
    return weights


def _half_width(samples: np.ndarray) -> float:
    low, high = np.percentile(samples, [2.5, 97.5])
    return float(high - low) / 2


def nice_ceil(value: float) -> float:
    """``value`` rounded up to one significant digit (0.0171 -> 0.02, 0.0746 -> 0.08)."""
    if value <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    return float(f"{math.ceil(value / power - 1e-9) * power:.10g}")


@dataclass(frozen=True)
class Row:
    metric: str
    policy: MetricPolicy
    value: float
    low: float
    high: float
    retrain_noise: float
    paired_half_width: float | None
    sampling_half_width: float | None
    one_row: float

    @property
    def relative(self) -> bool:
        return self.policy.rel_tolerance > 0 and self.policy.tolerance == 0

    @property
    def proposed(self) -> float:
        """In the policy's own unit: absolute, or relative to the value when the policy's
        tolerance is relative."""
        noise = max(self.retrain_noise, self.one_row)
        return nice_ceil(noise / abs(self.value) if self.relative else noise)

    @property
    def current(self) -> float:
        return self.policy.rel_tolerance if self.relative else self.policy.tolerance


def _row(metric: str, policy: MetricPolicy, runs: Sequence[Run], w: Weights) -> Row:
    values = np.array([r.values[metric] for r in runs])
    diffs = [abs(a - b) for a, b in itertools.combinations(values, 2)]
    fn = _metric_fn(metric)
    paired = sampling = None
    one_row = 0.0
    if fn is not None:
        first = fn(runs[0], w)
        sampling = _half_width(first)
        paired = float(np.median([_half_width(fn(r, w) - first) for r in runs[1:]]))
        n = len(runs[0].predictions.y_true)
        # One test row more or less counted right: the finest step of a count-based metric.
        one_row = abs(float(fn(runs[0], np.ones((1, n)))[0])) / n if metric.endswith(
            ("mae", "rmse")) else 1 / n
    return Row(metric, policy, float(values[0]), float(values.min()), float(values.max()),
               float(np.percentile(diffs, 95)), paired, sampling, one_row)


def calibrate(quickstart: str, seeds: int, base: Path, *, resample: bool
              ) -> tuple[int, list[Row]]:
    env = hermetic_env(base)
    project = base / quickstart
    subprocess.run([sys.executable, "-m", "jx_mlops", "-q", "create", quickstart, "--quickstart",
                    quickstart, "--dir", str(project)], cwd=base, env=env, check=True,
                   capture_output=True)
    model = load_config(project).models[0]
    gated = {k: v for k, v in model.policy.items() if v.direction is not None}
    shipped = 7  # train.seed in every quickstart's params.yaml
    original = (project / "data" / "prepared" / "train.csv").read_text() if resample else None
    assert model.predictions is not None
    # The first run is the quickstart as shipped (its seed, its training set): the value
    # column; the others retrain with other seeds (and training sets).
    runs = [_retrain(project, env, shipped, model.metrics, model.predictions, None)]
    runs += [_retrain(project, env, seed, model.metrics, model.predictions, original)
             for seed in [s for s in range(seeds + 1) if s != shipped][:seeds - 1]]
    n = len(runs[0].predictions.y_true)
    w = _weights(n)
    return n, [_row(metric, policy, runs, w) for metric, policy in gated.items()]


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def table(quickstart: str, n: int, seeds: int, rows: Sequence[Row], resample: bool) -> str:
    what = "retrains: seed and training set drawn anew" if resample else "retrains: seed only"
    lines = [f"### `{quickstart}` ({n} test rows, {seeds} {what})", "",
             "| metric | shipped | range over retrains | retrain noise (p95) | paired half-width "
             "| sampling half-width | tolerance was | proposed |",
             "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        unit = " (rel)" if r.relative else ""
        lines.append(f"| {r.metric} | {r.value:.4f} | {r.low:.4f} to {r.high:.4f} | "
                     f"{r.retrain_noise:.4f} | {_fmt(r.paired_half_width)} | "
                     f"{_fmt(r.sampling_half_width)} | {r.current:g}{unit} | "
                     f"{r.proposed:g}{unit} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("quickstarts", nargs="*")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seeds-only", action="store_true",
                        help="keep the training set: only the seed changes between retrains "
                             "(a learner that ignores its seed then shows no noise)")
    args = parser.parse_args()
    names = args.quickstarts or [q.name for q in list_quickstarts()
                                 if not missing_requirements(q)]
    for name in names:
        n, rows = calibrate(name, args.seeds, workdir(f"calibrate-{name}"),
                            resample=not args.seeds_only)
        print(table(name, n, args.seeds, rows, not args.seeds_only), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
