"""`jx-mlops report` between revisions of a plain git project (no DVC needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git

CONFIG = """\
forge: {repo: acme/scores}
models:
  scorer:
    artifact: model.bin
    metrics: [metrics.json, eval/extra.yaml]
    policy:
      accuracy: {direction: higher, tolerance: 0.01}
      loss: {direction: lower}
"""


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    root = tmp_path / "scores"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "mlops.yaml").write_text(CONFIG)
    (root / "params.yaml").write_text("lr: 0.1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "config only: no metrics yet")
    (root / "metrics.json").write_text('{"accuracy": 0.80, "loss": 0.5, "old": 1}')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first metrics")
    return root


def commit_metrics(root: Path, text: str) -> None:
    (root / "metrics.json").write_text(text)
    (root / "params.yaml").write_text("lr: 0.05\n")
    git(root, "commit", "-qam", "new metrics")


def test_statuses_between_two_commits(scores: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(scores)
    commit_metrics(scores, '{"accuracy": 0.85, "loss": 0.6, "new": 2}')
    data = json.loads(cli("report", "--base", "HEAD~1", "--head", "HEAD", "--format",
                          "json").out)
    rows = {m["name"]: (m["base"], m["head"], m["status"]) for m in data["metrics"]}
    assert rows == {"accuracy": (0.80, 0.85, "improved"), "loss": (0.5, 0.6, "regressed"),
                    "old": (1, None, "removed"), "new": (None, 2, "new")}
    assert data["verdict"] == "fail"
    assert data["params"] == [{"model": "scorer", "path": "params.yaml", "name": "lr",
                               "base": 0.1, "head": 0.05, "status": "changed"}]


def test_missing_base_metrics_are_reported_with_reason(scores: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(scores)
    base = git(scores, "rev-parse", "HEAD~1")
    data = json.loads(cli("report", "--base", "HEAD~1", "--head", "HEAD", "--format",
                          "json").out)
    problems = data["models"][0]["base_problems"]
    assert f"metrics.json does not exist at HEAD~1 ({base[:7]})" in problems
    assert data["verdict"] == "fail"  # eval/extra.yaml is missing at head too
    assert data["models"][0]["head_problems"][0].startswith("eval/extra.yaml does not exist")
    md = cli("report", "--base", "HEAD~1", "--head", "HEAD", "--format", "md").out
    assert "Base metrics unavailable:** metrics.json does not exist at HEAD\\~1" in md


def test_unparseable_metrics_name_the_file(scores: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(scores)
    (scores / "metrics.json").write_text("{not json")
    data = json.loads(cli("report", "--format", "json").out)
    assert any(p.startswith("metrics.json at workspace: not valid JSON")
               for p in data["models"][0]["head_problems"])


def test_unknown_revision_is_a_clear_error(scores: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(scores)
    result = cli("report", "--base", "nope")
    assert result.code == 1
    assert result.err.startswith("error: unknown revision 'nope' in")
