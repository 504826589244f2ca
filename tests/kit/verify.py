"""A project verified against the test Prometheus (tests/kit/prometheus.py): its
environments, a release into staging, and the error ratio the exporter reports."""

from __future__ import annotations

from pathlib import Path

from jx_mlops.fsutil import jx_home
from kit.cli import run
from kit.lab import Lab, make_lab
from kit.prometheus import PrometheusServer

VERIFIED_ENVIRONMENTS = """\
  - name: staging
    repo: local/environment-staging
    strategy: auto
    verify:
      prometheus: {url}
      checks:
        - name: serving
          query: min(up{{job="model"}})
          min: 1
        - name: errors
          query: max(model_error_ratio)
          max: 0.05
      within: 30m
      on_failure: {on_failure}
  - name: production
    repo: local/environment-production
    strategy: manual
    requires: staging
"""


def verified_lab(base: Path, url: str, on_failure: str = "rollback") -> Lab:
    return make_lab(base, jx_home(),
                    environments=VERIFIED_ENVIRONMENTS.format(url=url, on_failure=on_failure))


def release_version(cli, lab: Lab) -> str:
    lab.new_version({"fraud": {"accuracy": 0.9}})
    version = run(cli, "register", "fraud")["version"]
    run(cli, "promote", "fraud", "--version", version, "--to", "staging")
    return str(version)


def set_error_ratio(prom: PrometheusServer, value: float) -> None:
    for key in [k for k in prom.exporter.values if k.startswith("model_error_ratio{")]:
        del prom.exporter.values[key]  # per-version series another test set
    prom.exporter.values["model_error_ratio"] = value
    prom.wait_for("max(model_error_ratio)", f"{value:g}")
