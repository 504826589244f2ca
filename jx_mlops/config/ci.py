"""The ``ci:`` block of mlops.yaml: what `ci pr` may take from the DVC remote.

```yaml
ci:
  run_cache: skip    # skip (default) | pull
```

DVC's run cache maps a stage's inputs to the outputs an earlier run pushed, and `dvc
repro` restores a stage from it instead of running it. Anyone who can write the DVC
remote can add an entry for inputs a pull request is about to have (the params of a
visible retrain PR) naming a model of their own: `ci pr` would then restore that stage
with their model, load it in the PR's job and in trusted evaluation, and commit a
dvc.lock naming it. So `ci pr` (and the merge queue, and a fork's `ci pr --output`)
neither pull the remote's run cache nor restore stages from it unless the *base's*
mlops.yaml says ``run_cache: pull``: set it only when everyone who can write the DVC
remote is trusted as much as the people who merge. Pushing it is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from jx_mlops.config.node import ConfigNode

RunCache = Literal["skip", "pull"]


@dataclass(frozen=True)
class CiConfig:
    """``run_cache``: whether `ci pr` pulls and restores from DVC's run cache."""

    run_cache: RunCache = "skip"


def read_ci(node: ConfigNode) -> CiConfig:
    """``ci:`` of mlops.yaml (defaults when absent); ConfigError naming the key."""
    if node.value is None:
        return CiConfig()
    node.mapping(("run_cache",))
    return CiConfig(run_cache=cast(RunCache, node.child("run_cache").optional(
        lambda n: n.choice("skip", "pull"), "skip")))
