"""Signed model versions (OpenSSF model signing), verified at every hop.

`model_signing verify` (the library's own CLI) is the peer: it must accept what
`ci release` signs, and refuse it once one byte of the published copy changes, as
`promote`, `audit` and `lineage` do.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kit.git import git
from kit.lab import Lab, make_lab
from kit.workspace import Project

from jx_mlops.fsutil import jx_home
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.tags import get_version
from jx_mlops.signing import (
    SignatureMismatch,
    Signer,
    Trust,
    bundle_path_for,
    generate_key_pair,
    sign_model,
    verify_model,
)

pytestmark = pytest.mark.slow  # release and promotion stories; model_signing's own CLI


def model_signing_verify(model: Path, bundle: Path, public_key: Path
                         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "model_signing", "verify", "key",
                           "--signature", str(bundle), "--public_key", str(public_key),
                           str(model)], capture_output=True, text=True, check=False)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_first_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_release_signs_what_model_signing_verifies_and_a_tampered_copy_is_refused(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.path)
    # create made the key pair: the public key committed and named, the private one kept.
    assert yaml.safe_load((project.path / "mlops.yaml").read_text())["signing"] == \
        {"public_key": "signing.pub"}
    assert "signing.pub" in git(project.path, "ls-files").splitlines()
    [private] = (project.home / "signing").glob("*.pem")
    assert private.stat().st_mode & 0o077 == 0
    public_key = project.path / "signing.pub"

    assert cli("ci", "release").code == 0
    meta = get_version(GitRepo.open(project.path), "churn", "v0.0.1").metadata
    copy = Path(meta["artifact"]["serving_uri"])
    bundle = Path(meta["signature"]["bundle"])
    assert bundle == copy.with_name("model.pkl.sig")
    assert meta["artifact"]["sha256"] == sha256(copy)
    assert meta["signature"]["sha256"] == sha256(bundle)
    assert meta["signature"]["method"] == "key"
    assert model_signing_verify(copy, bundle, public_key).returncode == 0

    env = project.home / "forge/repos/local/environment-staging.git"
    record = yaml.safe_load(git(env, "show", "main:models/churn.yaml"))
    assert record["artifact"]["sha256"] == sha256(copy)
    assert record["signature"]["sha256"] == sha256(bundle)
    notes = yaml.safe_load(git(env, "show", "main:serving/churn.yaml"))["metadata"][
        "annotations"]
    assert notes["jx-mlops.dev/artifact-sha256"] == sha256(copy)
    assert notes["jx-mlops.dev/signature-sha256"] == sha256(bundle)
    lineage = json.loads(cli("lineage", "churn@v0.0.1", "--json").out)
    assert lineage["artifact"]["sha256"] == sha256(copy)
    assert lineage["signature"]["verified"] is True
    assert Path(lineage["signature"]["public_key"]) == public_key
    assert model_signing_verify(copy, Path(lineage["signature"]["bundle"]),
                                Path(lineage["signature"]["public_key"])).returncode == 0

    flip_first_byte(copy)
    assert model_signing_verify(copy, bundle, public_key).returncode != 0
    refused = cli("promote", "churn", "--version", "v0.0.1", "--to", "production")
    assert refused.code == 1
    assert "blocked by gates: signature: " in refused.err
    assert "model.pkl no longer matches its signature" in refused.err
    audit = cli("audit", "--json")
    assert audit.code == 1
    # Hashed against the tag (a copy of an unsigned version is checked too), and verified.
    assert [f["problem"] for f in json.loads(audit.out)["findings"]] == [
        f"serving copy {copy} has md5 {hashlib.md5(copy.read_bytes()).hexdigest()}, but "
        f"churn@v0.0.1 records {meta['artifact']['md5']} (replaced?)",
        f"{copy}: model.pkl no longer matches its signature"]
    lineage = json.loads(cli("lineage", "churn@v0.0.1", "--json").out)["signature"]
    assert (lineage["status"], lineage["verified"], lineage["files"]) == \
        ("failed", False, ["model.pkl"])


def storage_copies(lab: Lab) -> list[str]:
    root = lab.home / "storage" / "local" / lab.name / "jx-mlops"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_key_that_is_not_the_projects_refuses_before_anything_is_published(
        cli, lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    lab.new_version()
    other, _public = generate_key_pair()
    monkeypatch.setenv("JX_MLOPS_SIGNING_KEY", other.decode())
    refused = cli("register", "fraud")
    assert refused.code == 1
    assert refused.err.strip() == "error: $JX_MLOPS_SIGNING_KEY is not the private key of " \
                                  "signing.pub (mlops.yaml signing.public_key): promotion " \
                                  "could not verify it"
    assert git(lab.path, "tag", "-l") == ""
    assert not (lab.home / "storage" / "local" / lab.name / "jx-mlops").exists()

    # No key on this machine at all: say which variable to set.
    monkeypatch.delenv("JX_MLOPS_SIGNING_KEY")
    [held] = (lab.home / "signing").glob("*.pem")
    moved = held.rename(lab.path.parent / "ci-secret.pem")
    refused = cli("register", "fraud")
    assert "this machine holds no private key for it (set JX_MLOPS_SIGNING_KEY" in refused.err
    # The key as CI gives it: a path (or the PEM itself) in JX_MLOPS_SIGNING_KEY.
    monkeypatch.setenv("JX_MLOPS_SIGNING_KEY", str(moved))
    assert cli("register", "fraud").code == 0
    assert storage_copies(lab) == ["models/fraud/v0.0.1/fraud.pkl",
                                   "models/fraud/v0.0.1/fraud.pkl.sig"]


def test_an_unsigned_version_is_shown_unsigned_and_refused_where_signatures_are_required(
        cli, hermetic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = make_lab(hermetic, jx_home(), signed=False)
    monkeypatch.chdir(lab.path)
    lab.new_version()
    assert cli("register", "fraud").code == 0
    # The first environment does not require signatures by default.
    assert cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging").code == 0
    lineage = json.loads(cli("lineage", "fraud@v0.0.1", "--json").out)
    assert lineage["signature"]["status"] == "unsigned"
    assert lineage["signature"]["verified"] is False
    # Its sha256 is recorded all the same: publishing and audit check the copy against it.
    copy = Path(lineage["artifact"]["serving_uri"].removeprefix("file://"))
    assert lineage["artifact"]["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest()
    refused = cli("promote", "fraud", "--version", "v0.0.1", "--to", "production")
    assert refused.code == 1
    assert "signature: v0.0.1 is unsigned (registered before signing, or without a key) " \
           "and production requires a signature" in refused.err
    assert cli("audit").code == 0  # an unsigned record is what it says, not a mismatch


def test_a_directory_model_names_each_file_that_changed(tmp_path: Path) -> None:
    private, public = generate_key_pair()
    (tmp_path / "key.pub").write_bytes(public)
    model = tmp_path / "v1" / "bundle"
    (model / "sub").mkdir(parents=True)
    for name in ("config.json", "sub/weights.bin", "sub/vocab.txt"):
        (model / name).write_bytes(os.urandom(64))
    bundle = bundle_path_for(model)
    signed = sign_model(model, bundle, Signer("key", private, "test key"))
    assert [name for name, _ in signed.files] == ["config.json", "sub/vocab.txt",
                                                  "sub/weights.bin"]
    trust = Trust(public_key=tmp_path / "key.pub")
    assert model_signing_verify(model, bundle, tmp_path / "key.pub").returncode == 0
    flip_first_byte(model / "sub" / "weights.bin")
    (model / "sub" / "vocab.txt").unlink()
    with pytest.raises(SignatureMismatch) as caught:
        verify_model(model, bundle, trust, shown="s3://bucket/v1/bundle")
    assert caught.value.files == ("sub/weights.bin", "sub/vocab.txt (missing)")
    assert caught.value.message == "s3://bucket/v1/bundle: sub/weights.bin, sub/vocab.txt " \
                                   "(missing) no longer match its signature"
    assert model_signing_verify(model, bundle, tmp_path / "key.pub").returncode != 0
    # Another key's signature is not the project's.
    _other, other_public = generate_key_pair()
    (tmp_path / "other.pub").write_bytes(other_public)
    with pytest.raises(SignatureMismatch, match="signature does not verify"):
        verify_model(model, bundle, Trust(public_key=tmp_path / "other.pub"))
