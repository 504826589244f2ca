"""Trusted evaluation applied to a comparison: advisory and enforced modes, self-reported rows."""

from __future__ import annotations

from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
from jx_mlops.compare.scoring import TrustedEvaluation
from jx_mlops.compare.trusted import with_trusted
from jx_mlops.report.html import render_html
from jx_mlops.report.markdown import render_comment


def _comparison() -> Comparison:
    model = ModelComparison("churn", ())
    return Comparison(Revision("main", "a" * 40), Revision("PR #1", "b" * 40), (model,),
                      decide([model]))


def test_advisory_mode_lets_the_prs_own_scores_decide_and_says_so() -> None:
    unscorable = TrustedEvaluation("evaluate", "main", "a" * 40, "advisory",
                                   problem="AttributeError: 'dict' has no 'predict_proba'")
    advisory = with_trusted(_comparison(), unscorable)
    assert advisory.verdict.passed
    assert any("advisory: the PR's own scores decide" in note for note in advisory.notes)
    assert "⚠️ **Trusted evaluation failed:**" in render_comment(advisory)
    assert "could not score this PR&#x27;s model: AttributeError" in render_html(advisory)
    enforced = with_trusted(_comparison(), TrustedEvaluation(
        "evaluate", "main", "a" * 40, "enforced", problem="boom"))
    assert not enforced.verdict.passed


def test_self_reported_rows_pair_values_and_flag_every_difference() -> None:
    from jx_mlops.compare.metrics import compare_metrics
    from jx_mlops.compare.policy import MetricPolicy
    from jx_mlops.compare.trusted import self_reported_rows

    def model(values: dict[str, object]) -> ModelComparison:
        return ModelComparison("churn", tuple(compare_metrics(
            "metrics.json", values, values, lambda _p, _k: MetricPolicy())))

    trusted = model({"accuracy": 0.7, "auc": float("nan"), "ok": True, "only_trusted": 1})
    own = model({"accuracy": 0.7 + 1e-15, "auc": float("nan"), "ok": 1, "only_own": 2})
    rows = self_reported_rows([trusted], [own], lambda path: path == "metrics.json")
    assert [(r.name, r.differs) for r in rows] == [
        ("accuracy", False), ("auc", False), ("ok", True), ("only_trusted", True),
        ("only_own", True)]
    assert self_reported_rows([trusted], [own], lambda path: False) == ()


def test_an_artifact_is_judged_by_the_bases_models_and_policies() -> None:
    """Issue 20, attack 6: a fork's artifact chooses neither the models nor the policies."""
    from dataclasses import replace

    from jx_mlops.compare.metrics import compare_metrics
    from jx_mlops.compare.policy import MetricPolicy
    from jx_mlops.compare.trusted import judged_by

    lax = MetricPolicy(direction="higher", tolerance=1.0)
    strict = MetricPolicy(direction="higher", tolerance=0.01)
    claimed = ModelComparison("churn", tuple(compare_metrics(
        "metrics.json", {"accuracy": 0.8}, {"accuracy": 0.6}, lambda _p, _k: lax)))
    extra = ModelComparison("decoy", ())
    artifact = replace(_comparison(), models=(claimed, extra),
                       verdict=decide([claimed, extra]))
    assert artifact.verdict.passed
    judged = judged_by(artifact, {"churn": lambda _p, _k: strict,
                                  "fraud": lambda _p, _k: strict},
                       lambda name: f"{name} is missing")
    assert [m.model for m in judged.models] == ["churn", "fraud"]
    assert [d.status for d in judged.models[0].metrics] == ["regressed"]
    assert not judged.verdict.passed
    assert "fraud: fraud is missing" in judged.verdict.line
    empty = replace(_comparison(), models=(), verdict=decide([]))
    assert empty.verdict.line == "pass: no metrics"
    assert not judged_by(empty, {"churn": lambda _p, _k: strict}, str).verdict.passed


def test_on_mismatch_fail_makes_a_differing_self_reported_value_fail_the_pr() -> None:
    from jx_mlops.compare.scoring import SelfReported

    rows = (SelfReported("churn", "metrics.json", "accuracy", 0.724, 1.0),
            SelfReported("churn", "metrics.json", "f1", 0.5, 0.5))
    flagged = with_trusted(_comparison(), TrustedEvaluation("evaluate", "main", "a" * 40,
                                                            rows=rows))
    assert flagged.verdict.passed
    assert flagged.verdict.line.endswith("1 self-reported value differs from trusted "
                                         "evaluation")
    failed = with_trusted(_comparison(), TrustedEvaluation(
        "evaluate", "main", "a" * 40, rows=rows, on_mismatch="fail"))
    assert not failed.verdict.passed
    assert failed.verdict.line.startswith(
        "fail: churn: self-reported metrics.json: accuracy (1.0) differs from trusted "
        "evaluation (0.724; evaluation.on_mismatch: fail)")
