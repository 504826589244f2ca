"""Honest output on the lab project: an empty comment is refused, a registration on an
older commit than the latest version warns, a cut commit status says it was cut."""

from __future__ import annotations

import io
import json

import pytest
from kit.git import git
from kit.lab import Lab

pytestmark = pytest.mark.slow  # the lab project on a real local forge


@pytest.mark.parametrize(("body", "stdin", "why"), [
    ("-", "", "standard input gave nothing"),
    ("-", " \n\t\n", "standard input gave nothing"),
    ("  ", "", "it is empty"),
])
def test_an_empty_comment_is_refused(cli, lab: Lab, monkeypatch, body: str, stdin: str,
                                     why: str) -> None:
    git(lab.path, "switch", "-qc", "docs")
    (lab.path / "README.md").write_text("docs\n")
    git(lab.path, "add", "README.md")
    git(lab.path, "commit", "-qm", "docs")
    assert cli("forge", "pr", "create", "--body", "why").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    result = cli("forge", "pr", "comment", "1", "--body", body)
    assert result.code == 1
    assert result.err.strip() == f"error: --body {body!r}: a comment needs text ({why})"
    assert lab.forge.list_comments("local/fraud", 1) == []


def test_registering_an_older_commit_than_the_latest_version_warns(cli, lab: Lab) -> None:
    lab.new_version()
    older = lab.new_version()
    lab.new_version()
    assert cli("register", "fraud").code == 0  # v0.0.1 on HEAD
    result = cli("register", "fraud", "--ref", "HEAD~1", "--json")
    assert result.code == 0, result.err
    made = json.loads(result.out)
    assert (made["version"], made["commit"]) == ("v0.0.2", older)
    assert (f"warning: fraud@v0.0.2 is on {older[:12]}, older than fraud@v0.0.1 "
            f"({git(lab.path, 'rev-parse', 'HEAD')[:12]}): its higher number does not mean "
            "a newer model") in " ".join(result.err.split())
    # A newer commit than the latest version's: nothing to warn about.
    lab.new_version()
    newer = cli("register", "fraud")
    assert newer.code == 0 and "warning" not in newer.err
