"""mlops.yaml models.X.slices: read into a SlicePolicy; a wrong key is one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.config.project import parse_config
from jx_mlops.errors import ConfigError

HEAD = "version: 1\nforge: {kind: local, repo: a/p}\nmodels:\n  m:\n    predictions: p.csv\n"


def _slices(block: str):  # type: ignore[no-untyped-def]
    return parse_config(f"{HEAD}    slices: {block}\n", Path("mlops.yaml")).models[0].slices


def test_defaults_and_every_key() -> None:
    policy = _slices("{features: [region, age]}")
    assert (policy.features, policy.max_depth, policy.min_rows, policy.fdr, policy.bins,
            policy.fail_on, policy.data) == (("region", "age"), 2, 50, 0.05, 4, "none", None)
    policy = _slices("{features: [region, age], max_depth: 1, min_rows: 30, fdr: 0.1, bins: 5, "
                     "edges: {age: [30, 45]}, fail_on: regression, tolerance: {accuracy: 0.05},"
                     " data: data/test.csv}")
    assert policy.edges == {"age": (30.0, 45.0)} and policy.tolerance_for("accuracy") == 0.05
    assert policy.tolerance_for("recall") == 0.0 and policy.data == "data/test.csv"
    assert _slices("{features: [a], tolerance: 0.02}").tolerance_for("mae") == 0.02


@pytest.mark.parametrize(("block", "message"), [
    ("{features: []}", "models.m.slices.features: expected a non-empty list of distinct "
                       "column names, got []"),
    ("{features: [a, a]}", "models.m.slices.features: expected at most 12 distinct column "
                           "names, got ['a', 'a']"),
    ("{features: [a], max_depth: 3}", "models.m.slices.max_depth: expected 1 or 2, got 3"),
    ("{features: [a], fdr: 1}", "models.m.slices.fdr: expected a rate between 0 and 1, such "
                                "as 0.05, got 1"),
    ("{features: [a], edges: {b: [1]}}", "models.m.slices.edges.b: not one of "
                                         "slices.features (a)"),
    ("{features: [a], edges: {a: [2, 1]}}", "models.m.slices.edges.a: expected increasing "
                                            "numbers, got [2, 1]"),
    ("{features: [a], tolerance: {acc: 0.1}}", "models.m.slices.tolerance.acc: unknown key "
     "(expected one of: accuracy, precision, recall, f1, mae, mse, rmse)"),
    ("{features: [a], data: ../x.csv}", "models.m.slices.data: expected a path inside the "
                                        "project, got '../x.csv'"),
    ("{features: [a], fail_on: always}", "models.m.slices.fail_on: expected 'none' or "
                                         "'regression', got 'always'"),
    ("{feature: [a]}", "models.m.slices.feature: unknown key (expected one of: features, "
                       "max_depth, min_rows, fdr, bins, edges, fail_on, tolerance, data)"),
])
def test_a_bad_key_is_one_line_naming_it(block: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _slices(block)
    assert str(caught.value) == f"mlops.yaml: {message}"


def test_slices_need_the_predictions_they_slice() -> None:
    text = "version: 1\nmodels:\n  m:\n    slices: {features: [a]}\n"
    with pytest.raises(ConfigError, match=r"models\.m\.slices: needs predictions"):
        parse_config(text, Path("mlops.yaml"))
