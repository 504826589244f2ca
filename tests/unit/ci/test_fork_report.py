"""The trusted block of a fork's report artifact, checked before it is published."""

from __future__ import annotations

import pytest

from jx_mlops.compare.scoring import TrustedEvaluation


@pytest.mark.parametrize(("trusted", "message"), [
    ({"mode": "lenient"}, "trusted.mode: expected 'enforced' or 'advisory', got 'lenient'"),
    ({"scored": True, "problem": "boom"},
     "trusted.scored: expected true exactly when there is no problem, got True"),
    ({"self_reported": [{"model": "churn", "path": "m.json", "name": "a", "trusted": 1,
                         "reported": {"nested": 1}}]},
     "trusted.self_reported[0].reported: expected a number, bool, short string or null, "
     "got {'nested': 1}"),
])
def test_publish_checks_the_trusted_block_of_an_artifact(trusted: dict[str, object],
                                                         message: str) -> None:
    from jx_mlops.ci.fork_report import trusted_from_json
    from jx_mlops.errors import ConfigError

    valid = {"stage": "evaluate", "base": "main", "base_sha": "a" * 40, "mode": "enforced",
             "scored": True, "problem": None, "where": None, "self_reported": []}
    assert trusted_from_json(valid, "r.json") == TrustedEvaluation("evaluate", "main", "a" * 40)
    with pytest.raises(ConfigError) as info:
        trusted_from_json({**valid, **trusted}, "r.json")
    assert info.value.message == f"r.json: {message}"


def test_a_forks_slices_travel_significant_only_and_are_checked() -> None:
    """The fork's artifact carries the significant slices; publish rebuilds the section
    from them, and refuses a result that is not one."""
    from kit.slicedata import planted

    from jx_mlops.ci.fork_report import comparison_from_json
    from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
    from jx_mlops.compare.slices.policy import SlicePolicy
    from jx_mlops.compare.slices.search import search_slices
    from jx_mlops.errors import ConfigError
    from jx_mlops.report.jsonout import comparison_to_json
    from jx_mlops.report.markdown import render_comment

    base, head, columns = planted(5, effect=0.12)
    policy = SlicePolicy(features=("region", "age"), fail_on="regression", tolerance=0.05)
    report = search_slices(policy, base, head, columns, columns, {"accuracy": "higher"})
    model = ModelComparison("churn", (), slices=report)
    comparison = Comparison(Revision("main", "1" * 40), Revision("PR #3", "2" * 40), (model,),
                            decide([model]))
    artifact = comparison_to_json(comparison, every_test=False)
    carried = artifact["models"][0]["slices"]
    assert not carried["results_complete"] and carried["tests"] == report.tests
    assert all(r["status"] != "not_significant" for r in carried["results"])
    relayed = comparison_from_json(artifact, "r.json").models[0].slices
    assert relayed is not None and relayed.tests == report.tests
    assert [f.lead for f in relayed.worse()] == [f.lead for f in report.worse()]
    assert [f.lead for f in relayed.failures()] == [f.lead for f in report.failures()]
    section = render_comment(comparison)
    section = section[section.index("**Where it got worse"):section.index("<sub>A slice")]
    assert section in render_comment(comparison_from_json(artifact, "r.json"))
    carried["results"][0]["metric"] = "<script>"
    with pytest.raises(ConfigError) as info:
        comparison_from_json(artifact, "r.json")
    assert info.value.message.startswith(
        "r.json: models[0].slices.results[0].metric: expected 'accuracy' or 'precision'")


def test_a_forks_metrics_coverage_is_relayed_and_checked() -> None:
    """The comment publish posts says how many metrics files each side read, as the same
    repository's comment does; counts that do not add up are refused."""
    from jx_mlops.ci.fork_report import comparison_from_json
    from jx_mlops.compare.comparison import (
        Comparison,
        Coverage,
        ModelComparison,
        Revision,
        decide,
    )
    from jx_mlops.errors import ConfigError
    from jx_mlops.report.jsonout import comparison_to_json
    from jx_mlops.report.markdown import render_comment

    model = ModelComparison("churn", (), base_coverage=Coverage(2, 2),
                            head_coverage=Coverage(2, 1, (("m.json", "<not JSON>"),)))
    comparison = Comparison(Revision("main", "1" * 40), Revision("PR #3", "2" * 40), (model,),
                            decide([model]))
    artifact = comparison_to_json(comparison, every_test=False)
    relayed = comparison_from_json(artifact, "r.json").models[0]
    assert (relayed.base_coverage, relayed.head_coverage) == (model.base_coverage,
                                                              model.head_coverage)

    def coverage_lines(comparison: Comparison) -> list[str]:
        return [line for line in render_comment(comparison).splitlines()
                if line.startswith(("<sub>Read ", "<sub>Not read "))]

    assert coverage_lines(comparison_from_json(artifact, "r.json")) == coverage_lines(
        comparison) == [
        r"<sub>Read 1 of 2 metrics files declared at the head \(2 of 2 at the base\)</sub>",
        "<sub>Not read at the head: `m.json`: &lt;not JSON&gt;</sub>"]
    artifact["models"][0]["coverage"]["head"]["read"] = 2
    with pytest.raises(ConfigError) as info:
        comparison_from_json(artifact, "r.json")
    assert info.value.message == (
        "r.json: models[0].coverage.head.unread: expected 0 files not read, got 1")
