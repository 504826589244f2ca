"""Property tests of the comparison engine and the comment renderer (hypothesis)."""

from __future__ import annotations

import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
from jx_mlops.compare.metrics import compare_metric, compare_metrics
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.report.markdown import COMMENT_LIMIT, github_length, marker, render_comment

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
values = st.one_of(finite, st.integers(-1000, 1000), st.booleans(), st.text(max_size=8),
                   st.none(), st.lists(st.integers(), max_size=3),
                   st.sampled_from([math.nan, math.inf, -math.inf]))
policies = st.builds(MetricPolicy, direction=st.sampled_from([None, "higher", "lower"]),
                     tolerance=st.floats(0, 10), rel_tolerance=st.floats(0, 1))
names = st.text(min_size=1, max_size=20)


@given(finite, finite, policies)
def test_delta_is_head_minus_base_and_status_is_consistent(base: float, head: float,
                                                           policy: MetricPolicy) -> None:
    d = compare_metric("m.json", "x", base, head, (True, True), policy)
    assert d.delta == head - base
    assert (d.status == "unchanged") == (base == head)
    if policy.direction is None:
        assert d.status in ("unchanged", "changed")
    elif base != head:
        better = head > base if policy.direction == "higher" else head < base
        assert (d.status == "improved") == better
        if not better:
            allowed = max(policy.tolerance, policy.rel_tolerance * abs(base))
            assert d.status == ("within_tolerance" if abs(head - base) <= allowed
                                else "regressed")


@given(finite, finite, st.sampled_from(["higher", "lower"]))
def test_swapping_sides_swaps_improvement_and_regression(a: float, b: float,
                                                         direction: str) -> None:
    policy = MetricPolicy(direction=direction)  # type: ignore[arg-type]
    forward = compare_metric("m", "x", a, b, (True, True), policy).status
    backward = compare_metric("m", "x", b, a, (True, True), policy).status
    pairs = {("improved", "regressed"), ("regressed", "improved"), ("unchanged", "unchanged")}
    assert (forward, backward) in pairs


@given(st.dictionaries(names, values, max_size=12), st.dictionaries(names, values, max_size=12),
       policies)
def test_every_metric_appears_once_sorted_and_verdict_matches(
        base: dict[str, object], head: dict[str, object], policy: MetricPolicy) -> None:
    rows = compare_metrics("m.json", base, head, lambda _p, _k: policy)
    assert [r.name for r in rows] == sorted(set(base) | set(head))
    judged = policy.direction is not None or policy.min is not None or policy.max is not None
    for row in rows:
        if judged and row.head_kind != "number":
            assert row.failing  # a promise about a number: no number, no pass
            continue
        assert (row.status == "new") == (row.name not in base and row.name in head) or \
            row.status == "failed_threshold"
        assert (row.status == "removed") == (row.name in base and row.name not in head)
    verdict = decide([ModelComparison("m", tuple(rows))])
    assert verdict.passed == (not any(r.failing for r in rows))
    assert sum(verdict.counts.values()) == len(rows)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(names, values, max_size=30), st.dictionaries(names, values, max_size=30),
       st.text(max_size=30))
def test_comment_is_bounded_marked_and_inert(base: dict[str, object],
                                             head: dict[str, object], label: str) -> None:
    rows = compare_metrics("m.json", base, head, lambda _p, _k: MetricPolicy("higher"))
    model = ModelComparison("m", tuple(rows))
    comparison = Comparison(Revision(label or "main", "a" * 40), Revision("PR", None), (model,),
                            decide([model]))
    body = render_comment(comparison, limit=4000)
    assert body.startswith(marker("default") + "\n")
    assert body.count("<!-- jx-mlops:report") == 1
    assert github_length(body) <= 4000
    # The only markup in the comment is the renderer's own: project text adds none
    # (code spans are literal on GitHub, so a '<' inside one is text).
    ours = re.sub(r"<!-- jx-mlops:report id=default -->|</?(details|summary|sub)>|`[^`\n]*`",
                  "", body)
    assert "<" not in ours
    assert github_length(render_comment(comparison)) <= COMMENT_LIMIT
