"""Canary steps gated by verify, on real servers: the sklearn-classifier quickstart's model
service (KServe's model server) runs once per version, stable and canary side by side
(v0.0.2's model is the forest fitted again with another seed; v0.0.3 serves a broken model
file, so its error counter rises), scraped by one real Prometheus, with a bounded traffic
generator. A healthy canary advances 10 -> 50 -> 100 in three environment commits; the
failing one is removed and held in one commit; Prometheus stopped mid-run is inconclusive
and rolls nothing back."""

from __future__ import annotations

import contextlib
import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml
from kit.cli import run
from kit.lab import Lab, kserve_schema, make_lab
from kit.prometheus import Exporter, PrometheusServer, free_port, running_prometheus
from kit.servers import retrained, start, stop, wait_ready
from kit.traffic import encoded_rows, send
from kit.verify import release_version
from sklearn.linear_model import LogisticRegression

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # three model servers, a real Prometheus



def ratio(version: str) -> str:
    """The error ratio of ``${version}`` (or another name) over 5 minutes, as create's."""
    where = f'model="${{model}}",version="${{{version}}}"'
    return (f"sum(rate(jx_mlops_request_errors_total{{{where}}}[5m]))"
            f" / sum(rate(jx_mlops_requests_total{{{where}}}[5m]))")


ENVIRONMENTS = f"""\
  - name: staging
    repo: local/environment-staging
    rollout:
      steps: [10, 50, 100]
      step_after: 0
    verify:
      prometheus: URL
      checks:
        - name: availability
          query: >-
            min(up and on(instance) max_over_time(
            jx_mlops_requests_total{{model="${{model}}",version="${{version}}"}}[10m]))
          min: 1
        - name: error-ratio
          query: '{ratio("version")}'
          max: 0.01
        - name: canary-vs-stable
          query: '({ratio("version")}) - ({ratio("stable_version")})'
          max: 0.01
"""
VERSIONS = ("v0.0.1", "v0.0.2", "v0.0.3")  # v0.0.3 serves a model that fails every row


@dataclass
class Fleet:
    """A model server per version, one Prometheus scraping them all."""

    url: str
    ports: dict[str, int]
    rows: list[list[float]]
    prometheus: contextlib.ExitStack

    def traffic(self, *versions: str) -> None:
        """A batch of the test rows to each version's server, until Prometheus saw it."""
        prom = PrometheusServer(self.url, Exporter(0), 0)
        for version in versions:
            before = float(prom.value(
                f'sum(jx_mlops_requests_total{{version="{version}"}})') or 0)
            statuses = send(self.ports[version], "fraud", self.rows[:200], batch=20)
            assert set(statuses) == ({500} if version == "v0.0.3" else {200})
            prom.wait_for(f'sum(jx_mlops_requests_total{{version="{version}"}}) >= bool '
                          f'{before + len(statuses):g}', "1")


@pytest.fixture(scope="module")
def fleet(project_template: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Fleet]:
    project = project_template / "churn"
    base = tmp_path_factory.mktemp("fleet")
    broken = base / "broken"
    broken.mkdir()
    model = LogisticRegression().fit([[0.0, 0.0], [1.0, 1.0]], [0, 1])  # 2 features, not 13
    (broken / "model.pkl").write_bytes(pickle.dumps(model))
    ports = {v: free_port() for v in VERSIONS}
    dirs = {"v0.0.1": project / "models", "v0.0.2": retrained(project, base / "v0.0.2"),
            "v0.0.3": broken}
    procs = [start(project, "fraud", v, ports[v], dirs[v]) for v in VERSIONS]
    try:
        rows = encoded_rows(project)
        wait_ready(procs, list(ports.values()))
        targets = "".join(f'      - targets: ["127.0.0.1:{ports[v]}"]\n'
                          f"        labels: {{track: {v.replace('.', '-')}}}\n"
                          for v in VERSIONS)
        config = ("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                  "scrape_configs:\n  - job_name: model\n    static_configs:\n" + targets)
        stack = contextlib.ExitStack()
        with stack:
            url = stack.enter_context(running_prometheus(base, {}, config))
            prom = PrometheusServer(url, Exporter(0), 0)
            prom.wait_for('count(up{job="model"} == 1)', "3")
            yield Fleet(url, ports, rows, stack)
    finally:
        stop(procs)


def commits(lab: Lab) -> int:
    """Changes landed on the environment repository's main (one per merged PR)."""
    return int(lab.env_git("staging", "rev-list", "--count", "--first-parent", "main"))


def test_a_canary_on_real_servers_advances_is_removed_when_it_fails_and_waits_out_an_outage(
        cli, hermetic, monkeypatch, fleet: Fleet) -> None:
    lab = make_lab(hermetic, jx_home(), environments=ENVIRONMENTS.replace("URL", fleet.url))
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

    steps = []
    start_commits = commits(lab)
    for _ in range(2):
        fleet.traffic("v0.0.1", "v0.0.2")
        [env] = run(cli, "verify", "--env", "staging")
        [model] = env["models"]
        assert [c["outcome"] for c in model["checks"]] == ["pass"] * 3, model["checks"]
        steps.append((model["canary_percent"], model["advanced_to"], model["step_merged"]))
    assert steps == [(10, 50, True), (50, 100, True)]
    assert commits(lab) == start_commits + 2  # 10% was the promotion's own commit
    record = lab.record("staging", "fraud")
    assert (record["version"], record.get("rollout"),
            record["promotion"]["previous_version"]) == ("v0.0.2", None, "v0.0.1")
    assert "canary" not in yaml.safe_load(lab.env_file("staging", "serving/fraud.yaml"))["spec"]
    history = run(cli, "history", "fraud", "--env", "staging")
    assert [(e["version"], e["reason"].split(" (")[0]) for e in history[:3]] == [
        ("v0.0.2", "canary complete: 100%"), ("v0.0.2", "canary 50%"),
        ("v0.0.2", "canary 10%")]

    release_version(cli, lab)  # v0.0.3 at 10%: every row it is sent fails
    before = commits(lab)
    fleet.traffic("v0.0.2", "v0.0.3")
    failed = cli("verify", "--env", "staging", "--json")
    assert failed.code == 1, failed.err
    [model] = json.loads(failed.out)[0]["models"]
    assert (model["version"], model["canary_percent"], model["action"],
            model["rolled_back_to"]) == ("v0.0.3", 10, "rollback", "v0.0.2")
    assert [c["outcome"] for c in model["checks"]] == ["pass", "fail", "fail"]
    assert model["checks"][1]["value"] == 1.0
    assert commits(lab) == before + 1  # removed and held in one commit, one PR
    assert model["hold_pull_request"] == model["rollback_pull_request"]
    record = lab.record("staging", "fraud")
    assert (record["version"], record.get("rollout")) == ("v0.0.2", None)
    assert "canary" not in yaml.safe_load(lab.env_file("staging", "serving/fraud.yaml"))["spec"]
    assert "check error-ratio" in lab.env_file("staging", "holds/fraud.yaml")
    [last] = run(cli, "history", "fraud", "--env", "staging")[:1]
    assert (last["action"], last["version"]) == ("rollback", "v0.0.2")
    assert last["reason"].endswith("; v0.0.3 held")
    [insights] = [k for k in run(cli, "insights") if k["environment"] == "staging"]
    assert (insights["deployments"], insights["failures"], insights["canary_stops"]) == \
        (3, 1, 1)
    assert insights["history"][-1]["stopped_at_percent"] == 10

    release_version(cli, lab)  # v0.0.4 at 10%, then the monitoring goes away
    before = commits(lab)
    fleet.prometheus.close()
    outage = cli("verify", "--env", "staging", "--json")
    assert outage.code == 4, outage.err
    [model] = json.loads(outage.out)[0]["models"]
    assert (model["version"], model["outcome"], model["action"]) == \
        ("v0.0.4", "inconclusive", "none")
    assert all("unreachable" in c["reason"] for c in model["checks"])
    record = lab.record("staging", "fraud")
    assert (record["version"], record["rollout"]["percent"]) == ("v0.0.4", 10)
    assert commits(lab) == before and "v0.0.4" not in lab.env_file("staging",
                                                                  "holds/fraud.yaml")
