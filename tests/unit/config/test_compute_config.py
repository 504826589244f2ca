"""mlops.yaml `compute:` (issue 22): typed, every error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.compute.spec import ComputeConfig, Resources
from jx_mlops.config.project import parse_config
from jx_mlops.errors import ConfigError

BASE = """\
version: 1
forge: {kind: local, repo: acme/churn}
models:
  churn: {artifact: models/model.pkl}
environments: []
"""
RAY = """compute:
  backend: ray
  address: http://127.0.0.1:8265/
  stages: [train]
  resources: {num_cpus: 2, num_gpus: 0, memory_gb: 4}
  timeout: 6h
"""


def parse(text: str) -> ComputeConfig:
    return parse_config(BASE + text, Path("/p/mlops.yaml")).compute


def test_default_runs_everything_here() -> None:
    assert parse("") == ComputeConfig() and not parse("").remote


def test_ray_block_is_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JX_MLOPS_COMPUTE_ADDRESS", raising=False)
    compute = parse(RAY)
    assert compute == ComputeConfig("ray", "http://127.0.0.1:8265", ("train",),
                                    Resources(2.0, 0.0, 4.0), 6 * 3600, "requirements.txt")
    assert compute.remote
    assert parse(RAY + "  requirements: none\n").requirements is None


def test_address_variable_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JX_MLOPS_COMPUTE_ADDRESS", "http://raycluster-head-svc.ml.svc:8265")
    assert parse(RAY).address == "http://raycluster-head-svc.ml.svc:8265"
    monkeypatch.setenv("JX_MLOPS_COMPUTE_ADDRESS", "raycluster:6379")
    with pytest.raises(ConfigError, match=r"^JX_MLOPS_COMPUTE_ADDRESS: expected an http"):
        parse(RAY)


@pytest.mark.parametrize(("change", "message"), [
    (("backend: ray", "backend: slurm"),
     "mlops.yaml: compute.backend: expected 'local' or 'ray', got 'slurm'"),
    (("address: http://127.0.0.1:8265/", "address: 127.0.0.1:6379"),
     "mlops.yaml: compute.address: expected an http(s):// URL of the Ray Jobs API"),
    (("  address: http://127.0.0.1:8265/\n", ""),
     "mlops.yaml: compute.address: expected an http(s):// URL"),
    (("stages: [train]", "stages: []"),
     "mlops.yaml: compute.stages: expected the DVC stages to run on Ray"),
    (("stages: [train]", "stages: ['train; rm -rf /']"),
     "mlops.yaml: compute.stages[0]: expected a DVC stage name"),
    (("num_cpus: 2", "num_cpus: -1"),
     "mlops.yaml: compute.resources.num_cpus: expected a number >= 0, got -1"),
    (("num_gpus: 0", "gpus: 1"),
     "mlops.yaml: compute.resources.gpus: unknown key"),
    (("timeout: 6h", "timeout: soon"),
     "mlops.yaml: compute.timeout: expected a duration"),
    (("backend: ray", "backend: ray\n  queue: gpu"),
     "mlops.yaml: compute.queue: unknown key"),
])
def test_errors_name_file_and_key(change: tuple[str, str], message: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JX_MLOPS_COMPUTE_ADDRESS", raising=False)
    with pytest.raises(ConfigError) as raised:
        parse(RAY.replace(*change))
    assert str(raised.value).startswith(message)
