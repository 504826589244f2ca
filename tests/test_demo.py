"""`jx-mlops demo`: the whole loop from one command, as a new user runs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kit.cli import run_cli_process

pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    keep = tmp_path / "kept"
    result = run_cli_process("demo", "--keep", keep, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The reviewer's view: the comment rendered for the terminal, every column kept.
    assert re.search(r"Metric +Base +Head +Change +95% CI +Status", out)
    table = out[out.index("Metric"):out.index("Params changed")]
    assert "metrics.json:" in table and "accuracy" in table and "within tolerance" in table
    assert "registered churn-model@v0.0.1" in out
    assert "churn-model v0.0.1 -> staging: PR #1 merged" in out
    status = out[out.index("Deployments"):]
    assert "staging" in status and "v0.0.1" in status
    assert "Demo complete." in out
    # "Next" lines only name directories that are still there after the demo.
    nexts = re.findall(r"^Next: cd (\S+)", out, flags=re.M)
    assert set(nexts) == {str(keep.resolve() / "churn-model")}
    assert all(Path(d).is_dir() for d in nexts)
    assert (keep / "churn-model" / "dvc.lock").is_file()
    assert (keep / "jx-home" / "forge" / "repos" / "local" / "environment-staging.git").is_dir()
