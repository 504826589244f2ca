"""DORA keys for models: `insights` through the CLI on a real local forge (promote,
promote, rollback); the pure computation is tested in tests/unit/compare/test_dora.py."""

from __future__ import annotations

import pytest
from kit.cli import run
from kit.git import git
from kit.lab import Lab

pytestmark = pytest.mark.slow  # promotion and rollback stories through the CLI


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
