"""Running jx-mlops in a test: in-process (the ``cli`` fixture) or as its own process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    """What a CLI run returned and printed."""

    code: int
    out: str
    err: str


def run(cli: Callable[..., Result], *args: str) -> Any:
    """``jx-mlops ARGS --json`` through the ``cli`` fixture: asserts exit 0, returns the
    parsed JSON."""
    result = cli(*args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def run_cli_process(*args: str | Path, cwd: Path | None = None,
                    timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m jx_mlops ARGS`` as a separate process (real exit code, no capsys)."""
    return subprocess.run([sys.executable, "-m", "jx_mlops", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)
