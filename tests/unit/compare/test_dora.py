"""DORA keys for models: the pure computation on a hand-made history (through the CLI:
tests/test_insights.py)."""

from __future__ import annotations

from jx_mlops.compare.dora import ModelEvent, dora_keys, percentile

DAY = 86400


def hand_made() -> tuple[list[ModelEvent], dict[str, int]]:
    events = [ModelEvent("promote", "v1", 0),
              ModelEvent("promote", "v2", DAY),
              ModelEvent("rollback", "v1", DAY + 1800),
              ModelEvent("promote", "v3", 2 * DAY),
              ModelEvent("disable", "v3", 2 * DAY + 600),
              ModelEvent("promote", "v4", 3 * DAY)]
    starts = {"v1": -3600, "v2": DAY - 7200, "v3": 2 * DAY - 600, "v4": 3 * DAY - 60}
    return events, starts


def test_four_keys_of_a_hand_made_history() -> None:
    events, starts = hand_made()
    keys = dora_keys("churn", "staging", events, starts, since=None, until=7 * DAY)
    assert keys.deployments == 4
    assert keys.deployment_frequency_per_week == 4.0  # 4 in the 7 days since the first
    assert keys.lead_time_median_s == (600 + 3600) / 2
    assert keys.lead_time_p90_s == 7200  # nearest rank: the 4th of 4
    assert (keys.failures, keys.change_failure_rate) == (2, 0.5)
    # v2: rolled back 30 min after it landed; v3: disabled, restored by v4 a day later.
    assert [(d.version, d.failed_by, d.restored_after_s) for d in keys.history] == [
        ("v1", None, None), ("v2", "rollback", 1800), ("v3", "disable", DAY),
        ("v4", None, None)]
    assert keys.time_to_restore_median_s == (1800 + DAY) / 2
    assert keys.open_failures == 0


def test_window_failure_still_open_and_no_deployments() -> None:
    events, starts = hand_made()
    keys = dora_keys("churn", "staging", events[:5], starts, since=DAY, until=7 * DAY)
    assert keys.deployments == 2 and keys.deployment_frequency_per_week == round(2 * 7 / 6, 3)
    assert (keys.failures, keys.open_failures, keys.time_to_restore_median_s) == (2, 1, 1800)
    empty = dora_keys("churn", "production", [], {}, since=None, until=DAY)
    assert (empty.deployments, empty.change_failure_rate, empty.lead_time_median_s) == \
        (0, None, None)
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_canary_steps_are_one_deployment_and_a_stopped_canary_its_own_failure() -> None:
    events = [ModelEvent("promote", "v1", 0),
              ModelEvent("promote", "v2", DAY, 10), ModelEvent("promote", "v2", DAY + 600, 50),
              ModelEvent("promote", "v2", DAY + 1200),  # 100 %: complete
              ModelEvent("promote", "v3", 2 * DAY, 10),
              ModelEvent("promote", "v3", 2 * DAY + 600, 50),
              ModelEvent("hold", "v3", 2 * DAY + 900),
              ModelEvent("rollback", "v2", 2 * DAY + 960)]
    keys = dora_keys("churn", "staging", events, {}, since=None, until=7 * DAY)
    assert keys.deployments == 3
    assert [(d.version, d.failed, d.stopped_at_percent) for d in keys.history] == [
        ("v1", False, None), ("v2", False, None), ("v3", True, 50)]
    assert (keys.failures, keys.canary_stops) == (1, 1)
    assert keys.time_to_restore_median_s == 360  # from the failing 50 % step
