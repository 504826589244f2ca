"""Promotions, rollbacks and disables that land also write the GTO stage tag, so
``gto show`` sees where each version runs; ``registry.gto_stages: false`` turns it off."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from kit.git import git
from kit.gto import gto, gto_json
from kit.lab import Lab

pytestmark = pytest.mark.slow  # promotion stories read back with the real gto CLI


def stages_of(repo: Path, model: str) -> dict[str, list[str]]:
    return {v["version"]: sorted(s["stage"] for s in v["stages"])
            for v in gto_json(repo, model)}


def ok(cli: Any, *args: str) -> dict[str, Any]:
    result = cli(*args, "--json")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out) if result.out.strip() else {}
    return data


def test_ci_release_then_rollback_and_disable_read_in_gto(cli: Any, lab: Lab,
                                                          tmp_path: Path) -> None:
    lab.new_version()
    ok(cli, "ci", "release")
    assert stages_of(lab.path, "fraud") == {"v0.0.1": ["staging"]}
    # Pushed: a fresh clone of the project sees the stage too.
    assert "fraud#staging#1" in lab.forge_git_tags()
    lab.new_version()
    ok(cli, "ci", "release")
    assert stages_of(lab.path, "fraud") == {"v0.0.2": ["staging"], "v0.0.1": []}
    ok(cli, "ci", "release")  # a re-run changes nothing, and writes no tag
    assert len([t for t in lab.forge_git_tags() if "#" in t]) == 2
    ok(cli, "rollback", "fraud", "--env", "staging")
    assert stages_of(lab.path, "fraud") == {"v0.0.2": [], "v0.0.1": ["staging"]}
    ok(cli, "disable", "fraud", "--env", "staging", "--reason", "drift")
    assert stages_of(lab.path, "fraud") == {"v0.0.2": [], "v0.0.1": []}
    events = [(e["event"], e["version"], e["stage"])
              for e in json.loads(gto(lab.path, "history", "fraud", "--json"))
              if e["event"] in ("assignment", "unassignment")]
    # Newest first: the disable unassigned the stage from both versions holding it.
    assert set(events[:2]) == {("unassignment", "v0.0.1", "staging"),
                               ("unassignment", "v0.0.2", "staging")}
    subject = git(lab.path, "tag", "-l", "--format=%(contents:subject)", "fraud#staging#1")
    assert subject == "Assigning stage staging to artifact fraud version v0.0.1"
    # jx-mlops versions agrees with gto, and the environment repository still decides.
    listed = ok(cli, "versions")
    assert [(v["version"], v["stages"]) for v in listed] == [("v0.0.2", []), ("v0.0.1", [])]
    assert ok(cli, "audit")["ok"] is True
    # A stage assigned by hand with gto, pushed: audit reports the disagreement. GTO's
    # clock is whole seconds: stage tags made in one burst are dated a second apart, so
    # wait until the clock is past the newest of them (a tie would go to the unassignment).
    newest = max(int(t) for t in git(lab.path, "tag", "-l", "--format=%(taggerdate:unix)",
                                     "fraud#*").split())
    time.sleep(max(0.0, newest + 1.1 - time.time()))
    gto(lab.path, "assign", "fraud", "--version", "v0.0.2", "--stage", "staging", "--push")
    result = cli("audit")
    assert result.code == 1
    assert "GTO stage tags of fraud show v0.0.2 in stage staging, but the environment " \
           "serves nothing (disabled)" in result.out


def test_gto_stages_false_writes_no_stage_tag(cli: Any, lab: Lab) -> None:
    config = lab.path / "mlops.yaml"
    config.write_text(config.read_text() + "registry:\n  gto_stages: false\n")
    git(lab.path, "commit", "-qam", "no GTO stage tags")
    lab.new_version()
    ok(cli, "ci", "release")
    assert stages_of(lab.path, "fraud") == {"v0.0.1": []}
    assert not [t for t in git(lab.path, "tag", "-l").splitlines() if "#" in t]
    config.write_text(config.read_text().replace("gto_stages: false", "gto_stages: maybe"))
    result = cli("versions")
    assert result.code == 1 and "registry.gto_stages: expected true or false" in result.err
