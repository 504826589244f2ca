"""Named copies of registered models in the DVC remote, for serving runtimes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from kit.dvc import dvc
from kit.git import git
from kit.workspace import Project

from jx_mlops.dvc.serving import publish_copy
from jx_mlops.errors import DvcError
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


@pytest.fixture
def tracked(tmp_path: Path) -> tuple[Path, Path]:
    """A DVC project with a local remote, a tracked file and a tracked directory."""
    root, remote = tmp_path / "p", tmp_path / "remote"
    root.mkdir()
    git(root, "init", "-q")
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "storage", str(remote))
    (root / "model.pkl").write_bytes(b"weights")
    (root / "bundle").mkdir()
    (root / "bundle" / "config.json").write_text("{}")
    (root / "bundle" / "sub").mkdir()
    (root / "bundle" / "sub" / "model.onnx").write_bytes(b"onnx")
    dvc(root, "add", "-q", "model.pkl", "bundle")
    return root, remote


def recorded_md5(root: Path, dvc_file: str) -> str:
    """The md5 a .dvc file records for its output."""
    return str(yaml.safe_load((root / dvc_file).read_text())["outs"][0]["md5"])


def test_file_copy_comes_from_the_remote_or_the_local_cache(tracked: tuple[Path, Path],
                                                            tmp_path: Path) -> None:
    root, remote = tracked
    md5 = recorded_md5(root, "model.pkl.dvc")
    published = publish_copy(root, md5, "jx-mlops/models/m/v0.0.1/model.pkl",
                             tmp_path / "w1")  # not pushed yet: from the local cache
    assert published.url == str(remote / "jx-mlops/models/m/v0.0.1/model.pkl")
    assert Path(published.url).read_bytes() == b"weights" == published.local.read_bytes()
    assert published.sha256 == hashlib.sha256(b"weights").hexdigest()
    dvc(root, "push", "-q")
    shutil.rmtree(root / ".dvc" / "cache")  # a release job's fresh runner: from the remote
    publish_copy(root, md5, "jx-mlops/models/m/v0.0.2/model.pkl", tmp_path / "w2")
    assert (remote / "jx-mlops/models/m/v0.0.2/model.pkl").read_bytes() == b"weights"
    # Idempotent: the copy of a version is never rewritten.
    publish_copy(root, md5, "jx-mlops/models/m/v0.0.2/model.pkl", tmp_path / "w3")
    # Nothing but the copy is left in the version's directory.
    assert sorted(p.name for p in (remote / "jx-mlops/models/m/v0.0.2").iterdir()) == [
        "model.pkl"]


def test_directory_copy_keeps_the_tree(tracked: tuple[Path, Path], tmp_path: Path) -> None:
    root, remote = tracked
    dvc(root, "push", "-q")
    md5 = recorded_md5(root, "bundle.dvc")
    assert md5.endswith(".dir")
    publish_copy(root, md5, "jx-mlops/models/m/v1.0.0/bundle", tmp_path / "w")
    target = remote / "jx-mlops/models/m/v1.0.0/bundle"
    assert (target / "sub" / "model.onnx").read_bytes() == b"onnx"
    assert json.loads((target / "config.json").read_text()) == {}


def test_a_missing_object_is_one_clear_error(tracked: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    root, _remote = tracked
    with pytest.raises(DvcError, match="neither in the local cache nor readable from"):
        publish_copy(root, "0" * 32, "jx-mlops/models/m/v9/model.pkl", tmp_path / "w")


def test_release_publishes_the_copy_the_inference_service_loads(project: Project, cli,
                                                                monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    released = json.loads(cli("ci", "release", "--json").out)
    assert released["registrations"][0]["version"] == "v0.0.1"
    env = jx_home() / "forge/repos/local/environment-staging.git"
    record = yaml.safe_load(git(env, "show", "main:models/churn.yaml"))
    service = yaml.safe_load(git(env, "show", "main:serving/churn.yaml"))
    storage_uri = service["spec"]["predictor"]["model"]["storageUri"]
    assert storage_uri.endswith("/jx-mlops/models/churn/v0.0.1/model.pkl")
    copy = Path(storage_uri.removeprefix("file://"))
    assert hashlib.md5(copy.read_bytes()).hexdigest() == record["artifact"]["md5"]
    assert record["artifact"]["serving_uri"] == str(copy)
    assert cli("ci", "release").code == 0  # again: nothing to do, nothing fails
    assert cli("audit").code == 0
