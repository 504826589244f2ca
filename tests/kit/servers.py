"""The quickstarts' real model service (kit/serving.py on KServe's model server), started
from a trained quickstart project under any model name and version, on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

_RUN = """\
import sys
from pathlib import Path
sys.path.insert(0, "src")
import model_io
from kit import data, serving
name, model_dir = sys.argv[1], Path(sys.argv[2])
serving.run(serving.Model(name, len(data.features()),
                          lambda: model_io.load_for_serving(model_dir),
                          model_io.serve_predict, model_io.serve_scores))
"""


_RETRAIN = """\
import pickle, sys
sys.path.insert(0, "src")
import common, model_io
from kit.data import encode, features, read_table
model = model_io.load()
model.set_params(random_state=model.random_state + 1)  # another seed: another model
rows = read_table("data/prepared/train.csv")
model.fit(encode(rows, features(), common.CATEGORIES), rows[common.TARGET].to_numpy())
model_io.save(model, sys.argv[1])
"""


def retrained(project: Path, dest: Path) -> Path:
    """A second model of the sklearn-classifier ``project`` (its forest fitted again with
    another seed), saved as ``dest``/model.pkl; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", _RETRAIN, str(dest / "model.pkl")], cwd=project,
                   check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return dest


def start(project: Path, name: str, version: str, port: int, model_dir: Path
          ) -> subprocess.Popen[bytes]:
    """``project``'s service for ``name`` labelled ``version``, serving ``model_dir``."""
    env = {**os.environ, "MODEL_VERSION": version, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen([sys.executable, "-c", _RUN, name, str(model_dir),
                             "--http_port", str(port)], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(procs: Sequence[subprocess.Popen[bytes]], ports: Sequence[int],
               timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for proc, port in zip(procs, ports, strict=True):
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready",
                                            timeout=5):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, \
                    f"no model server on port {port}"
                time.sleep(0.3)


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)
