"""The ``rollout:`` of an environment in mlops.yaml: canary steps.

```yaml
rollout:
  steps: [10, 50, 100]     # percent of traffic on the new version, in order; ends at 100
  step_after: 10m          # verified time required at each step before the next
```

A promotion into such an environment (with another version serving there) starts at the
first step: the previous version keeps running as *stable* and the new one runs as
*canary* with that share of traffic (KServe v0.20 ``spec.canary``). ``jx-mlops verify``
advances it, one pull request per step, once the step's checks have passed for
``step_after``; a failing step removes the canary and holds the version.
"""

from __future__ import annotations

from dataclasses import dataclass

from jx_mlops.config.node import ConfigNode


@dataclass(frozen=True)
class RolloutConfig:
    """Canary steps (percent) and the verified time each must hold for."""

    steps: tuple[int, ...]
    step_after: int = 600

    def next_step(self, percent: int) -> int:
        """The step after ``percent`` (100 at the end)."""
        return next((s for s in self.steps if s > percent), 100)


def read_rollout(node: ConfigNode) -> RolloutConfig | None:
    """The validated ``rollout:`` block (None when there is none)."""
    if node.value is None:
        return None
    node.mapping(("steps", "step_after"), required=("steps",))
    steps_node = node.child("steps")
    items = steps_node.sequence("a list of percents such as [10, 50, 100]", non_empty=True,
                                limit=20)
    steps = tuple(item.integer(0, "a percent from 0 to 100") for item in items)
    if any(s > 100 for s in steps):
        raise steps_node.fail("percents from 0 to 100")
    if list(steps) != sorted(set(steps)) or steps[-1] != 100 or len(steps) < 2:
        raise steps_node.fail("increasing percents ending at 100, such as [10, 50, 100]")
    return RolloutConfig(steps, node.child("step_after").optional(ConfigNode.duration, 600))
