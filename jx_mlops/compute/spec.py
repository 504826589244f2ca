"""What `compute:` of mlops.yaml asks for: which engine, where, which stages, what they get.

```yaml
compute:
  backend: ray                    # local (default) | ray
  address: http://127.0.0.1:8265  # the Ray Jobs API: a local head or a KubeRay head service
  stages: [train]                 # DVC stages that run on the engine; the rest run in CI
  resources: {num_cpus: 2, num_gpus: 0, memory_gb: 4}
  timeout: 6h
  requirements: requirements.txt  # pip-installed in the job's environment; none: the image's
```
"""

from __future__ import annotations

from dataclasses import dataclass, field

ADDRESS_VARIABLE = "JX_MLOPS_COMPUTE_ADDRESS"


@dataclass(frozen=True)
class Resources:
    """What one job reserves on the cluster (Ray's entrypoint resources)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory_gb: float = 0.0  # 0: no memory reserved


@dataclass(frozen=True)
class ComputeConfig:
    """``backend`` local runs every stage in the CI job; ``ray`` hands ``stages`` to the
    Ray Jobs API at ``address`` (``JX_MLOPS_COMPUTE_ADDRESS`` wins when set)."""

    backend: str = "local"
    address: str = ""
    stages: tuple[str, ...] = ()
    resources: Resources = field(default_factory=Resources)
    timeout_s: int = 6 * 3600
    # A pip requirements file of the PR head installed in the job's environment; None: the
    # cluster's own environment runs the stage as it is.
    requirements: str | None = "requirements.txt"

    @property
    def remote(self) -> bool:
        return self.backend != "local" and bool(self.stages)
