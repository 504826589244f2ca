"""Versions as OCI artifacts (mlops.yaml ``registry.oci``) against Debian's docker-registry
on loopback, with skopeo (Debian) as the oracle: `ci release` pushes the version in the
ModelPack layout, the tag and `lineage --json` record the manifest digest, the staging
manifest names the version by that digest, skopeo reads back byte-identical manifest and
layers, the ML-BOM layer validates (CycloneDX 1.6) and `model_signing verify` accepts its
signature; a layer replaced in the registry makes `promote` refuse and `audit` catch it,
naming the layer."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from kit.git import git
from kit.lab import SCHEMAS, kserve_schema
from kit.ociregistry import OciRegistry, shared_registry
from kit.workspace import Project

from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.tags import get_version

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OciRegistry]:
    with shared_registry(tmp_path_factory) as registry:
        yield registry


def skopeo(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["skopeo", *args], capture_output=True, check=False, timeout=60)


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def test_release_pushes_the_version_by_digest_and_a_replaced_layer_is_refused(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, oci_registry: OciRegistry,
        tmp_path: Path) -> None:
    monkeypatch.chdir(project.path)
    config = project.path / "mlops.yaml"
    config.write_text(config.read_text() + f"registry:\n  oci: {oci_registry.host}/jx\n")
    git(project.path, "commit", "-qam", "Push versions to the OCI registry")
    git(project.path, "push", "-q", "origin", "HEAD")

    released = cli("ci", "release")
    assert released.code == 0, released.err
    [registered] = json.loads(cli("ci", "release", "--json").out)["registrations"]
    meta = get_version(GitRepo.open(project.path), "churn", "v0.0.1").metadata
    oci = meta["artifact"]["oci"]
    reference = f"{oci_registry.host}/jx/churn:v0.0.1"
    assert oci["reference"] == reference
    lineage = json.loads(cli("lineage", "churn@v0.0.1", "--json").out)
    assert lineage["artifact"]["oci"]["digest"] == oci["digest"]
    assert lineage["artifact"]["oci"]["reference"] == reference
    assert registered["oci"] == {"reference": reference, "digest": oci["digest"]}
    assert lineage["bom"]["uri"] == meta["artifact"]["serving_uri"].replace("model.pkl",
                                                                            "bom.cdx.json")
    shown = cli("lineage", "churn@v0.0.1").out
    assert f"  oci       {oci_registry.host}/jx/churn@{oci['digest']}\n" in shown
    assert f"  ml-bom    {lineage['bom']['uri']} (signed)\n" in shown
    assert f"pushed to {oci_registry.host}/jx/churn@{oci['digest']}" in released.out

    # The staging manifest names the version by digest, with the file's sha256.
    env = project.home / "forge/repos/local/environment-staging.git"
    service = yaml.safe_load(git(env, "show", "main:serving/churn.yaml"))
    assert service["spec"]["predictor"]["model"]["storageUri"] == \
        f"oci://{oci_registry.host}/jx/churn@{oci['digest']}"
    notes = service["metadata"]["annotations"]
    assert notes["jx-mlops.dev/oci-digest"] == oci["digest"]
    assert "ociModelMode: native" in notes["jx-mlops.dev/oci-serving"]  # said, not assumed
    copy = Path(meta["artifact"]["serving_uri"])
    assert notes["jx-mlops.dev/artifact-sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()

    # skopeo: the manifest the tag records, and every layer back byte-identical.
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{reference}")
    assert raw.returncode == 0, raw.stderr
    assert sha256(raw.stdout) == oci["digest"]
    back = tmp_path / "back"
    copied = skopeo("copy", "--src-tls-verify=false", f"docker://{reference}", f"dir:{back}")
    assert copied.returncode == 0, copied.stderr
    assert (back / "manifest.json").read_bytes() == raw.stdout
    manifest = json.loads(raw.stdout)
    assert manifest["artifactType"] == "application/vnd.cncf.model.manifest.v1+json"
    layers = {layer["annotations"]["org.cncf.model.filepath"]: layer
              for layer in manifest["layers"]}
    assert sorted(layers) == ["MODELCARD.md", "bom.cdx.json", "bom.cdx.json.sig",
                              "model.pkl", "model.pkl.sig"]
    assert {k: v["digest"] for k, v in layers.items()} == oci["layers"]
    blob = {name: (back / layer["digest"].removeprefix("sha256:")).read_bytes()
            for name, layer in layers.items()}
    assert blob["model.pkl"] == copy.read_bytes()
    # The ModelPack config validates against the spec's schema; the InferenceService
    # naming the version by digest against KServe's.
    config_blob = json.loads((back / manifest["config"]["digest"][7:]).read_bytes())
    modelpack = json.loads((SCHEMAS / "modelpack" / "config-schema.json").read_text())
    jsonschema.Draft202012Validator(modelpack).validate(config_blob)
    assert config_blob["modelfs"]["diffIds"] == [v["digest"] for v in manifest["layers"]]
    jsonschema.Draft202012Validator(kserve_schema()).validate(service)
    assert layers["model.pkl"]["mediaType"] == "application/vnd.cncf.model.weight.v1.raw"
    assert blob["model.pkl.sig"] == Path(meta["signature"]["bundle"]).read_bytes()

    # The ML-BOM: written next to the serving copy, signed like the model, pushed as is.
    bom = copy.with_name("bom.cdx.json")
    assert blob["bom.cdx.json"] == bom.read_bytes()
    assert meta["bom"]["sha256"] == hashlib.sha256(bom.read_bytes()).hexdigest()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom.read_text()) is None
    verified = subprocess.run(
        [sys.executable, "-m", "model_signing", "verify", "key", "--signature",
         str(copy.with_name("bom.cdx.json.sig")), "--public_key",
         str(project.path / "signing.pub"), str(bom)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert blob["bom.cdx.json.sig"] == copy.with_name("bom.cdx.json.sig").read_bytes()

    # A layer replaced in the registry's storage (it serves what it holds, unhashed):
    # promote refuses, naming the layer, and audit catches it.
    oci_registry.blob(layers["MODELCARD.md"]["digest"]).write_bytes(b"# a different card\n")
    refused = cli("promote", "churn@v0.0.1", "--env", "production")
    assert refused.code == 1
    assert "oci artifact: " in refused.err
    assert "layer(s) MODELCARD.md differ from the version's tag" in refused.err
    audit = cli("audit", "--json")
    assert audit.code == 1
    assert [f["problem"] for f in json.loads(audit.out)["findings"]] == [
        f"{oci_registry.host}/jx/churn@{oci['digest']}: layer(s) MODELCARD.md differ from "
        "the version's tag"]
    assert skopeo("copy", "--src-tls-verify=false", f"docker://{reference}",
                  f"dir:{tmp_path / 'again'}").returncode != 0  # the oracle agrees

    # The technical file's human oversight: the promotion that put the version in
    # staging (auto: nobody approved it) and the hold set on it, as recorded.
    assert cli("hold", "churn@v0.0.1", "--env", "staging", "--reason", "bias review").code == 0
    tech = json.loads(cli("techfile", "churn@v0.0.1", "--json").out)
    [oversight] = [h["facts"] for h in tech["headings"] if h["key"] == "2(e)"]
    assert any(f.startswith("staging: promote of v0.0.1 by ") and
               f.endswith(", no approval recorded") for f in oversight), oversight
    assert any(f.startswith("staging: v0.0.1 on hold since ") and
               f.endswith(": bias review") for f in oversight), oversight
    assert tech["filled"] * 10 >= tech["counted"] * 9  # >= 90% of the counted headings
