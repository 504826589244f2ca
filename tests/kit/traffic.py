"""A bounded traffic generator for a quickstart's model service (``python src/serve.py``):
the project's own test rows, encoded as its pipeline encodes them, sent in batches."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

_ENCODE = """\
import json, sys
sys.path.insert(0, "src")
import common
from kit import data
frame = data.read_table("data/prepared/test.csv")
print(json.dumps(data.encode(frame, data.features(), common.CATEGORIES).tolist()))
"""


def encoded_rows(project: Path) -> list[list[float]]:
    """The rows of data/prepared/test.csv as the model takes them (what evaluate scored)."""
    done = subprocess.run([sys.executable, "-c", _ENCODE], cwd=project, check=True,
                          capture_output=True, text=True)
    rows: list[list[float]] = json.loads(done.stdout)
    return rows


def send(port: int, model: str, rows: list[list[float]], batch: int = 50) -> list[int]:
    """POST ``rows`` in batches of ``batch`` (V1 protocol); the HTTP status of each."""
    statuses = []
    for start in range(0, len(rows), batch):
        body = json.dumps({"instances": rows[start:start + batch]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/models/{model}:predict", body,
            {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                statuses.append(reply.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    return statuses
