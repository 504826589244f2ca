"""Debian's docker-registry (the CNCF distribution registry) on loopback, one per test run.

The first pytest process that needs it starts it (a plain child, its own session, a free
port, storage under the run's shared temp directory) and writes where it is; the other
xdist workers read that and count themselves in; the last one out stops it. Tests skip
with the reason when the Debian package is absent (the Makefile installs it as root).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

CONFIG = """version: 0.1
log: {{level: error, accesslog: {{disabled: true}}}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http: {{addr: "127.0.0.1:{port}", secret: loopback-only-test-registry}}
"""


@dataclass(frozen=True)
class OciRegistry:
    host: str  # 127.0.0.1:PORT
    root: Path  # the registry's storage

    def blob(self, digest: str) -> Path:
        """Where the registry keeps the bytes of ``digest`` (it never re-hashes them)."""
        hex_ = digest.removeprefix("sha256:")
        return self.root / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start(work: Path) -> dict[str, object]:
    binary = shutil.which("docker-registry")
    assert binary is not None
    port = _free_port()
    config = work / "config.yml"
    config.write_text(CONFIG.format(root=work / "data", port=port))
    with (work / "registry.log").open("ab") as log:
        proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,
                                stderr=log, start_new_session=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"docker-registry did not start: "
                                   f"{(work / 'registry.log').read_text()[-500:]}") from None
            time.sleep(0.02)
    return {"host": f"127.0.0.1:{port}", "root": str(work / "data"), "pid": proc.pid,
            "users": 0}


@contextmanager
def shared_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciRegistry]:
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        pytest.skip("Debian's docker-registry and skopeo are not installed (`make test` "
                    "installs them as root: apt-get install docker-registry skopeo)")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    work = shared / "oci-registry"
    work.mkdir(exist_ok=True)
    state = work / "state.json"
    with _locked(work / "lock"):
        info = json.loads(state.read_text()) if state.exists() else _start(work)
        info["users"] = int(info["users"]) + 1
        state.write_text(json.dumps(info))
    try:
        yield OciRegistry(str(info["host"]), Path(str(info["root"])))
    finally:
        with _locked(work / "lock"):
            info = json.loads(state.read_text())
            info["users"] = int(info["users"]) - 1
            if info["users"] <= 0:
                with suppress(ProcessLookupError):
                    os.kill(int(info["pid"]), signal.SIGTERM)
                state.unlink()
            else:
                state.write_text(json.dumps(info))
