"""One actor everywhere: the forge's records, a forced merge, the registry's tags, the
promotion history and a hold all name the same person (jx_mlops.identity.actor)."""

from __future__ import annotations

import json

import pytest
from kit.git import git
from kit.workspace import Project

ADA = "Ada Lovelace"


def test_forced_merge_tags_history_and_hold_name_the_same_actor(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.path)
    monkeypatch.delenv("JX_MLOPS_USER")
    git(project.path, "config", "--global", "user.name", ADA)

    registered = cli("register", "churn", "--json")
    assert registered.code == 0, registered.err
    version = json.loads(registered.out)["version"]
    promoted = cli("promote", "churn", "--version", version, "--to", "staging")
    assert promoted.code == 0, promoted.err
    held = cli("hold", f"churn@{version}", "--env", "staging", "--reason", "drift", "--json")
    assert held.code == 0, held.err
    assert json.loads(held.out)["by"] == ADA

    git(project.path, "switch", "-qc", "tweak")
    (project.path / "README.md").write_text("tweaked\n")
    git(project.path, "commit", "-qam", "tweak the readme")
    assert cli("forge", "pr", "create").code == 0
    forced = cli("forge", "pr", "merge", "1", "--force")
    assert forced.code == 0, forced.err
    bare = project.home / "forge/repos/local/churn.git"
    merge = git(bare, "log", "-1", "--format=%an%n%cn%n%B", "main")
    assert merge.startswith(f"{ADA}\n{ADA}\n") and f"Forced-by: {ADA}" in merge
    shown = json.loads(cli("forge", "pr", "show", "1", "--json").out)
    assert (shown["author"], shown["merged_by"]) == (ADA, ADA)

    assert git(project.path, "tag", "-l", "--format=%(taggername)", f"churn@{version}") == ADA
    history = json.loads(cli("history", "churn", "--env", "staging", "--json").out)
    assert history and {e["by"] for e in history} == {ADA}, history
    staging = project.home / "forge/repos/local/environment-staging.git"
    assert "by: Ada Lovelace" in git(staging, "show", "main:holds/churn.yaml")
    authors = set(git(staging, "log", "--format=%an|%cn", "main", "-3").splitlines())
    assert authors == {f"{ADA}|{ADA}"}
