"""OCI registries: a model version as a CNCF ModelPack artifact, pushed and checked by digest.

The one adapter for OCI distribution, over oras-py (oras-project, CNCF). Layers are
uploaded with its blob calls and the manifest is PUT as the exact bytes built here, so
its digest is ``sha256`` of those bytes (oras's own ``push`` builds a manifest without
``artifactType``). Reading back never trusts the registry: the manifest is fetched by
the recorded digest and re-hashed, and every layer is streamed and re-hashed (a registry
serves whatever its storage holds).

Credentials are read as Docker and ORAS read them: ``$DOCKER_CONFIG/config.json`` (else
``~/.docker/config.json``: ``auths``, ``credHelpers``, ``credsStore``) and
``ORAS_USER``/``ORAS_PASS``. A registry on a loopback address is spoken to over plain
HTTP (as Docker does for ``localhost``); any other over HTTPS.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jx_mlops.errors import JxMlopsError

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ARTIFACT = "application/vnd.cncf.model.manifest.v1+json"  # ModelPack's artifactType
CONFIG = "application/vnd.cncf.model.config.v1+json"
WEIGHT = "application/vnd.cncf.model.weight.v1.raw"  # a model file, as it is
DOC = "application/vnd.cncf.model.doc.v1.raw"  # card, ML-BOM, signature bundles
FILEPATH = "org.cncf.model.filepath"
TITLE = "org.opencontainers.image.title"  # what CRI-O names a mounted file by
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$")
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)"
                   r"[a-z0-9]+)*)*$")
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_CHUNK = 1 << 20
# Larger blobs go in chunks (oras reads a monolithic upload into memory whole); smaller
# ones in one request, which every registry takes.
_MONOLITHIC = 64 << 20


class OciError(JxMlopsError):
    """An OCI registry refused or failed a request, or holds other bytes than recorded."""


@dataclass(frozen=True)
class OciTarget:
    """mlops.yaml ``registry.oci``: ``HOST[:PORT]/REPOSITORY``."""

    host: str
    repository: str

    def reference(self, model: str, tag: str) -> str:
        """``HOST/REPOSITORY/MODEL:TAG``; a GTO name ``DIR:MODEL`` becomes ``dir/model``."""
        repo = f"{self.repository}/{model.replace(':', '/')}".lower()
        if not _REPO.match(repo):
            raise OciError(f"{repo!r} (model {model}) is not a valid OCI repository name "
                           "(lowercase letters, digits, '.', '_', '-', '/')")
        return f"{self.host}/{repo}:{tag}"


def parse_target(text: str) -> OciTarget:
    """``HOST[:PORT]/REPOSITORY`` as a target; ValueError saying what is expected."""
    host, _, repo = text.strip().partition("/")
    if not repo or not _HOST.match(host) or not _REPO.match(repo):
        raise ValueError("HOST[:PORT]/REPOSITORY (repository in lowercase: letters, "
                         "digits, '.', '_', '-', '/'), e.g. ghcr.io/acme/models")
    return OciTarget(host, repo)


@dataclass(frozen=True)
class Layer:
    """A file to push: its bytes, its media type, and its path inside the model."""

    local: Path
    media_type: str
    filepath: str


@dataclass(frozen=True)
class Pushed:
    """What a push made: ``reference`` (by tag), the manifest ``digest``, and each
    layer's digest by file path."""

    reference: str
    digest: str
    layers: dict[str, str]

    def to_metadata(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest,
                "layers": dict(self.layers)}


@dataclass(frozen=True)
class OciCheck:
    """What resolving a recorded artifact found: ``ok``, or the problem and the layers
    whose bytes differ from the record."""

    ok: bool
    detail: str
    layers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)  # the tag moved, and such


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def split_reference(reference: str) -> tuple[str, str, str]:
    """``HOST/REPO:TAG`` or ``HOST/REPO@sha256:…`` as (host, repo, tag-or-digest)."""
    host, _, rest = reference.partition("/")
    if "@" in rest:
        repo, _, ref = rest.partition("@")
    else:
        repo, _, ref = rest.rpartition(":")
    return host, repo, ref


def by_digest(reference: str, digest: str) -> str:
    """``HOST/REPO@DIGEST`` for a reference by tag."""
    host, repo, _ref = split_reference(reference)
    return f"{host}/{repo}@{digest}"


@contextmanager
def _client(host: str) -> Iterator[Any]:
    """An oras client for ``host`` with its credentials loaded; library errors become
    OciError naming the host. oras retries every failure for 131 s: not here."""
    import oras.container
    import oras.provider
    import requests

    class Registry(oras.provider.Registry):  # type: ignore[misc]
        do_request = oras.provider.Registry.do_request.__wrapped__

    insecure = host.rsplit(":", 1)[0] in _LOOPBACK or host.startswith("[::1]")
    scheme = "http" if insecure else "https"
    try:
        challenge = requests.get(f"{scheme}://{host}/v2/", timeout=30) \
            .headers.get("Www-Authenticate", "")
        backend = "basic" if challenge.lower().startswith("basic") else "token"
        client = Registry(hostname=host, insecure=insecure, auth_backend=backend)
        docker = os.environ.get("DOCKER_CONFIG")
        configs = [str(Path(docker) / "config.json")] if docker else None
        client.auth.load_configs(oras.container.Container("x", registry=host),
                                 configs=configs)
        yield client
    except OciError:
        raise
    except AttributeError:  # oras's Basic backend with no credentials at all
        raise OciError(f"OCI registry {host} asks for credentials and none were found "
                       "($DOCKER_CONFIG/config.json or ~/.docker/config.json auths, "
                       "credHelpers, credsStore; ORAS_USER/ORAS_PASS)") from None
    except (requests.RequestException, ValueError, OSError) as exc:
        raise OciError(f"OCI registry {host}: {exc}") from None


def _check(response: Any, what: str) -> None:
    if response.status_code not in (200, 201, 202):
        text = response.text[:300] if hasattr(response, "text") else ""
        raise OciError(f"{what}: HTTP {response.status_code} {text}".strip())


def push(reference: str, layers: Sequence[Layer], config: Mapping[str, Any],
         annotations: Mapping[str, str]) -> Pushed:
    """Push ``layers`` and the ModelPack ``config`` as one manifest tagged ``reference``
    (``HOST/REPO:TAG``); blobs the registry has are not sent again."""
    import oras.container

    host, repo, tag = split_reference(reference)
    descriptors: list[dict[str, Any]] = []
    with _client(host) as client:
        container = oras.container.Container(f"{repo}:{tag}", registry=host)
        for layer in layers:
            size = layer.local.stat().st_size
            desc: dict[str, Any] = {"mediaType": layer.media_type, "size": size,
                                    "digest": sha256_file(layer.local),
                    "annotations": {FILEPATH: layer.filepath, TITLE: layer.filepath}}
            _check(client.upload_blob(str(layer.local), container, desc,
                                      do_chunked=size > _MONOLITHIC),
                   f"pushing {layer.filepath} to {host}/{repo}")
            descriptors.append(desc)
        body = canonical({**config, "modelfs": {
            "type": "layers", "diffIds": [d["digest"] for d in descriptors]}})
        config_desc = {"mediaType": CONFIG, "size": len(body),
                       "digest": f"sha256:{hashlib.sha256(body).hexdigest()}"}
        with tempfile.TemporaryDirectory(prefix="jx-mlops-oci-") as tmp:
            (Path(tmp) / "config.json").write_bytes(body)
            _check(client.upload_blob(str(Path(tmp) / "config.json"), container, config_desc),
                   f"pushing the ModelPack config to {host}/{repo}")
        manifest = canonical({"schemaVersion": 2, "mediaType": MANIFEST,
                              "artifactType": ARTIFACT, "config": config_desc,
                              "layers": descriptors, "annotations": dict(annotations)})
        put = client.do_request(f"{client.prefix}://{host}/v2/{repo}/manifests/{tag}", "PUT",
                                data=manifest, headers={"Content-Type": MANIFEST})
        _check(put, f"pushing the manifest {reference}")
    digest = f"sha256:{hashlib.sha256(manifest).hexdigest()}"
    echoed = put.headers.get("Docker-Content-Digest")
    if echoed and echoed != digest:
        raise OciError(f"{host} stored the manifest of {reference} as {echoed}, not as the "
                       f"{digest} that was sent")
    return Pushed(reference, digest, {d["annotations"][FILEPATH]: d["digest"]
                                      for d in descriptors})


def verify(recorded: Mapping[str, Any]) -> OciCheck:
    """Resolve the artifact ``recorded`` (a tag's ``artifact.oci``): fetch the manifest by
    its digest and re-hash it, compare its layers with the recorded file hashes, and
    stream and re-hash every layer; a tag that no longer names the digest is a note."""
    import oras.container

    reference, digest = str(recorded.get("reference")), str(recorded.get("digest"))
    expected = dict(recorded.get("layers") or {})
    host, repo, tag = split_reference(reference)
    with _client(host) as client:
        container = oras.container.Container(f"{repo}:{tag}", registry=host)
        base = f"{client.prefix}://{host}/v2/{repo}"
        got = client.do_request(f"{base}/manifests/{digest}", "GET", headers={"Accept": MANIFEST})
        if got.status_code == 404:
            return OciCheck(False, f"{by_digest(reference, digest)} is not in the registry")
        _check(got, f"reading {by_digest(reference, digest)}")
        if f"sha256:{hashlib.sha256(got.content).hexdigest()}" != digest:
            return OciCheck(False, f"{host} answers {by_digest(reference, digest)} with "
                                   "another manifest (its sha256 differs)")
        layers = json.loads(got.content).get("layers") or []
        named = {str((d.get("annotations") or {}).get(FILEPATH)): d for d in layers}
        bad = sorted({*expected} ^ {*named})
        for path, desc in named.items():
            if path in bad:
                continue
            if desc.get("digest") != expected[path] or \
                    _blob_digest(client, container, str(desc["digest"])) != desc["digest"]:
                bad.append(path)
        moved = client.do_request(f"{base}/manifests/{tag}", "HEAD",
                                  headers={"Accept": MANIFEST})
    notes = () if moved.headers.get("Docker-Content-Digest") == digest else \
        (f"the tag {reference} no longer names {digest}",)
    if bad:
        return OciCheck(False, f"{by_digest(reference, digest)}: layer(s) "
                               f"{', '.join(bad)} differ from the version's tag", tuple(bad),
                        notes)
    return OciCheck(True, f"{by_digest(reference, digest)}: manifest and {len(named)} "
                          "layers match the version's tag", (), notes)


def _blob_digest(client: Any, container: Any, digest: str) -> str:
    h = hashlib.sha256()
    with client.get_blob(container, digest, stream=True) as response:
        _check(response, f"reading layer {digest}")
        for chunk in response.iter_content(_CHUNK):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"
