"""`retrain --if-data-changed`: a retrain PR only when DVC-imported data changed upstream."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.dvc import dvc
from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


def _upstream(tmp_path: Path) -> Path:
    """A data registry: a git + DVC repository with one dataset."""
    source = tmp_path / "registry"
    source.mkdir()
    git(source, "init", "-q", "-b", "main")
    dvc(source, "init", "-q")
    dvc(source, "remote", "add", "-d", "store", str(tmp_path / "registry-store"))
    (source / "customers.csv").write_text("id,score\n1,0.5\n")
    dvc(source, "add", "-q", "customers.csv")
    git(source, "add", "-A")
    git(source, "commit", "-qm", "customers")
    dvc(source, "push", "-q")
    return source


def _change(source: Path, name: str, text: str, *, tracked: bool) -> None:
    (source / name).write_text(text)
    if tracked:
        dvc(source, "add", "-q", name)
    git(source, "add", "-A")
    git(source, "commit", "-qm", f"change {name}")
    dvc(source, "push", "-q")


def test_a_pull_request_only_when_imported_data_changed(project: Project, cli,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.chdir(project.path)
    result = cli("retrain", "--if-data-changed")
    assert result.out.strip() == "No pull request: no DVC imports in this project."

    source = _upstream(tmp_path)
    dvc(project.path, "import", "-q", str(source), "customers.csv", "-o", "data/customers.csv")
    git(project.path, "add", "-A")
    git(project.path, "commit", "-qm", "import customers")
    git(project.path, "push", "-q", "origin", "main")
    forge = LocalForge(jx_home() / "forge")

    assert cli("retrain", "--if-data-changed").out.strip() == (
        "No pull request: imported data is up to date.")
    _change(source, "README.md", "docs\n", tracked=False)
    assert cli("retrain", "--if-data-changed").out.strip().endswith(
        "No pull request: the sources moved but the imported data is identical.")
    assert git(project.path, "status", "--porcelain") == ""
    assert forge.list_pulls("local/churn", state="all") == []

    _change(source, "customers.csv", "id,score\n1,0.5\n2,0.9\n", tracked=True)
    result = cli("retrain", "--if-data-changed")
    assert result.code == 0, result.err
    assert "Opened pull request #1: retrain: imported data changed (data/customers.csv)" \
        in result.out
    pull = forge.get_pull("local/churn", 1)
    assert pull.labels == ("data", "retrain") and pull.head.startswith("retrain/data-")
    assert "| `data/customers.csv` |" in pull.body and " → " in pull.body
    lock = git(project.path, "show", f"{pull.head}:data/customers.csv.dvc")
    assert git(source, "rev-parse", "HEAD") in lock

    # Run again (the next scheduled run): the open pull request already proposes it.
    git(project.path, "checkout", "-q", "main")
    again = cli("retrain", "--if-data-changed")
    assert "Pull request #1 already proposes this data" in again.out
    assert len(forge.list_pulls("local/churn", state="all")) == 1
    assert git(project.path, "status", "--porcelain") == ""
    assert cli("retrain", "--if-data-changed", "--set", "a=1").err.strip() == (
        "error: --if-data-changed retrains on new data; it takes no --set")
