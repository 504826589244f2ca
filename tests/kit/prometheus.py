"""A real Prometheus server on loopback for verification tests.

Debian's ``prometheus`` binary (`.ci/run` installs it; tests skip with a reason where it
is missing) scrapes, every second, a small exporter served by the test (a model server
stand-in whose ``/metrics`` values the test sets) and a target on a closed port (so that
``up`` of that job is 0).
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Exporter:
    """``/metrics`` in Prometheus' text format, from ``values`` (set by the test)."""

    port: int
    values: dict[str, float] = field(default_factory=dict)

    def text(self) -> bytes:
        lines = [f"{name} {value}" for name, value in sorted(self.values.items())]
        return ("\n".join(lines) + "\n").encode()


def _serve(exporter: Exporter) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exporter.text()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", exporter.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class PrometheusServer:
    url: str
    exporter: Exporter
    closed_port: int

    def value(self, promql: str) -> str | None:
        query = urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{query}", timeout=5) as resp:
            import json

            result = json.loads(resp.read())["data"]["result"]
        return result[0]["value"][1] if result else None

    def wait_for(self, promql: str, expected: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.value(promql) == expected:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{promql} never became {expected} in {timeout}s")


def _config(targets: dict[str, int]) -> str:
    jobs = "".join(f"  - job_name: {job}\n"
                   f"    static_configs: [{{targets: [\"127.0.0.1:{port}\"]}}]\n"
                   for job, port in targets.items())
    return ("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
            + jobs)


def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (Debian: apt-get install "
                    "prometheus; .ci/run does)")
    return binary


@contextlib.contextmanager
def running_prometheus(base: Path, targets: dict[str, int], config: str = ""
                       ) -> Iterator[str]:
    """A Prometheus scraping ``targets`` (job name -> loopback port), or as ``config`` (a
    prometheus.yml) says; yields its URL."""
    port = free_port()
    (base / "prometheus.yml").write_text(config or _config(targets))
    with (base / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen([prometheus_binary(), f"--config.file={base / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={base / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    prometheus_binary()
    base = Path(tmp_path_factory.mktemp("prometheus"))
    exporter = Exporter(free_port(), {"model_requests_total": 10, "model_error_ratio": 0.01})
    server = _serve(exporter)
    closed = free_port()
    try:
        with running_prometheus(base, {"model": exporter.port, "broken": closed}) as url:
            prom = PrometheusServer(url, exporter, closed)
            prom.wait_for('up{job="model"}', "1")
            prom.wait_for('up{job="broken"}', "0")
            yield prom
    finally:
        server.shutdown()
