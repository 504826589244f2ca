"""Running the real DVC CLI in a test (the peer whose answers the tests compare with)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def dvc(root: Path, *args: str) -> str:
    """Run ``dvc ARGS`` in ``root``; fails the test if it fails; returns its stdout."""
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True,
                          capture_output=True, text=True).stdout


def dvc_json(root: Path, *args: str) -> dict[str, Any]:
    """``dvc ARGS --json`` in ``root``, parsed."""
    data: dict[str, Any] = json.loads(dvc(root, *args, "--json"))
    return data
