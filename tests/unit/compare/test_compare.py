"""The comparison engine: statuses from policies, verdicts (pure logic)."""

from __future__ import annotations

import pytest

from jx_mlops.compare.comparison import ModelComparison, decide
from jx_mlops.compare.metrics import (
    compare_metric,
    compare_metrics,
    compare_params,
    unmatched_policy_keys,
)
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.values import flatten
from jx_mlops.evaluation.formats import load_structured

HIGHER = MetricPolicy(direction="higher", tolerance=0.01)
LOWER = MetricPolicy(direction="lower", rel_tolerance=0.1)


def status(base: object, head: object, policy: MetricPolicy = HIGHER) -> str:
    return compare_metric("m.json", "x", base, head, (True, True), policy).status


@pytest.mark.parametrize(("base", "head", "policy", "expected"), [
    (0.90, 0.95, HIGHER, "improved"),
    (0.90, 0.85, HIGHER, "regressed"),
    (0.90, 0.895, HIGHER, "within_tolerance"),
    (0.90, 0.90, HIGHER, "unchanged"),
    (1.0, 0.8, LOWER, "improved"),
    (1.0, 1.05, LOWER, "within_tolerance"),
    (1.0, 1.2, LOWER, "regressed"),
    (1.0, 2.0, MetricPolicy(), "changed"),
    (3, 3, MetricPolicy(), "unchanged"),
])
def test_direction_and_tolerance(base: float, head: float, policy: MetricPolicy,
                                 expected: str) -> None:
    assert status(base, head, policy) == expected


def test_threshold_overrides_improvement() -> None:
    floor = MetricPolicy(direction="higher", min=0.8)
    assert status(0.5, 0.7, floor) == "failed_threshold"
    assert status(0.5, 0.85, floor) == "improved"
    assert status(0.5, float("nan"), floor) == "failed_threshold"


def test_non_numeric_values_are_compared_explicitly() -> None:
    plain = MetricPolicy()
    assert status(True, False, plain) == "changed"
    assert status("a", "a", plain) == "unchanged"
    assert status([1, 2], [1, 3], plain) == "changed"
    assert status(float("nan"), float("nan"), plain) == "unchanged"
    delta = compare_metric("m.json", "x", 1.0, float("inf"), (True, True), plain)
    assert (delta.head_kind, delta.status) == ("inf", "changed")
    nan = compare_metric("m.json", "x", 1.0, float("nan"), (True, True), HIGHER)
    assert (nan.head_kind, nan.delta, nan.status) == ("nan", None, "regressed")


@pytest.mark.parametrize("head", ["0.9", None, True, [0.9], float("inf"), float("nan")])
def test_a_directed_metric_that_stops_being_a_finite_number_fails(head: object) -> None:
    delta = compare_metric("m.json", "auc", 0.9, head, (True, True), HIGHER)
    verdict = decide([ModelComparison("m", (delta,))])
    assert delta.status == "regressed"
    assert not verdict.passed
    assert verdict.line.startswith("fail: auc is ") and "at the head" in verdict.line
    assert "higher-is-better, so it cannot pass" in verdict.line


@pytest.mark.parametrize("policy", [HIGHER, MetricPolicy(min=0.5)])
def test_a_directed_or_floored_metric_missing_at_the_head_fails(policy: MetricPolicy) -> None:
    rows = compare_metrics("m.json", {"auc": 0.9}, {}, lambda _p, _k: policy)
    verdict = decide([ModelComparison("m", tuple(rows))])
    assert not verdict.passed
    assert verdict.line.startswith("fail: auc is missing at the head (")


def test_an_undirected_metric_may_disappear() -> None:
    rows = compare_metrics("m.json", {"n": 1}, {}, lambda _p, _k: MetricPolicy())
    assert [r.status for r in rows] == ["removed"]
    assert decide([ModelComparison("m", tuple(rows))]).passed


def test_a_policy_key_that_matches_no_metric_names_the_closest() -> None:
    rows = compare_metrics("m.json", {"acc": 0.9}, {"acc": 0.8}, lambda _p, _k: HIGHER)
    assert unmatched_policy_keys(["accuracy", "m.json:acc", "acc"], rows) == [
        ("accuracy", ["acc"])]


def test_new_removed_and_stable_order() -> None:
    rows = compare_metrics("m.json", {"b": 1, "a": 2}, {"c": 3, "a": 2},
                           lambda _p, _k: MetricPolicy())
    assert [(r.name, r.status) for r in rows] == [("a", "unchanged"), ("b", "removed"),
                                                  ("c", "new")]


def test_absent_file_on_one_side_makes_every_metric_new_or_removed() -> None:
    rows = compare_metrics("m.json", None, {"a": 1}, lambda _p, _k: HIGHER)
    assert [r.status for r in rows] == ["new"]


def test_verdict_line_names_the_regression() -> None:
    rows = compare_metrics("m.json", {"accuracy": 0.912, "f1": 0.8, "auc": 0.7},
                           {"accuracy": 0.895, "f1": 0.85, "auc": 0.7},
                           lambda _p, _k: MetricPolicy("higher", tolerance=0.005))
    verdict = decide([ModelComparison("m", tuple(rows))])
    assert not verdict.passed
    assert verdict.line == ("fail: accuracy regressed 0.912 → 0.895 (-0.017, tolerance "
                            "0.005); 1 regressed, 1 improved, 1 unchanged")


def test_a_relative_tolerance_is_stated_in_the_changes_unit_too() -> None:
    rows = compare_metrics("m.json", {"mae": 1.079}, {"mae": 1.109},
                           lambda _p, _k: MetricPolicy("lower", rel_tolerance=0.02))
    verdict = decide([ModelComparison("m", tuple(rows))])
    assert verdict.line == ("fail: mae regressed 1.079 → 1.109 (+0.03 = +2.78%, tolerance "
                            "0.02158 = 2% of 1.079); 1 regressed")


def test_head_problems_fail_the_verdict() -> None:
    verdict = decide([ModelComparison("m", (), head_problems=("metrics.json missing",))])
    assert verdict.line == "fail: m: metrics.json missing; no metrics"


def test_a_problem_every_model_shares_is_said_once() -> None:
    stale = "stage train is stale: params.yaml has lr = 2 but dvc.lock recorded 1"
    verdict = decide([ModelComparison("a", (), head_problems=(stale, "a.json missing")),
                      ModelComparison("b", (), head_problems=(stale,))])
    assert verdict.line == f"fail: {stale}; a: a.json missing; no metrics"
    alone = decide([ModelComparison("a", (), head_problems=(stale,))])
    assert alone.line == f"fail: a: {stale}; no metrics"


def test_params_diff() -> None:
    rows = compare_params("params.yaml", {"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4})
    assert [(r.name, r.status) for r in rows] == [("a", "unchanged"), ("b", "changed"),
                                                  ("c", "added")]


def test_significance_applies_to_evaluation_set_metrics_only() -> None:
    from jx_mlops.compare.significance import canonical_metric

    assert [canonical_metric(k) for k in ("accuracy", "test.roc_auc", "eval.AUC", "f1_score",
                                          "train.accuracy", "by_group.accuracy.B", "loss")] == [
        "accuracy", "roc_auc", "roc_auc", "f1", None, None, None]


def test_lock_hashes_that_yaml_reads_as_numbers() -> None:
    from jx_mlops.dvc.lockfile import parse_lock

    lock = parse_lock("schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n"
                      "    - path: model.pkl\n      md5: 12345678901234567890123456789012\n")
    assert lock.output("model.pkl").md5 == "12345678901234567890123456789012"  # type: ignore[union-attr]


def test_flatten_and_load() -> None:
    data = load_structured("m.json", b'{"train": {"loss": 0.5, "acc": {"top1": 0.9}}, "n": [1]}')
    assert flatten(data) == {"train.loss": 0.5, "train.acc.top1": 0.9, "n": [1]}
    assert load_structured("p.yaml", b"a: 1\n") == {"a": 1}
    with pytest.raises(ValueError, match="not valid JSON"):
        load_structured("m.json", b"{oops")


def test_unparsable_yaml_names_the_line() -> None:
    with pytest.raises(ValueError) as info:
        load_structured("eval/metrics.yaml", b"acc: 0.9\nf1: [0.8, 0.7\nauc: 1\n")
    assert str(info.value) == "not valid YAML: did not find expected ',' or ']' at line 3, " \
                              "column 4"


# -- files that moved, files that could not be read, nothing read at all ---------------------


def test_a_metric_whose_file_moved_is_matched_by_key_path() -> None:
    from jx_mlops.compare.metrics import match_moved

    def policy(_path: str, name: str) -> MetricPolicy:
        return HIGHER if name == "dice" else MetricPolicy()

    rows = (compare_metrics("old.json", {"dice": 0.9, "loss": 0.3}, None, policy)
            + compare_metrics("new.json", None, {"dice": 0.95, "loss": 0.2}, policy)
            + compare_metrics("a.json", {"x": 1}, {"x": 1}, policy))
    merged, notes = match_moved(rows, ["old.json"], ["new.json"])
    by_name = {(d.path, d.name): d for d in merged}
    assert by_name[("new.json", "dice")].status == "improved"
    assert by_name[("new.json", "dice")].base_path == "old.json"
    assert ("old.json", "dice") not in by_name and len(merged) == 3
    assert notes == ["new.json has the metrics of old.json, gone at the head: matched by key "
                     "path"]
    # Two new files with the same key: ambiguous, that key is not matched.
    both = rows + compare_metrics("other.json", None, {"dice": 0.1}, policy)
    merged, _notes = match_moved(both, ["old.json"], ["new.json", "other.json"])
    assert ("old.json", "dice") in {(d.path, d.name) for d in merged}
    assert ("old.json", "loss") not in {(d.path, d.name) for d in merged}


def test_rows_of_an_unreadable_file_are_unreadable_never_regressed() -> None:
    rows = compare_metrics("m.json", {"acc": 0.9}, None, lambda _p, _n: HIGHER,
                           (False, True))
    assert [(d.status, d.base, d.head) for d in rows] == [("unreadable", 0.9, None)]
    assert not rows[0].failing


def test_a_head_that_declares_metrics_and_reads_none_cannot_pass() -> None:
    from jx_mlops.compare.comparison import Coverage

    blind = ModelComparison("m", (), head_coverage=Coverage(2, 0, (("a.png", "not text"),
                                                                   ("b.png", "not text"))))
    verdict = decide([blind])
    assert not verdict.passed
    assert verdict.line == "fail: m: none of the 2 metrics files declared at the head could " \
                           "be read; no metrics"
    assert decide([ModelComparison("m", (), head_coverage=Coverage(0, 0))]).passed
