"""GTO, the registry's peer: its real CLI, as the tests compare with it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def gto_bin() -> str:
    path = shutil.which("gto") or str(Path(sys.executable).parent / "gto")
    assert Path(path).exists(), "gto is in the test extra: pip install -e '.[test]'"
    return path


def gto(repo: Path, *args: str) -> str:
    return subprocess.run([gto_bin(), *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def gto_json(repo: Path, *args: str) -> Any:
    return json.loads(gto(repo, "show", *args, "--json"))
