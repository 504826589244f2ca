"""The error boundary: one line and exit 1 for user errors, 3 for bugs, 130 for ^C."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.cli import run_cli_process

from jx_mlops.cli import registry as cli_module


def test_help_lists_commands() -> None:
    result = run_cli_process("--help")
    assert result.returncode == 0
    for command in ("create", "retrain", "report", "ci", "status", "forge", "demo"):
        assert command in result.stdout


def test_user_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run_cli_process("status", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: mlops.yaml not found in")
    assert "Traceback" not in result.stderr


def test_unexpected_error_exits_3_with_hint(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_args: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli_module, "cmd_status", boom)
    result = cli("status")
    assert result.code == 3
    assert "unexpected error: RuntimeError: kaboom" in result.err
    assert "--verbose" in result.err and "Traceback" not in result.err
    verbose = cli("--verbose", "status")
    assert "Traceback" in verbose.err


def test_interrupt_exits_130(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "cmd_status", interrupted)
    assert cli("status").code == 130


def test_quickstart_list(cli) -> None:
    result = cli("quickstart", "list", "--json")
    assert [q["name"] for q in json.loads(result.out)] == [
        "lightgbm-classifier", "pytorch-classifier", "sklearn-classifier", "sklearn-regressor"]
    assert "sklearn-classifier" in cli("quickstart", "list").out


def test_unknown_quickstart(cli) -> None:
    result = cli("create", "demo", "--quickstart", "tensorflow-gan")
    assert result.code == 1
    assert result.err.strip() == (
        "error: unknown quickstart 'tensorflow-gan' (available: lightgbm-classifier, "
        "pytorch-classifier, sklearn-classifier, sklearn-regressor; see `jx-mlops quickstart "
        "list`)")


def test_non_empty_target_writes_nothing(cli, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = cli("create", "demo", "--quickstart", "sklearn-classifier", "--dir", target)
    assert result.code == 1
    assert f"target directory {target} exists and is not empty" in result.err
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert not (tmp_path / "jx-home").exists()


@pytest.mark.parametrize("name", ["Bad_Name", "dash-", "a..b", "UPPER", "x" * 64])
def test_invalid_project_name(cli, name: str, tmp_path: Path) -> None:
    result = cli("create", name, "--quickstart", "sklearn-classifier")
    assert result.code == 1
    assert f"invalid project name {name!r}" in result.err
    assert list(tmp_path.glob("*")) == [tmp_path / "home"]


def test_unknown_quickstart_variable(cli) -> None:
    result = cli("create", "demo", "--quickstart", "sklearn-classifier", "--set", "colour=red")
    assert result.code == 1
    assert "quickstart sklearn-classifier has no variable 'colour'" in result.err


def test_forge_pr_show_unknown_repo(cli) -> None:
    result = cli("forge", "pr", "show", "3", "--repo", "acme/none")
    assert result.code == 1
    assert "repository acme/none not found on the local forge" in result.err
