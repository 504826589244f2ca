"""Where is the new model worse? A retrain that leaves debt_ratio out of the
sklearn-classifier quickstart's model is as accurate overall and much worse in the west,
where debt decides (src/make_dataset.py). The issue's "Done when", through the CLI on the
local forge: the PR comment names that region first, with its interval."""

from __future__ import annotations

import json

import pytest
from kit.cli import run_cli_process
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge

pytestmark = pytest.mark.slow
REPO = "local/churn"


def test_a_pr_that_degrades_one_region_gets_it_named_first(project: Project, cli,
                                                           monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    assert cli("retrain", "--set", "prepare.drop_features=debt_ratio").code == 0
    result = cli("ci", "pr", "--pr", "1", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["verdict"] == "pass", data["summary"]  # slices only report by default
    accuracy = next(m for m in data["metrics"] if m["name"] == "accuracy")
    assert abs(accuracy["delta"]) < 0.01, accuracy  # flat overall

    slices = data["models"][0]["slices"]
    assert slices["features"] == ["region", "age"] and slices["pairing"] == "paired"
    assert slices["worse"][0] == "region = west"
    west = next(r for r in slices["results"]
                if r["slice"] == "region = west" and r["metric"] == "accuracy")
    assert west["delta"] < -0.1 and west["high"] < 0 and west["q"] < 0.01, west
    assert "roc_auc: not searched per slice (not a sum over rows)" in slices["notes"]

    comment = LocalForge(project.home / "forge").list_comments(REPO, 1)[0].body
    section = comment[comment.index("**Where it got worse:**"):]
    assert section.startswith("**Where it got worse:** 1 of ")
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Slice | Rows | Metric | Base → Head | Change [95% CI] | q |"
    first = rows[1]
    assert first.startswith(f"| region = west | {west['rows']} | accuracy")
    assert f"{west['delta']:+.4f} [{west['low']:+.4f}, {west['high']:+.4f}]" in first
    assert 'x-axis "slice" ["region=west"' in section

    # A team that fails on slice regressions: the same results judged by `report` with
    # slices.fail_on in the work tree's mlops.yaml; the terminal table fits 80 columns.
    config = project.path / "mlops.yaml"
    config.write_text(config.read_text().replace(
        "      min_rows: 50\n",
        "      min_rows: 50\n      fail_on: regression\n      tolerance: 0.05\n"))
    head = LocalForge(project.home / "forge").get_pull(REPO, 1).head_sha
    judged = cli("report", "--base", "main", "--head", head, "--format", "json",
                 "--fail-on-regression")
    assert judged.code == 1, judged.err
    summary = json.loads(judged.out)["summary"]
    assert summary.startswith("fail: accuracy regressed ") and "in slice region = west" \
        in summary and "slices.tolerance 0.05" in summary
    monkeypatch.setenv("COLUMNS", "80")
    shown = run_cli_process("report", "--base", "main", "--head", head, cwd=project.path)
    assert "where it got worse" in shown.stdout, shown.stdout + shown.stderr
    lines = shown.stdout.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if "where it got worse" in line):]
    assert any(line.lstrip().startswith("region = west") for line in table), shown.stdout
    assert all(len(line) <= 80 for line in table[:8])
