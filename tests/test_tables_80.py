"""Every table at 80 columns: it fits, and what names a thing (a version, a repository, a
model, an environment) is shown whole; people, URLs and notes give way first."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.git import git
from kit.gto import gto
from kit.lab import Lab
from rich.cells import cell_len

from jx_mlops import console
from jx_mlops.promote.verify import CheckOutcome, ModelVerification
from jx_mlops.views.operations import show_verification

pytestmark = pytest.mark.slow  # promotion stories through the CLI on a real local forge

WIDTH = 80
REASON = ("scores drift on new applicants since the March data refresh; the fraud team "
          "asked to stop serving it until the retrain lands")


def narrow(cli, *args: str | Path, boxed: bool = False) -> str:
    """``jx-mlops ARGS`` at 80 columns; asserts its table fits (``boxed``: the lines of a
    table drawn in a box; lines of text are left whole for the terminal to wrap) and
    returns what it printed."""
    result = cli(*args)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    if boxed:
        lines = [line for line in lines if line[:1] in "┏┃┡│└"]
        assert lines
    wide = [line for line in lines if cell_len(line) > WIDTH]
    assert wide == [], f"jx-mlops {' '.join(map(str, args))}: lines over {WIDTH} columns"
    return result.out


def _story(cli, lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two versions through staging and production, a rollback and a disable with a long
    reason; then the terminal is 80 columns wide."""
    for _ in range(2):
        lab.new_version()
        assert cli("register", "fraud").code == 0
    for version in ("v0.0.1", "v0.0.2"):
        assert cli("promote", f"fraud@{version}", "--env", "staging").code == 0
    assert cli("promote", "fraud@v0.0.2", "--env", "production").code == 0
    monkeypatch.setenv("JX_MLOPS_USER", "grace-hopper-of-the-review-board")
    assert cli("approve", "fraud", "--env", "production").code == 0
    assert cli("rollback", "fraud", "--env", "staging").code == 0
    assert cli("disable", "fraud", "--env", "production", "--reason", REASON).code == 0
    monkeypatch.setenv("COLUMNS", str(WIDTH))


def test_every_table_of_a_promotion_story_fits(cli, lab: Lab, monkeypatch) -> None:
    _story(cli, lab, monkeypatch)
    # history after a rollback: its notes fold under their rows, in full.
    lines = narrow(cli, "history", "fraud").splitlines()
    rollback = next(n for n, line in enumerate(lines) if " rollback " in line)
    assert "v0.0.1" in lines[rollback] and "v0.0.2" in lines[rollback]
    disable = next(n for n, line in enumerate(lines) if " disable " in line)
    assert " ".join(line.strip() for line in lines[disable + 1:disable + 3]) == REASON
    assert any("approved by grace-hopper-of-the-review-board" in line for line in lines)

    status = narrow(cli, "status")
    assert "fraud  staging     v0.0.1" in status and "v0.0.2 (disabled)" in status
    versions = narrow(cli, "versions")
    assert "v0.0.2" in versions and "v0.0.1" in versions
    insights = narrow(cli, "insights")
    assert "production" in insights and "staging" in insights
    pulls = narrow(cli, "forge", "pr", "list", "--repo", "local/environment-production",
                   "--state", "all")
    assert "promote/production/fraud-v0.0.2" in pulls  # a branch name, whole
    narrow(cli, "quickstart", "list")
    report = narrow(cli, "report", "--base", "HEAD~1", "--head", "HEAD", "--trend", "0",
                    boxed=True)
    assert "0.82" in report and "0.81" in report

    # Repository names whole; the clone URLs give way, in the middle.
    repos = narrow(cli, "forge", "repo", "list")
    for name in ("local/environment-staging", "local/environment-production", "local/fraud"):
        assert f"{name} " in repos
    assert "…" in repos and "environment-staging.git" in repos


def test_verification_table_fits(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    console.start(quiet=False)
    query = ('sum(rate(http_requests_total{job="fraud-predictor",code=~"5.."}[5m])) / '
             'sum(rate(http_requests_total{job="fraud-predictor"}[5m]))')
    checks = (CheckOutcome("error-rate", query, 0.0412, None, 0.01, "fail",
                           "0.0412 > max 0.01 (over the last 5 minutes)"),
              CheckOutcome("latency-p99", "histogram_quantile(0.99, ...)", 0.21, None, 0.5,
                           "pass", "0.21"))
    show_verification({"production": [ModelVerification(
        "production", "fraud-detector-v2", "v12.40.3", "fail", checks, True, "hold",
        hold_pull=12)]}, as_json=False)
    shown = capsys.readouterr().out
    table = [line for line in shown.splitlines() if " failed in production: " not in line]
    assert all(cell_len(line) <= WIDTH for line in table), shown
    assert "fraud-detector-v2" in shown and "v12.40.3" in shown


def test_gto_history_keeps_versions_whole_and_cuts_the_email(cli, tmp_path: Path,
                                                             monkeypatch) -> None:
    repo = tmp_path / "registry"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "c0")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Barbara Liskov of the Model Governance Team")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "barbara.liskov.governance@registry.example.com")
    gto(repo, "register", "customer-lifetime-value-estimator", "HEAD", "--version", "v10.20.30")
    gto(repo, "assign", "customer-lifetime-value-estimator", "--version", "v10.20.30",
        "--stage", "production")
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    shown = narrow(cli, "-C", repo, "history", "customer-lifetime-value-estimator")
    rows = [line for line in shown.splitlines() if "v10.20.30" in line]
    assert len(rows) == 2 and any("production" in row for row in rows)
    assert "…" in shown  # the tagger, cut; never the version
