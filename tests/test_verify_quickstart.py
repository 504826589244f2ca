"""Issue 14's loop on the sklearn-classifier quickstart: the project's real KServe model
server, scraped by a real Prometheus configured as docs/operations.md shows; the checks
`create` wrote (availability, error ratio, latency p95, score drift against v0.0.1's
evaluation) all pass on the healthy server; then v2 reaches staging, a failing check rolls
staging back to v1 through a merged emergency PR, v2 is held until `hold clear`, and
`insights` counts it all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kit.cli import run
from kit.git import git
from kit.prometheus import free_port, running_prometheus
from kit.servers import wait_ready
from kit.traffic import encoded_rows, send
from kit.workspace import Project

pytestmark = pytest.mark.slow


@pytest.fixture
def model_server(project: Project) -> Iterator[int]:
    """The project's own service (`python src/serve.py`): kserve.ModelServer, serving the
    work tree's model, v0.0.1 once `ci release` registered it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "src/serve.py", "--http_port", str(port)],
                            cwd=project.path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "MODEL_VERSION": "v0.0.1"})
    try:
        wait_ready([proc], [port])
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def predict(port: int, name: str) -> None:
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 1], "datatype": "FP32",
                                   "data": [1.0]}]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v2/models/{name}/infer", body,
                                     {"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:  # the wrong shape: refused, and still counted
        assert exc.code == 400


def wait_for_scrape(url: str, promql: str, timeout: float = 60) -> None:
    """Until Prometheus has a sample of ``promql`` equal to 1 (it scraped the target)."""
    query = urllib.parse.urlencode({"query": promql})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as reply:
                result = json.loads(reply.read())["data"]["result"]
            if result and result[0]["value"][1] == "1":
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"Prometheus never scraped {promql}")


# docs/operations.md's scrape config, scraping every second instead of every 15.
SCRAPE = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: model
    static_configs:
      - targets: ["127.0.0.1:{port}"]
        labels: {{track: stable}}
"""


def verify_block(url: str) -> str:
    return f"""    verify:
      prometheus: {url}
      checks:
        - name: serving
          query: min(up{{job="model"}})
          min: 1
        - name: traffic
          query: sum(request_predict_seconds_count{{model_name="${{model}}"}})
          min: 1000
      within: 1h
      on_failure: rollback
"""


def test_failing_check_on_the_real_model_server_rolls_staging_back(
        project: Project, cli, monkeypatch, model_server: int, tmp_path: Path) -> None:
    monkeypatch.chdir(project.path)
    assert run(cli, "ci", "release")["promotions"][0]["merged"] is True  # v0.0.1
    config = project.path / "mlops.yaml"
    created = config.read_text()
    # create's verify: block names no Prometheus: the scheduled job's first runs show the
    # checks "not run" with how to set one, pass, and record nothing (issue 23)
    staging = project.home / "forge/repos/local/environment-staging.git"
    before = git(staging, "for-each-ref", "--format=%(refname) %(objectname)")
    unset = cli("verify")
    assert unset.code == 0, unset.out + unset.err
    assert re.search(r"churn +v0\.0\.1 +availability +not run ", unset.out), unset.out
    assert "note: staging has no Prometheus URL, so its checks did not run: set " \
        "JX_MLOPS_PROMETHEUS_URL (a CI variable or secret) or verify.prometheus in " \
        "mlops.yaml (docs/operations.md)" in " ".join(unset.out.split())
    [unconfigured] = run(cli, "verify")
    assert unconfigured["outcome"] == "unconfigured"
    assert {c["outcome"] for c in unconfigured["models"][0]["checks"]} == {"not run"}
    assert git(staging, "for-each-ref", "--format=%(refname) %(objectname)") == before
    monkeypatch.setenv("JX_MLOPS_PROMETHEUS_URL", "prometheus:9090")
    bad = cli("verify")
    assert (bad.code, bad.err) == (1, "error: JX_MLOPS_PROMETHEUS_URL='prometheus:9090': "
                                      "expected a Prometheus URL such as "
                                      "http://127.0.0.1:9090\n")
    with running_prometheus(tmp_path, {}, SCRAPE.format(port=model_server)) as url:
        # the CI variable supplies the URL; mlops.yaml stays as create wrote it
        monkeypatch.setenv("JX_MLOPS_PROMETHEUS_URL", url)
        wait_for_scrape(url, 'up{job="model"}')  # the counters' first sample: 0
        rows = encoded_rows(project.path)
        assert set(send(model_server, "churn", rows)) == {200}
        sent = -(-len(rows) // 50)
        wait_for_scrape(url, 'sum(jx_mlops_requests_total{model="churn",version="v0.0.1"})'
                        f' >= bool {sent}')
        shown = cli("verify")
        assert shown.code == 0, shown.out + shown.err
        print(shown.out)
        for name in ("availability", "error-ratio", "latency-p95", "score-drift"):
            assert re.search(rf"churn +v0\.0\.1 +{name} +pass ", shown.out), shown.out
        assert "- on(le) ${score_reference}))" in shown.out  # shown as written
        healthy = cli("verify", "--json")
        [model] = json.loads(healthy.out)[0]["models"]
        assert [(c["name"], c["outcome"]) for c in model["checks"]] == [
            ("availability", "pass"), ("error-ratio", "pass"), ("latency-p95", "pass"),
            ("score-drift", "pass")]
        drift = model["checks"][-1]
        assert drift["value"] < 0.02  # the evaluation's own rows: the same distribution

        original = re.sub(r"    # Production checks.*?on_inconclusive: report[^\n]*\n", "",
                          created, count=1, flags=re.S)
        assert "verify:" not in original
        config.write_text(original)
        git(project.path, "commit", "-qam", "verify: none")
        assert cli("retrain", "--set", "train.n_estimators=120").code == 0
        assert cli("ci", "pr", "--pr", "1").code == 0
        assert cli("forge", "pr", "merge", "1").code == 0
        released = run(cli, "ci", "release")
        assert [r["tag"] for r in released["registrations"]] == ["churn@v0.0.2"]
        predict(model_server, "churn")
        config.write_text(original.replace(
            "    repo: local/environment-staging\n",
            "    repo: local/environment-staging\n" + verify_block(url), 1))
        git(project.path, "commit", "-qam", "verify: a check that fails")
        failed = cli("verify", "--json")
        assert failed.code == 1, failed.err
        [found] = json.loads(failed.out)
        [model] = found["models"]
        serving = model["checks"][0]
        assert serving["passed"] and serving["value"] == 1.0
        traffic = model["checks"][1]
        assert not traffic["passed"] and traffic["value"] is not None
        assert traffic["query"] == 'sum(request_predict_seconds_count{model_name="churn"})'
        assert (model["version"], model["action"], model["rolled_back_to"]) == \
            ("v0.0.2", "rollback", "v0.0.1")

    status = run(cli, "status")
    assert (status[0]["environment"], status[0]["version"]) == ("staging", "v0.0.1")
    refused = cli("promote", "churn", "--version", "v0.0.2", "--to", "staging")
    assert refused.code == 1 and "churn v0.0.2 is on hold in staging" in refused.err
    assert run(cli, "hold", "clear", "churn@v0.0.2", "--env", "staging")["changed"] is True
    assert run(cli, "promote", "churn", "--version", "v0.0.2", "--to", "staging")["merged"]

    [staging, _production] = run(cli, "insights")
    assert (staging["deployments"], staging["failures"]) == (3, 1)
    assert staging["time_to_restore_median_s"] is not None
    assert staging["lead_time_median_s"] is not None
