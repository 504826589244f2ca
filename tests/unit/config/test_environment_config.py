"""mlops.yaml environments: gates, approvals, layouts; errors name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.config import parse

from jx_mlops.config.project import EnvironmentConfig, FairnessLimit, MetricGate, parse_config
from jx_mlops.errors import ConfigError

BASE = """\
forge: {repo: acme/churn}
models:
  churn: {artifact: m.pkl, metrics: [metrics.json], intended_use: Churn triage only.}
environments:
"""


def parse_environments(block: str) -> tuple[EnvironmentConfig, ...]:
    """The environments of a config whose ``environments:`` list is ``block``."""
    return parse(BASE + block).environments


def test_gates_and_layouts_are_typed() -> None:
    staging, production = parse_environments("""\
  - name: staging
    repo: acme/env-staging
    layout: jenkins-x
    gates:
      metrics:
        accuracy: {min: 0.8}
        metrics.json:loss: {max: 0.4}
      fairness:
        dpd: 0.1
        eod: {max_abs: 0.2}
  - name: production
    repo: acme/env-prod
    strategy: manual
    requires: staging
    soak: 1h30m
    approvals: 2
    approvers: [alice, bob]
    namespace: models
    model_format: xgboost
""")
    assert staging.strategy == "auto" and staging.approvals == 0
    assert (staging.layout, staging.namespace, staging.chart_repository) == \
        ("jenkins-x", "jx-staging", "dev")
    assert staging.metric_gates == (MetricGate("accuracy", min=0.8),
                                    MetricGate("metrics.json:loss", max=0.4))
    assert staging.fairness == (FairnessLimit("dpd", 0.1), FairnessLimit("eod", 0.2))
    assert (production.requires, production.soak, production.approvals) == \
        ("staging", 5400, 2)
    assert production.approvers == ("alice", "bob")
    assert (production.layout, production.namespace, production.model_format) == \
        ("kserve", "models", "xgboost")
    defaults = parse_environments("  - {name: prod, repo: a/b, strategy: manual}\n")[0]
    assert (defaults.approvals, defaults.namespace, defaults.soak) == (1, "prod", 0)
    model = parse_config(BASE, Path("/p/mlops.yaml")).model("churn")
    assert model.intended_use == "Churn triage only."


@pytest.mark.parametrize(("environments", "message"), [
    ("  - {name: prod, repo: a/b, requires: staging}\n",
     "mlops.yaml: environments[0].requires: expected an earlier environment (nothing (it is "
     "the first)), got 'staging'"),
    ("  - {name: staging, repo: a/s}\n  - {name: prod, repo: a/b, requires: qa}\n",
     "mlops.yaml: environments[1].requires: expected an earlier environment ('staging'), "
     "got 'qa'"),
    ("  - {name: prod, repo: a/b, soak: 1h}\n",
     "mlops.yaml: environments[0].soak: needs requires (the environment a version soaks in "
     "first)"),
    ("  - {name: s, repo: a/s}\n  - {name: prod, repo: a/b, requires: s, soak: 1 day}\n",
     "mlops.yaml: environments[1].soak: expected a duration such as 30m, 24h or 2d (or "
     "seconds), got '1 day'"),
    ("  - {name: prod, repo: a/b, approvals: 1}\n",
     "mlops.yaml: environments[0].approvals: expected 0 (approvals only apply to strategy: "
     "manual), got 1"),
    ("  - {name: prod, repo: a/b, strategy: manual, approvals: -1}\n",
     "mlops.yaml: environments[0].approvals: expected a whole number >= 0, got -1"),
    ("  - {name: prod, repo: a/b, layout: helm}\n",
     "mlops.yaml: environments[0].layout: expected 'kserve' or 'jenkins-x', got 'helm'"),
    ("  - {name: prod, repo: a/b, gates: {metrics: {accuracy: 0.8}}}\n",
     "mlops.yaml: environments[0].gates.metrics.accuracy: expected a mapping, got 0.8"),
    ("  - {name: prod, repo: a/b, gates: {metrics: {accuracy: {}}}}\n",
     "mlops.yaml: environments[0].gates.metrics.accuracy: expected a mapping with min and/or "
     "max, got {}"),
    ("  - {name: prod, repo: a/b, gates: {metrics: {acc: {min: 2, max: 1}}}}\n",
     "mlops.yaml: environments[0].gates.metrics.acc.min: expected a value <= max (1.0), got 2"),
    ("  - {name: prod, repo: a/b, gates: {fairness: {dpd: -0.1}}}\n",
     "mlops.yaml: environments[0].gates.fairness.dpd: expected a number >= 0, got -0.1"),
    ("  - {name: prod, repo: a/b, gates: {latency: 3}}\n",
     "mlops.yaml: environments[0].gates.latency: unknown key (expected one of: metrics, "
     "fairness, signature)"),
    ("  - {name: prod, repo: a/b, strategy: manual, approvers: []}\n",
     "mlops.yaml: environments[0].approvers: expected a non-empty list of forge logins, "
     "got []"),
    ("  - {name: prod, repo: a/b, namespace: Prod_NS}\n",
     "mlops.yaml: environments[0].namespace: expected a Kubernetes namespace name, "
     "got 'Prod_NS'"),
])
def test_environment_errors_name_the_key(environments: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_environments(environments)
    assert caught.value.message == message
