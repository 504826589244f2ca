"""The verify: block every quickstart and `init` write, and ${score_reference}."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops import prometheus
from jx_mlops.config.project import parse_config
from jx_mlops.project.quickstarts import quickstarts_dir, substitute
from jx_mlops.project.render import render_config
from jx_mlops.promote import verify
from jx_mlops.promote.score_reference import fractions, promql_vector

QUICKSTARTS = ("sklearn-classifier", "lightgbm-classifier", "pytorch-classifier",
               "sklearn-regressor")
VALUES = {"project_name": "churn", "model_name": "churn", "owner": "local",
          "forge_kind": "local"}


def quickstart_checks(name: str) -> dict[str, str]:
    path = quickstarts_dir() / name / "template" / "mlops.yaml.tmpl"
    text = substitute(path.read_text(encoding="utf-8"), VALUES, str(path))
    config = parse_config(text, Path("/tmp/mlops.yaml"))
    staging = config.environment("staging")
    assert staging.verify is not None, name
    assert (staging.verify.on_failure, staging.verify.on_inconclusive) == ("rollback", "report")
    return {c.name: c.query for c in staging.verify.checks}


@pytest.mark.parametrize("name", QUICKSTARTS)
def test_every_quickstart_verifies_staging_with_its_service_metrics(name: str) -> None:
    checks = quickstart_checks(name)
    basic = ["availability", "error-ratio", "latency-p95"]
    assert list(checks) == basic + ([] if "regressor" in name else ["score-drift"])
    assert all('version="${version}"' in query for query in checks.values())


def test_init_writes_the_quickstarts_checks() -> None:
    text = render_config("churn", "local", "local/churn", [], [])
    staging = parse_config(text, Path("/tmp/mlops.yaml")).environment("staging")
    assert staging.verify is not None
    want = quickstart_checks("sklearn-classifier")
    assert {c.name: c.query for c in staging.verify.checks} == {
        k: v for k, v in want.items() if k != "score-drift"}


def test_reference_is_the_cumulative_fraction_per_bucket_edge() -> None:
    cumulative = fractions([0.05, 0.15, 0.5, 0.95])
    assert cumulative[0] == ("0.1", 0.25)
    assert cumulative[4] == ("0.5", 0.75)  # at or below the edge, as a histogram's le
    assert cumulative[-2:] == [("1.0", 1.0), ("+Inf", 1.0)]
    vector = promql_vector(cumulative[:2])
    assert vector == ('(label_replace(vector(0.2500), "le", "0.1", "", "") or '
                      'label_replace(vector(0.5000), "le", "0.2", "", ""))')


def test_no_reference_is_inconclusive_and_sends_no_query(monkeypatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(prometheus, "query", lambda url, q: sent.append(q) or
                        prometheus.QueryResult(0.01, ""))
    text = substitute((quickstarts_dir() / "sklearn-classifier" / "template" /
                       "mlops.yaml.tmpl").read_text(encoding="utf-8"), VALUES, "t")
    config = parse_config(text, Path("/tmp/mlops.yaml")).environment("staging").verify
    assert config is not None
    asked: list[int] = []

    def none() -> tuple[str | None, str]:
        asked.append(1)
        return None, "eval/predictions.csv at churn@v0.0.1 has no y_score column"

    outcomes = verify.run_checks(config, "http://prom", model="churn", version="v0.0.1",
                                 environment="staging", reference=none)
    drift = outcomes[-1]
    assert (drift.name, drift.outcome) == ("score-drift", "inconclusive")
    assert "no evaluation-time scores: eval/predictions.csv" in drift.reason
    assert len(sent) == 3 and asked == [1]
    filled = verify.run_checks(config, "http://prom", model="churn", version="v0.0.1",
                               environment="staging",
                               reference=lambda: ("(vector(1))", ""))
    assert filled[-1].outcome == "pass" and "- on(le) (vector(1))" in sent[-1]
    assert filled[-1].query.endswith("- on(le) ${score_reference}))")  # as shown
