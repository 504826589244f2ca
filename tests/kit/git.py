"""Running git in a test."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(path: Path, *args: str) -> str:
    """Run git in ``path`` and return its stdout."""
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True).stdout.strip()
