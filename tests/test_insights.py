"""DORA keys for models: the pure computation on a hand-made history, then `insights`
through the CLI on a real local forge (promote, promote, rollback)."""

from __future__ import annotations

from kit.cli import run
from kit.git import git
from kit.lab import Lab

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


def test_insights_counts_what_the_history_shows(cli, lab: Lab) -> None:
    sources = []
    for _ in range(2):
        sources.append(lab.new_version({"fraud": {"accuracy": 0.9}}))
        version = run(cli, "register", "fraud")["version"]
        run(cli, "promote", "fraud", "--version", version, "--to", "staging")
    run(cli, "rollback", "fraud", "--env", "staging")
    history = run(cli, "history", "fraud", "--env", "staging")
    rollback, second, first = (e["timestamp"] for e in history)

    found = run(cli, "insights")
    staging, production = found
    assert (staging["environment"], production["environment"]) == ("staging", "production")
    assert staging["deployments"] == 2 and staging["failures"] == 1
    assert staging["change_failure_rate"] == 0.5
    assert staging["time_to_restore_median_s"] == rollback - second
    authored = [int(git(lab.path, "log", "-1", "--format=%at", sha)) for sha in sources]
    leads = sorted([first - authored[0], second - authored[1]])
    assert staging["lead_time_median_s"] == sum(leads) / 2
    assert staging["lead_time_p90_s"] == leads[1]
    assert (production["deployments"], production["change_failure_rate"]) == (0, None)
    assert set(staging) >= {"deployments", "deployment_frequency_per_week",
                            "lead_time_median_s", "lead_time_p90_s", "change_failure_rate",
                            "time_to_restore_median_s"}

    report = cli("insights", "--env", "staging", "--format", "md")
    assert report.code == 0 and "```mermaid" in report.out and "| fraud | staging | 2 |" \
        in report.out
    table = cli("insights", "--model", "fraud")
    assert table.code == 0 and "Fail rate" in table.out and "50%" in table.out
    later = run(cli, "insights", "--since", "2999-01-01")
    assert later[0]["deployments"] == 0


def test_bad_since_is_one_line(cli, lab: Lab) -> None:
    result = cli("insights", "--since", "last tuesday")
    assert result.code == 1
    assert result.err.strip() == ("error: --since: 'last tuesday' is not a date (use "
                                  "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
