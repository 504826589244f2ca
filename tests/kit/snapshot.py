"""Snapshot assertions: long outputs are compared with files a reviewer can read.

Run with UPDATE_SNAPSHOTS=1 to (re)write them after an intended change, then review the
diff of tests/snapshots/ like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("UPDATE_SNAPSHOTS") != "1" and os.environ.get("CI"):
            raise AssertionError(f"snapshot {name} is missing (run with UPDATE_SNAPSHOTS=1)")
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept)"
