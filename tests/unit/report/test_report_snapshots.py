"""Snapshots of the PR comment for the situations reviewers meet (pure rendering)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kit.snapshot import assert_snapshot
from rich.cells import cell_len
from rich.console import Console

from jx_mlops.compare.charts import bar_chart, curve_chart, trend_chart
from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, StageLineage, decide
from jx_mlops.compare.cost import CostComparison, RunRecord, StageCost
from jx_mlops.compare.datadiff import compare_data
from jx_mlops.compare.metrics import compare_metrics, compare_params
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.significance import Predictions, bootstrap_many
from jx_mlops.dvc.lockfile import OutputInfo
from jx_mlops.report.html import render_html
from jx_mlops.report.jsonout import comparison_to_json
from jx_mlops.report.markdown import COMMENT_LIMIT, github_length, render_comment
from jx_mlops.report.terminal import render_terminal

POLICY = {"accuracy": MetricPolicy("higher", tolerance=0.005),
          "f1": MetricPolicy("higher", tolerance=0.01),
          "loss": MetricPolicy("lower", rel_tolerance=0.05),
          "roc_auc": MetricPolicy("higher", min=0.75)}
BASE = Revision("main", "1" * 40)
PLOT_NOTE = "Calibration: an image (plots/calibration.png), not charted; see `dvc plots diff`"
HEAD = Revision("PR #7", "2" * 40)


def policy(_path: str, key: str) -> MetricPolicy:
    return POLICY.get(key, MetricPolicy())


def build(base: dict[str, object] | None, head: dict[str, object] | None, *,
          problems: tuple[str, ...] = (), extras: bool = False) -> Comparison:
    rows = compare_metrics("metrics.json", base, head, policy)
    params = compare_params("params.yaml", {"train.lr": 0.1, "train.depth": 4},
                            {"train.lr": 0.05, "train.depth": 4})
    significance = ()
    trend = ()
    if extras:
        rng = np.random.default_rng(1)
        y = rng.integers(0, 2, 400).astype(float)
        score = np.clip(y * 0.3 + rng.normal(0.35, 0.2, 400), 0, 1)
        better = np.clip(score + (y - 0.5) * 0.1, 0, 1)
        significance = tuple(bootstrap_many(
            ["accuracy", "roc_auc"], Predictions(y, (score > 0.5) * 1.0, score),
            Predictions(y, (better > 0.5) * 1.0, better), replicates=500))
        trend = tuple(c for c in [trend_chart("accuracy", ["a1", "b2", "c3", "PR #7"],
                                              [0.81, 0.82, None, 0.85], "main, then PR #7")]
                      if c)
    model = ModelComparison("churn", tuple(rows), tuple(params), base_problems=problems,
                            significance=significance, trend=trend)
    if not extras:
        return Comparison(BASE, HEAD, (model,), decide([model]))
    data = compare_data([OutputInfo("data/raw.csv", "aa", 1000, stage="data/raw.csv.dvc")],
                        [OutputInfo("data/raw.csv", "bb", 1500, stage="data/raw.csv.dvc"),
                         OutputInfo("data/extra.csv", "cc", 10, stage="data/extra.csv.dvc")])
    roc = curve_chart("ROC", "fpr", "tpr", [("base main", [(0, 0), (0.2, 0.6), (1, 1)]),
                                             ("head PR #7", [(0, 0), (0.2, 0.7), (1, 1)])])
    # The sklearn-classifier quickstart's plots/importance.json (bar_horizontal_sorted).
    importance = bar_chart("Permutation importance (test set)", "feature", "importance",
                           [("base main", {"late_payments": 0.1156, "credit_years": 0.0669,
                                           "income": 0.0389, "age": -0.0051}),
                            ("head PR #7", {"late_payments": 0.1021, "credit_years": 0.0712,
                                            "income": 0.0402, "debt_ratio": 0.0605})],
                           sort=True)
    costs = CostComparison(
        RunRecord("1" * 40, "2026-01-01T00:00:00Z", (StageCost("train", True, 41.0, 310.0),)),
        RunRecord("2" * 40, "2026-01-02T00:00:00Z", (StageCost("train", True, 63.0, 402.0),
                                                     StageCost("prepare", False)),
                  run_url="https://ci.example/run/9"))
    return Comparison(BASE, HEAD, (model,), decide([model]), data=tuple(data),
                      plots=tuple(c for c in (roc, importance) if c),
                      notes=(PLOT_NOTE,), lineage=(StageLineage("train", "ab", "cd"),),
                      costs=costs)


def test_improvement() -> None:
    body = render_comment(build({"accuracy": 0.80, "f1": 0.70, "loss": 0.5, "roc_auc": 0.8},
                                {"accuracy": 0.85, "f1": 0.72, "loss": 0.45, "roc_auc": 0.82},
                                extras=True))
    assert_snapshot("improvement.md", body)


def test_every_format_draws_the_bar_chart_or_names_what_it_does_not_draw() -> None:
    comparison = build({"accuracy": 0.80}, {"accuracy": 0.85}, extras=True)
    markdown = render_comment(comparison)
    assert markdown.count("xychart-beta horizontal") == 1
    assert ('    x-axis "feature" ["late_payments", "credit_years", "debt_ratio", "income", '
            '"age"]') in markdown  # sorted by head's value, a side's missing bar is 0
    assert "    bar [0.1021, 0.0712, 0.0605, 0.0402, 0]" in markdown
    assert ("bars: head PR \\#7; line: base main; 0 where a side has no such bar: "
            "debt\\_ratio \\(base\\), age \\(head\\)") in markdown
    html = render_html(comparison)
    assert 'aria-label="Permutation importance (test set)"' in html
    assert "<title>head PR #7: 0.0605</title>" in html
    data = comparison_to_json(comparison)
    assert [(p["title"], p["kind"]) for p in data["plots"]] == [
        ("ROC", "line"), ("Permutation importance (test set)", "bar")]
    console = Console(width=200, record=True)
    console.print(render_terminal(comparison))
    terminal = console.export_text()
    assert "2 plots (ROC, Permutation importance (test set))" in terminal
    for text in (markdown, html, terminal, json.dumps(data)):
        assert "plots/calibration.png" in text


def test_regression_beyond_tolerance() -> None:
    body = render_comment(build({"accuracy": 0.912, "f1": 0.70, "loss": 0.5, "roc_auc": 0.8},
                                {"accuracy": 0.895, "f1": 0.70, "loss": 0.6, "roc_auc": 0.7}))
    assert body.splitlines()[3].startswith(
        "**fail: roc\\_auc is 0.7 \\(outside min 0.75\\); accuracy regressed 0.912 → 0.895")
    assert_snapshot("regression.md", body)


def test_new_and_removed_metrics() -> None:
    body = render_comment(build({"accuracy": 0.8, "old_metric": 3, "flag": True},
                                {"accuracy": 0.8, "new_metric": [1, 2], "flag": False,
                                 "loss": float("nan")}))
    assert_snapshot("new_removed.md", body)


def test_missing_base() -> None:
    body = render_comment(build(None, {"accuracy": 0.8, "f1": 0.7},
                                problems=("metrics.json does not exist at main (1111111)",)))
    assert "Base metrics unavailable:** metrics.json does not exist at main" in body
    assert_snapshot("missing_base.md", body)


def test_hostile_metric_names() -> None:
    hostile = {"<img src=x onerror=alert(1)>": 1.0, "@octocat please look": 2.0,
               "`code` [link](https://evil.example) **bold**": 3.0,
               "</details><details open>": 4.0, "| pipe |": 5.0,
               "line\nbreak": 6.0, "<!-- jx-mlops:report id=default -->": 7.0}
    body = render_comment(build(hostile, {k: v + 1 for k, v in hostile.items()}))
    assert "<img" not in body and "@octocat" not in body and "](https" not in body
    assert body.count("<details>") == body.count("</details>")
    assert body.count("<!-- jx-mlops:report") == 1
    assert_snapshot("hostile.md", body)


@pytest.mark.parametrize("count", [10_000])
def test_ten_thousand_metrics_fit_the_limit(count: int) -> None:
    base = {f"layer_{i:05d}.weight_norm": i / 10 for i in range(count)}
    head = {k: v + (0.5 if i % 3 else 0) for i, (k, v) in enumerate(base.items())}
    body = render_comment(build(base, head))
    assert github_length(body) <= COMMENT_LIMIT
    assert "more rows (see the full HTML report)" in body
    assert "Shortened to fit" in body or "shortened to fit" in body
    assert_snapshot("ten_thousand.md", body)


def test_trusted_evaluation_snapshot() -> None:
    """main's evaluate scored the PR's model; the PR's own evaluation claimed more."""
    from jx_mlops.compare.scoring import SelfReported, TrustedEvaluation
    from jx_mlops.compare.trusted import with_trusted

    comparison = build({"accuracy": 0.80, "f1": 0.70, "roc_auc": 0.85},
                       {"accuracy": 0.80, "f1": 0.71, "roc_auc": 0.85})
    rows = (SelfReported("churn", "metrics.json", "accuracy", 0.80, 1.0),
            SelfReported("churn", "metrics.json", "f1", 0.71, 0.71),
            SelfReported("churn", "metrics.json", "roc_auc", 0.85, None))
    trusted = with_trusted(comparison, TrustedEvaluation("evaluate", "main", "1" * 40,
                                                         rows=rows))
    assert trusted.verdict.line.endswith("; 2 self-reported values differ from trusted "
                                         "evaluation")
    assert_snapshot("trusted.md", render_comment(trusted))


def test_terminal_report_fits_80_columns_and_keeps_every_value() -> None:
    long_name = "by_group.false_positive_rate.applicants_with_a_thin_credit_file"
    comparison = build({"accuracy": 0.80, "f1": 0.70, "loss": 0.5, "roc_auc": 0.8,
                        long_name: 0.351412},
                       {"accuracy": 0.85, "f1": 0.72, "loss": 0.45, "roc_auc": 0.82,
                        long_name: 0.182398}, extras=True)
    console = Console(width=80, record=True, soft_wrap=True)  # as jx-mlops' stdout
    console.print(render_terminal(comparison))
    lines = console.export_text().splitlines()
    assert max(cell_len(line) for line in lines if line[:1] in "┏┃┡│└") <= 80
    table = [line for line in lines if line.startswith("│")]
    assert any("0.3514" in line and "0.1824" in line for line in table)
    assert any("0.8" in line and "0.85" in line and "[" in line for line in table)
    # Wide enough: one line a metric, as before.
    wide = Console(width=200, record=True, soft_wrap=True)
    wide.print(render_terminal(comparison))
    assert any(long_name in line for line in wide.export_text().splitlines())
