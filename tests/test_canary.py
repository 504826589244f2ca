"""Canary steps gated by verify, against the test Prometheus (its exporter reports an
error ratio per version): a healthy canary advances 10 -> 50 -> 100 in three environment
commits; a failing one is removed (its stable takes the traffic back) and held."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from kit.cli import run
from kit.lab import kserve_schema, make_lab
from kit.prometheus import PrometheusServer
from kit.verify import release_version

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # promotion stories, a real Prometheus

ENVIRONMENTS = """\
  - name: staging
    repo: local/environment-staging
    rollout:
      steps: [10, 50, 100]
      step_after: 0
    verify:
      prometheus: {url}
      checks:
        - name: errors
          query: max(model_error_ratio{{version="${{version}}"}})
          max: 0.05
        - name: canary-vs-stable
          query: >-
            max(model_error_ratio{{version="${{version}}"}})
            - max(model_error_ratio{{version="${{stable_version}}"}})
          max: 0.02
"""


def set_ratios(prom: PrometheusServer, ratios: dict[str, float]) -> None:
    prom.exporter.values.pop("model_error_ratio", None)
    for version, value in ratios.items():
        prom.exporter.values[f'model_error_ratio{{version="{version}"}}'] = value
    for version, value in ratios.items():
        prom.wait_for(f'max(model_error_ratio{{version="{version}"}})', f"{value:g}")


def test_a_canary_advances_while_its_checks_hold_and_is_removed_when_they_fail(
        cli, hermetic, monkeypatch, prometheus_server: PrometheusServer) -> None:
    prom = prometheus_server
    set_ratios(prom, {"v0.0.1": 0.01, "v0.0.2": 0.01, "v0.0.3": 0.5})
    lab = make_lab(hermetic, jx_home(), environments=ENVIRONMENTS.format(url=prom.url))
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)  # nothing serves yet: v0.0.1 takes the whole traffic
    assert "rollout" not in lab.record("staging", "fraud")
    release_version(cli, lab)
    record = lab.record("staging", "fraud")
    assert (record["version"], record["rollout"]["percent"],
            record["rollout"]["stable_version"]) == ("v0.0.2", 10, "v0.0.1")
    manifest = yaml.safe_load(lab.env_file("staging", "serving/fraud.yaml"))
    jsonschema.Draft202012Validator(kserve_schema()).validate(manifest)
    assert manifest["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == \
        "Standard"
    assert manifest["spec"]["predictor"]["name"] == "v0-0-1"
    [canary] = manifest["spec"]["canary"]
    assert (canary["trafficPercent"], canary["predictor"]["name"]) == (10, "v0-0-2")
    assert "v0.0.2 at 10% (canary), v0.0.1 stable" in " ".join(cli("status").out.split())

    try:
        steps = []
        for _ in range(2):
            [env] = run(cli, "verify", "--env", "staging")
            [model] = env["models"]
            steps.append((model["canary_percent"], model["advanced_to"],
                          model["step_merged"]))
        assert steps == [(10, 50, True), (50, 100, True)]
        record = lab.record("staging", "fraud")
        assert (record["version"], record.get("rollout"),
                record["promotion"]["previous_version"]) == ("v0.0.2", None, "v0.0.1")
        assert "canary" not in yaml.safe_load(lab.env_file("staging",
                                                          "serving/fraud.yaml"))["spec"]
        history = run(cli, "history", "fraud", "--env", "staging")
        assert [(e["version"], e["reason"].split(" (")[0]) for e in history[:3]] == [
            ("v0.0.2", "canary complete: 100%"), ("v0.0.2", "canary 50%"),
            ("v0.0.2", "canary 10%")]

        release_version(cli, lab)  # v0.0.3 at 10%, and its errors are high
        failed = cli("verify", "--env", "staging", "--json")
        assert failed.code == 1, failed.err
        [model] = json.loads(failed.out)[0]["models"]
        assert (model["version"], model["canary_percent"], model["action"],
                model["rolled_back_to"]) == ("v0.0.3", 10, "rollback", "v0.0.2")
        record = lab.record("staging", "fraud")
        assert (record["version"], record.get("rollout")) == ("v0.0.2", None)
        assert "canary" not in yaml.safe_load(lab.env_file("staging",
                                                          "serving/fraud.yaml"))["spec"]
        assert "v0.0.3" in lab.env_file("staging", "holds/fraud.yaml")
        [insights] = [k for k in run(cli, "insights") if k["environment"] == "staging"]
        assert (insights["deployments"], insights["failures"], insights["canary_stops"]) == \
            (3, 1, 1)
        assert insights["history"][-1]["stopped_at_percent"] == 10
    finally:
        for key in [k for k in prom.exporter.values if k.startswith("model_error_ratio{")]:
            del prom.exporter.values[key]
        prom.exporter.values["model_error_ratio"] = 0.01
