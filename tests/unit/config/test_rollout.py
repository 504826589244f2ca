"""Canary steps in mlops.yaml: what is accepted, and one-line errors otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from jx_mlops.config.node import ConfigNode
from jx_mlops.config.rollout import RolloutConfig, read_rollout
from jx_mlops.errors import ConfigError


def rollout(value: Any) -> RolloutConfig | None:
    return read_rollout(ConfigNode(value, "environments[0].rollout", "mlops.yaml"))


def test_steps_and_the_next_one() -> None:
    config = rollout({"steps": [0, 10, 50, 100], "step_after": "10m"})
    assert config == RolloutConfig((0, 10, 50, 100), 600)
    assert [config.next_step(p) for p in (0, 10, 50)] == [10, 50, 100]
    assert rollout(None) is None


@pytest.mark.parametrize(("value", "message"), [
    ({"steps": [50, 10, 100]}, "expected increasing percents ending at 100"),
    ({"steps": [10, 50]}, "expected increasing percents ending at 100"),
    ({"steps": [100]}, "expected increasing percents ending at 100"),
    ({"steps": [10, 150]}, "expected percents from 0 to 100"),
    ({"steps": [10, "half", 100]}, "steps[1]: expected a percent from 0 to 100"),
    ({"steps": [10, 100], "step_after": "soon"}, "step_after: expected a duration"),
    ({"steps": [10, 100], "pause": "1h"}, "rollout.pause: unknown key"),
])
def test_bad_rollouts_are_one_line_errors(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        rollout(value)
    assert message in str(caught.value) and "\n" not in str(caught.value)
