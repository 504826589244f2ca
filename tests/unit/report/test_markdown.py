"""The PR comment renderer: layout, escaping, marker."""

from __future__ import annotations

from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
from jx_mlops.compare.metrics import compare_metrics
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.report.markdown import marker, render_comment
from jx_mlops.report.mdtext import escape


def comparison(base: dict[str, object], head: dict[str, object]) -> Comparison:
    rows = compare_metrics("metrics.json", base, head,
                           lambda _p, _k: MetricPolicy("higher", tolerance=0.005))
    models = (ModelComparison("churn", tuple(rows)),)
    return Comparison(Revision("main", "a" * 40), Revision("PR #4", "b" * 40), models,
                      decide(models))


def test_comment_starts_with_marker_and_verdict() -> None:
    body = render_comment(comparison({"accuracy": 0.9}, {"accuracy": 0.95}))
    lines = body.splitlines()
    assert lines[0] == marker("default") == "<!-- jx-mlops:report id=default -->"
    assert lines[1] == "### ✅ jx-mlops evaluation: pass"
    assert "| accuracy | 0.9 | 0.95 | +0.05 (+5.6%) | 🟢 improved |" in lines


def test_hostile_metric_names_are_inert() -> None:
    hostile = "<img src=x onerror=alert(1)> @octocat | `x` [link](http://e)"
    body = render_comment(comparison({hostile: 1.0}, {hostile: 0.5}))
    assert "<img" not in body
    assert "@octocat" not in body
    assert "](http" not in body
    assert escape("a|b") == "a\\|b"


def test_unchanged_metrics_are_collapsed() -> None:
    body = render_comment(comparison({"a": 1.0, "b": 2.0}, {"a": 1.5, "b": 2.0}))
    assert "<details><summary>All metrics (2)</summary>" in body
