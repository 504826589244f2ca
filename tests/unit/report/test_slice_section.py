"""The "Where it got worse" section in every format, and what it does to the verdict."""

from __future__ import annotations

import json

from kit.slicedata import planted
from kit.snapshot import assert_snapshot
from rich.console import Console

from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
from jx_mlops.compare.metrics import compare_metrics
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.slices.policy import SlicePolicy
from jx_mlops.compare.slices.search import search_slices
from jx_mlops.report.html import render_html
from jx_mlops.report.jsonout import comparison_to_json
from jx_mlops.report.markdown import render_comment
from jx_mlops.report.terminal import render_terminal

ACCURACY = MetricPolicy("higher", tolerance=0.03)
DIRECTIONS = {"accuracy": "higher", "recall": "higher", "roc_auc": "higher"}


def _comparison(effect: float, policy: SlicePolicy | None = None, seed: int = 5,
                columns_of: dict[str, list[str]] | None = None) -> Comparison:
    base, head, columns = planted(seed, effect=effect)
    columns = columns_of or columns
    policy = policy or SlicePolicy(features=("region", "age"))
    report = search_slices(policy, base, head, columns, columns, DIRECTIONS)
    rows = compare_metrics("metrics.json", {"accuracy": 0.85}, {"accuracy": 0.84},
                           lambda _p, _k: ACCURACY)
    model = ModelComparison("churn", tuple(rows), slices=report)
    return Comparison(Revision("main", "1" * 40), Revision("PR #3", "2" * 40), (model,),
                      decide([model]))


def test_the_worse_slice_comes_first_with_its_interval() -> None:
    body = render_comment(_comparison(0.08))
    assert "**Where it got worse:** 1 of 29 slices significantly worse" in body
    row = next(line for line in body.splitlines() if line.startswith("| region = west |"))
    assert "| 578 | accuracy | 0.8581 → 0.7889 | -0.0692 [-0.0982, -0.0399] |" in row
    assert 'x-axis "slice" ["region=west"' in body
    assert "29 slices x 2 metrics = 58 tests" in body
    assert "roc\\_auc: not searched per slice" in body
    assert_snapshot("slices.md", body)


def test_no_slice_worse_says_how_many_were_tested() -> None:
    comparison = _comparison(0.0)
    body = render_comment(comparison)
    assert "**Where it got worse:** no slice is significantly worse (29 slices tested)." in body
    assert comparison.verdict.passed
    console = Console(width=80, record=True)
    console.print(render_terminal(comparison))
    assert "no slice is significantly worse (29 slices, 58 tests)" in console.export_text()


def test_fail_on_regression_fails_the_verdict_beyond_the_tolerance() -> None:
    strict = SlicePolicy(features=("region", "age"), fail_on="regression", tolerance=0.05)
    comparison = _comparison(0.12, strict)
    assert not comparison.verdict.passed
    assert "accuracy regressed" in comparison.verdict.line
    assert "in slice region = west" in comparison.verdict.line
    assert "slices.tolerance 0.05" in comparison.verdict.line
    assert "| ⛔ fails (accuracy) |" in render_comment(comparison)
    lenient = SlicePolicy(features=("region", "age"), fail_on="regression", tolerance=0.5)
    passing = _comparison(0.12, lenient)
    assert passing.verdict.passed and "| passes |" in render_comment(passing)
    assert _comparison(0.12).verdict.passed  # the default only reports


def test_every_test_is_in_json_html_and_the_terminal_fits_80_columns() -> None:
    comparison = _comparison(0.08)
    data = comparison_to_json(comparison)["models"][0]["slices"]
    assert data["tests"] == len(data["results"]) == 58
    assert data["worse"][0] == "region = west" and data["pairing"] == "paired"
    first = data["results"][0]
    assert {"slice", "metric", "rows", "base", "head", "delta", "low", "high", "p", "q",
            "status", "subsumed_by", "fails"} <= set(first)
    json.dumps(data, allow_nan=False)
    html = render_html(comparison)
    assert "<h3>Where it got worse</h3>" in html and "All 58 tests" in html
    console = Console(width=80, record=True)
    console.print(render_terminal(comparison))
    text = console.export_text()
    assert "where it got worse: 1 of 29 slices" in text and "region = west" in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80


def test_hostile_slice_values_render_as_text() -> None:
    columns = planted(5)[2]
    hostile = {"<img src=x>": "west", "@octocat": "north", "`x` | y": "south",
               "</details>": "east", "c": "centre"}
    renamed = {"region": [next(k for k, v in hostile.items() if v == r)
                          for r in columns["region"]], "age": columns["age"]}
    body = render_comment(_comparison(0.12, columns_of=renamed))
    assert "<img" not in body and "@octocat" not in body
    assert body.count("<details>") == body.count("</details>")
    assert "region = &lt;img src=x&gt;" in body
    chart = body[body.index("```mermaid"):]
    assert "<img" not in chart[:chart.index("```", 3)]


def test_not_searched_says_why() -> None:
    model = ModelComparison("churn", (), slices_note="slices not searched: eval/p.csv at "
                                                     "main (1111111): no column 'region'")
    comparison = Comparison(Revision("main", "1" * 40), Revision("PR #3", "2" * 40), (model,),
                            decide([model]))
    assert "**Where it got worse:** slices not searched: eval/p.csv at main \\(1111111\\): " \
           "no column 'region'" in render_comment(comparison)
    assert comparison_to_json(comparison)["models"][0]["slices"] is None
