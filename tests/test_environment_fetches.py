"""How often a command fetches an environment repository from the forge.

Counted from outside: git's trace2 log (enabled in the test's global git config) records
every ``git-upload-pack`` the local forge's bare repositories serve, which is one per
fetch, whoever runs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.cli import run
from kit.lab import Lab, make_lab
from kit.prometheus import PrometheusServer
from kit.verify import VERIFIED_ENVIRONMENTS

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # a real Prometheus scraping, promotion stories

# The verified environments of kit/verify.py, each model's error ratio checked on its own.
ENVIRONMENTS = VERIFIED_ENVIRONMENTS.replace(
    "max(model_error_ratio)", 'max(model_error_ratio{{model="${{model}}"}})')
MODELS = ("fraud", "churn")


def release(cli, lab: Lab) -> None:
    lab.new_version()
    for model in MODELS:
        version = run(cli, "register", model)["version"]
        run(cli, "promote", model, "--version", version, "--to", "staging")


def set_error_ratios(prom: PrometheusServer, ratios: dict[str, float]) -> None:
    for key in [k for k in prom.exporter.values if k.startswith("model_error_ratio")]:
        del prom.exporter.values[key]
    for model, value in ratios.items():
        prom.exporter.values[f'model_error_ratio{{model="{model}"}}'] = value
    for model, value in ratios.items():
        prom.wait_for(f'max(model_error_ratio{{model="{model}"}})', f"{value:g}")


class UploadPacks:
    """Fetches served by the local forge, read from git's trace2 event files."""

    def __init__(self, home: Path, trace: Path) -> None:
        self.trace = trace
        self.forge = home / "forge" / "repos"
        trace.mkdir()
        with (Path.home() / ".gitconfig").open("a") as config:
            config.write(f"[trace2]\n\teventTarget = {trace}\n")

    def served(self, repo: str) -> int:
        """How many fetches ``repo`` (local/NAME) served since the last call."""
        bare = (self.forge / f"{repo}.git").resolve()
        count = 0
        for path in self.trace.iterdir():
            for line in path.read_text().splitlines():
                event = json.loads(line)
                argv = event.get("argv") or []
                if event.get("event") == "start" and argv[:1] == ["git-upload-pack"] and \
                        Path(argv[-1].strip("'")).resolve() == bare:
                    count += 1
            path.unlink()
        return count


def test_verify_fetches_each_environment_repository_once(
        cli, hermetic, monkeypatch, prometheus_server: PrometheusServer) -> None:
    prom = prometheus_server
    set_error_ratios(prom, {"fraud": 0.01, "churn": 0.01})
    lab = make_lab(hermetic, jx_home(), models=MODELS,
                   environments=ENVIRONMENTS.format(url=prom.url, on_failure="rollback"))
    monkeypatch.chdir(lab.path)
    release(cli, lab)
    fetches = UploadPacks(lab.home, hermetic / "trace2")

    [passed] = run(cli, "verify")
    assert [(m["model"], m["passed"]) for m in passed["models"]] == [
        ("fraud", True), ("churn", True)]
    assert fetches.served("local/environment-staging") == 1
    assert fetches.served("local/environment-production") == 0

    release(cli, lab)
    fetches.served("local/environment-staging")
    set_error_ratios(prom, {"fraud": 0.5, "churn": 0.01})
    failed = cli("verify", "--json")
    assert failed.code == 1, failed.err
    models = {m["model"]: m for m in json.loads(failed.out)[0]["models"]}
    assert (models["fraud"]["action"], models["fraud"]["rolled_back_to"]) == \
        ("rollback", "v0.0.1")
    assert (models["churn"]["passed"], models["churn"]["action"]) == (True, "none")
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
    assert "v0.0.2" in lab.env_file("staging", "holds/fraud.yaml")
    # verify's own fetch, then the rollback's landing, which must build on the latest tip
    # (it holds the promotion lock; the hold before it lands on what verify fetched).
    assert fetches.served("local/environment-staging") <= 2
