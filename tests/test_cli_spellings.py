"""The command line's one grammar, used: `env VERB` and the first names, `MODEL@VERSION`
and `--version`, `--env` and `--to`, `--json` on what prints data, `-v` on a user error,
and `--html` into a folder that does not exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.cli import run
from kit.lab import Lab

pytestmark = pytest.mark.slow  # promotion through the CLI on a real local forge


def _versions(cli, lab: Lab, count: int) -> None:
    for _ in range(count):
        lab.new_version()
        assert cli("register", "fraud").code == 0


def test_environment_verbs_take_model_at_version_and_env(cli, lab) -> None:
    _versions(cli, lab, 2)
    first = run(cli, "env", "promote", "fraud@v0.0.1", "--env", "staging")
    assert (first["version"], first["merged"]) == ("v0.0.1", True)
    # The first spelling still works, and says the same.
    second = run(cli, "promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    assert (second["version"], second["merged"]) == ("v0.0.2", True)
    back = run(cli, "env", "rollback", "fraud@v0.0.1", "--env", "staging")
    assert (back["version"], back["action"]) == ("v0.0.1", "rollback")
    held = run(cli, "env", "hold", "fraud", "--version", "v0.0.2", "--env", "staging")
    assert held["held"] and held["version"] == "v0.0.2"
    status = run(cli, "env", "status", "--env", "staging")
    assert [(e["model"], e["version"]) for e in status] == [("fraud", "v0.0.1")]
    lineage = run(cli, "lineage", "fraud", "--version", "v0.0.2")
    assert lineage["tag"] == "fraud@v0.0.2"


@pytest.mark.parametrize(("argv", "message"), [
    (("promote", "fraud", "--env", "staging"),
     "error: which version of fraud? name it as fraud@vX.Y.Z"),
    (("promote", "fraud@v0.0.1", "--version", "v0.0.2", "--env", "staging"),
     "error: fraud@v0.0.1 and --version v0.0.2 name two versions; give one"),
    (("env", "rollback", "fraud", "--env", "staging", "--to", "production"),
     "error: invalid version 'production': expected vX.Y.Z, such as v1.2.0 (or latest)"),
    (("register", "fraud@v1.0.0", "--bump", "minor"),
     "error: register fraud@v1.0.0: a version and --bump minor both say which version"),
])
def test_a_version_named_wrong_is_one_line_and_writes_nothing(cli, lab, argv, message
                                                              ) -> None:
    _versions(cli, lab, 1)
    tags = lab.forge_git_tags()
    result = cli("-v", *argv)  # --verbose: still no traceback for the user's own error
    assert result.code == 1
    assert result.err.startswith(message) and result.err.count("\n") == 1
    assert "Traceback" not in result.err
    assert lab.forge_git_tags() == tags
    assert lab.forge.list_pulls("local/environment-staging", state="all") == []


def test_commands_that_print_data_print_json(cli, lab) -> None:
    _versions(cli, lab, 1)
    run(cli, "promote", "fraud@v0.0.1", "--env", "staging")
    (pull,) = run(cli, "forge", "pr", "list", "--repo", "local/environment-staging",
                  "--state", "all")
    comment = run(cli, "forge", "pr", "comment", str(pull["number"]), "--body", "looks good",
                  "--repo", "local/environment-staging")
    assert (comment["pull_request"], comment["body"]) == (pull["number"], "looks good")
    permission = run(cli, "forge", "collaborator", "ada", "write")
    assert permission == {"repo": "local/fraud", "user": "ada", "permission": "write"}
    opened = run(cli, "retrain", "--set", "train.seed=5")
    assert (opened["number"], opened["head"], opened["state"]) == (1, "retrain/seed-5", "open")
    closed = run(cli, "forge", "pr", "close", "1")
    assert (closed["repo"], closed["number"], closed["state"]) == ("local/fraud", 1, "closed")


def test_report_html_into_a_missing_folder_is_refused_before_any_work(cli, lab, tmp_path
                                                                     ) -> None:
    lab.new_version()
    target = tmp_path / "reports" / "pr.html"
    result = cli("report", "--base", "HEAD~1", "--html", target)
    assert result.code == 1
    assert result.err.startswith(f"error: --html {target}: folder {target.parent} does "
                                 "not exist (create it first: mkdir -p")
    assert not target.parent.exists()
    target.parent.mkdir()
    result = cli("report", "--base", "HEAD~1", "--html", target, "--json")
    assert result.code == 0, result.err
    assert f"HTML report written to {target}" in result.err
    assert json.loads(result.out)["verdict"] in ("pass", "fail")
    assert Path(target).read_text().startswith("<!DOCTYPE html>")
    html = cli("report", "--base", "HEAD~1", "--format", "html")
    assert html.out.startswith("<!DOCTYPE html>")
