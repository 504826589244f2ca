"""One real Ray head on loopback for the whole test session, every xdist worker included.

The first worker to take the lock starts it (``ray start --head --block`` in its own
process group, tied to that worker by PR_SET_PDEATHSIG) and writes its address; the others
read the address. The starter stops it at the end of its session by its process group,
never with ``ray stop`` (which kills every Ray process on the machine). The Ray tests live
in one file, so under ``--dist loadfile`` one worker uses the head.

Pitfalls measured in /work/notes/issue22-research.md: Ray rewrites ``--node-ip-address
127.0.0.1`` to the machine's LAN address unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0; the
dashboard agent (52365) and client server (10001) ports are fixed unless set; unix
socket paths under the temp dir must stay short; the dashboard answers before the
raylet is up; a SIGTERM drains for 30 s unless RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

START_LIMIT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tie_to_parent() -> None:
    """In the child before exec: die with the test process, own a process group."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setsid()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/nodes?view=summary", timeout=2) as answer:
            nodes = json.load(answer)["data"]["summary"]
        if not any(n.get("raylet", {}).get("state") == "ALIVE" for n in nodes):
            return False
        with urllib.request.urlopen(f"{url}/api/jobs/", timeout=2):
            return True
    except (OSError, ValueError, KeyError):
        return False


def head_env(tmp: Path) -> dict[str, str]:
    """The head's environment, which every job inherits: this interpreter first on PATH
    (a job's ``python`` is the tests'), its own HOME, no RAY_*/DVC_*/GIT_* of ours."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RAY_", "DVC_", "GIT_", "JX_MLOPS_"))}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"), DVC_NO_ANALYTICS="1",
        DVC_SITE_CACHE_DIR=str(tmp / "dvc-site"), GIT_CONFIG_NOSYSTEM="1",
        DVC_GLOBAL_CONFIG_DIR=str(home / ".config" / "dvc"),
        DVC_SYSTEM_CONFIG_DIR=str(tmp / "dvc-system"),
        GIT_AUTHOR_NAME="Ray Job", GIT_AUTHOR_EMAIL="ray@example.invalid",
        GIT_COMMITTER_NAME="Ray Job", GIT_COMMITTER_EMAIL="ray@example.invalid",
        RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0", RAY_JOB_START_TIMEOUT_SECONDS="60",
        RAY_TMPDIR=str(tmp),
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return env


@contextmanager
def running_head() -> Iterator[str]:
    """Start a head, yield its Jobs API URL, stop it by its process group."""
    ray = shutil.which("ray", path=os.path.dirname(sys.executable))
    if ray is None:
        pytest.skip("ray is not installed (pip install 'jx-mlops[ray]')")
    tmp = Path(tempfile.mkdtemp(prefix="jxray-", dir="/tmp"))  # short: socket paths
    port = _free_port()
    command = [ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
               "--port", "0", "--include-dashboard", "true", "--dashboard-host", "127.0.0.1",
               "--dashboard-port", str(port),
               "--dashboard-agent-listen-port", str(_free_port()),
               "--ray-client-server-port", str(_free_port()), "--num-cpus", "2",
               "--num-gpus", "0", "--object-store-memory", str(80 * 2**20),
               "--temp-dir", str(tmp), "--disable-usage-stats", "--log-style", "record"]
    log = tmp / "ray-start.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=head_env(tmp),
                                preexec_fn=_tie_to_parent)
    started = time.monotonic()
    try:
        while not _ready(url):
            if proc.poll() is not None:
                pytest.fail(f"ray start exited {proc.returncode}: {log.read_text()[-1500:]}")
            if time.monotonic() - started > START_LIMIT_S:
                pytest.fail(f"the Ray head was not up after {START_LIMIT_S} s")
            time.sleep(0.25)
        print(f"\nRay head {url} up in {time.monotonic() - started:.1f} s", file=sys.stderr)
        yield url
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(15)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def shared_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's head: started by the first worker that asks (its address left for
    the others), stopped when that worker's session ends."""
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent
    address = root / "ray-head.url"
    with (root / "ray-head.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if address.exists() and _ready(address.read_text()):
            fcntl.flock(lock, fcntl.LOCK_UN)
            yield address.read_text()
            return
        with running_head() as url:
            address.write_text(url)
            fcntl.flock(lock, fcntl.LOCK_UN)
            try:
                yield url
            finally:
                address.unlink(missing_ok=True)
