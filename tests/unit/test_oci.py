"""The OCI adapter's own rules: mlops.yaml's ``registry.oci`` and the repository a model
gets, credentials read as Docker and ORAS read them (a loopback server that asks for
Basic auth), and a dead registry failing at once (oras-py alone retries for 131 s)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jx_mlops import oci
from jx_mlops.config.project import parse_config
from jx_mlops.errors import ConfigError

DIGEST = "sha256:" + "a" * 64


def test_registry_oci_is_host_and_repository_and_names_a_model_by_its_gto_name() -> None:
    target = oci.parse_target("127.0.0.1:5000/jx/models")
    assert target == oci.OciTarget("127.0.0.1:5000", "jx/models")
    assert target.reference("credit:Churn", "v1.2.0") == \
        "127.0.0.1:5000/jx/models/credit/churn:v1.2.0"
    assert oci.by_digest("ghcr.io/acme/churn:v1.2.0", DIGEST) == f"ghcr.io/acme/churn@{DIGEST}"
    assert oci.split_reference(f"h:5000/a/b@{DIGEST}") == ("h:5000", "a/b", DIGEST)
    config = "models:\n  m: {artifact: m.pkl}\nregistry:\n  oci: %s\n"
    assert parse_config(config % "ghcr.io/acme", Path("mlops.yaml")).oci == \
        oci.OciTarget("ghcr.io", "acme")
    with pytest.raises(ConfigError, match=r"registry\.oci: expected a string, got"):
        parse_config(config % "[1, 2]", Path("mlops.yaml"))
    for bad in ("ghcr.io", "ghcr.io/Acme", "https://ghcr.io/acme"):
        with pytest.raises(ConfigError) as err:
            parse_config(config % bad, Path("mlops.yaml"))
        assert err.value.message.startswith("mlops.yaml: registry.oci: expected "
                                            "HOST[:PORT]/REPOSITORY")


class _Basic(BaseHTTPRequestHandler):
    """Asks for Basic auth; with the right header, knows no manifest (404)."""

    wanted = "Basic " + base64.b64encode(b"robot:s3cret").decode()

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != self.wanted:
            self.send_response(401)
            self.send_header("Www-Authenticate", 'Basic realm="jx-test"')
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def basic_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Basic)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                              daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _lookup(host: str) -> oci.OciCheck:
    return oci.verify({"reference": f"{host}/jx/churn:v0.0.1", "digest": DIGEST})


def test_credentials_come_from_docker_config_or_oras_variables(
        basic_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ORAS_USER", raising=False)
    monkeypatch.delenv("ORAS_PASS", raising=False)
    with pytest.raises(oci.OciError, match=re.escape(
            f"OCI registry {basic_registry} asks for credentials and none were found")):
        _lookup(basic_registry)
    docker = tmp_path / "docker-config"
    docker.mkdir()
    auth = base64.b64encode(b"robot:s3cret").decode()
    (docker / "config.json").write_text(json.dumps({"auths": {basic_registry: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    assert _lookup(basic_registry).detail.endswith("is not in the registry")
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("ORAS_USER", "robot")
    monkeypatch.setenv("ORAS_PASS", "s3cret")
    assert _lookup(basic_registry).detail.endswith("is not in the registry")
    monkeypatch.setenv("ORAS_PASS", "wrong")
    with pytest.raises(oci.OciError, match="HTTP 401"):
        _lookup(basic_registry)


def test_a_registry_that_does_not_answer_fails_at_once(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(oci.OciError, match=re.escape("OCI registry 127.0.0.1:9: ")):
        _lookup("127.0.0.1:9")
    assert time.monotonic() - start < 5
