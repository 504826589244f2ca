"""Holds are visible (`status` marks a held version, `hold list`), versions never
registered cannot be held, approved or rolled back to, and a project read against a
forge that lacks its repositories says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.lab import Lab

pytestmark = pytest.mark.slow  # promotion stories through the CLI on a real local forge


def _env_refs(lab: Lab, env: str) -> str:
    return lab.env_git(env, "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.fixture
def staged(cli, lab: Lab) -> Lab:
    """fraud v0.0.1 registered and running in staging."""
    lab.new_version()
    assert cli("register", "fraud").code == 0
    assert cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging").code == 0
    return lab


@pytest.mark.parametrize("args", [
    ("hold", "fraud@v9.9.9", "--env", "staging", "--reason", "typo"),
    ("approve", "fraud", "--env", "production", "--version", "v9.9.9"),
    ("rollback", "fraud", "--env", "staging", "--to", "v9.9.9"),
])
def test_a_version_never_registered_is_refused(cli, staged: Lab, args: tuple[str, ...]) -> None:
    before = {env: _env_refs(staged, env) for env in ("staging", "production")}
    result = cli(*args)
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error")]
    assert errors == ["error: fraud@v9.9.9 is not registered (latest: v0.0.1)"]
    assert {env: _env_refs(staged, env) for env in before} == before


def test_status_marks_a_held_version_and_hold_list_shows_it(cli, staged: Lab) -> None:
    assert cli("hold", "list").out.strip() == "no version is on hold"
    assert cli("hold", "fraud@v0.0.1", "--env", "staging", "--reason", "slow").code == 0
    status = cli("status")
    row = next(line for line in status.out.splitlines() if "staging" in line)
    assert "v0.0.1 (held)" in row
    assert "held: fraud v0.0.1 in staging since " in status.out
    assert " by tester: slow" in status.out
    entries = json.loads(cli("status", "--json").out)
    assert [(e["environment"], e["held"]) for e in entries] == [
        ("staging", True), ("production", False)]
    assert entries[0]["holds"][0]["reason"] == "slow"
    listed = json.loads(cli("hold", "list", "--json").out)
    assert [(h["model"], h["environment"], h["version"]) for h in listed] == [
        ("fraud", "staging", "v0.0.1")]
    assert json.loads(cli("hold", "list", "--env", "production", "--json").out) == []
    assert cli("hold", "clear", "fraud@v0.0.1", "--env", "staging").code == 0
    assert "(held)" not in cli("status").out


def test_a_forge_without_the_projects_repositories_says_so(cli, staged: Lab, hermetic: Path,
                                                          monkeypatch) -> None:
    monkeypatch.setenv("JX_MLOPS_HOME", str(hermetic / "another-home"))
    result = cli("status")
    assert result.code == 1 and result.out == ""
    assert result.err.startswith(
        "error: environment repositories local/environment-staging, "
        "local/environment-production not found on the local forge ("
        f"{hermetic / 'another-home' / 'forge'}")
    assert "is JX_MLOPS_HOME the one the project was created with?" in result.err
    listed = cli("hold", "list")
    assert listed.code == 1 and "local/environment-staging not found" in listed.err


def test_a_solo_user_is_told_how_to_approve_as_another(cli, staged: Lab) -> None:
    assert cli("promote", "fraud", "--version", "v0.0.1", "--to", "production").code == 0
    refused = cli("approve", "fraud", "--env", "production")
    assert refused.code == 1 and "JX_MLOPS_USER=NAME jx-mlops approve" in refused.err
