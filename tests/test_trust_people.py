"""Issue 20, people and markers: what a reader, a writer or a bot account can make
jx-mlops believe, played through the CLI on the local forge.

Each test is an attack that succeeded before: a hidden marker typed by a reader, an
approval by the person who asked for the promotion, a hand-made version tag.
"""

from __future__ import annotations

import json

import pytest
from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


def _open_pull(project: Project, branch: str = "talk") -> LocalForge:
    git(project.path, "checkout", "-qb", branch)
    git(project.path, "commit", "-q", "--allow-empty", "-m", branch)
    git(project.path, "push", "-q", "origin", branch)
    git(project.path, "checkout", "-q", "main")
    forge = LocalForge(jx_home() / "forge")
    forge.create_pull("local/churn", title=branch, body="", head=branch, base="main")
    return forge


def test_a_readers_answered_marker_does_not_silence_a_maintainers_command(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack 8: a reader posts the bot's "answered" marker naming a maintainer's
    ``/rollback staging``; ``ci chatops`` must still run it."""
    monkeypatch.chdir(project.path)
    forge = _open_pull(project)
    forge.set_permission("local/churn", "eve", "read")
    command = forge.create_comment("local/churn", 1, "/rollback staging")
    LocalForge(forge.root, user="eve").create_comment(
        "local/churn", 1, f"<!-- jx-mlops:chatops comment={command.id} -->\ndone already")
    result = cli("ci", "chatops", "--pr", "1", "--comment", str(command.id), "--json")
    outcome = json.loads(result.out)
    assert outcome.get("skipped") is None, outcome
    assert [(c["command"], c["accepted"]) for c in outcome["commands"]] == [
        ("/rollback staging", True)]
    assert "never deployed in staging" in outcome["commands"][0]["message"]
    # Its own reply does count: the same comment again is answered already.
    again = json.loads(cli("ci", "chatops", "--pr", "1", "--comment", str(command.id),
                           "--json").out)
    assert again["skipped"] == f"comment {command.id} was already answered"
