"""`register` anything GTO can: a DVC output, a git-tracked file, a remote URI; the serving
copy is published before the tag, so a remote that refuses writes leaves no tag."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kit.git import git
from kit.gto import gto_json
from kit.workspace import Project

pytestmark = pytest.mark.slow  # the session project: a real `dvc repro` of a quickstart


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def dvc_remote(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", "remote", *args], cwd=root, check=True,
                   capture_output=True)


def tag_metadata(root: Path, tag: str) -> dict[str, Any]:
    body = git(root, "tag", "-l", "--format=%(contents)", tag)
    data: dict[str, Any] = json.loads(body[body.index("{"):])
    return data


def test_a_failed_publish_leaves_no_tag_and_a_retry_succeeds(cli: Any,
                                                             project: Project) -> None:
    root = project.path
    tags = git(root, "tag", "-l")
    url = f"http://127.0.0.1:{closed_port()}/dvc-store"
    dvc_remote(root, "add", "-d", "-f", "readonly", url)
    result = cli("-C", root, "register", "churn")
    assert result.code == 1
    assert url in result.err and "not registered" in result.err
    assert "Traceback" not in result.err
    assert git(root, "tag", "-l") == tags
    dvc_remote(root, "default", "storage")
    result = cli("-C", root, "register", "churn", "--json")
    assert result.code == 0, result.err
    meta = tag_metadata(root, "churn@v0.0.1")
    # Metrics are the values (flattened), never empty objects.
    assert meta["metrics"] and all(meta["metrics"].values())
    assert all(isinstance(v, (int, float)) for values in meta["metrics"].values()
               for v in values.values())


def test_git_tracked_file_and_remote_uri_register_and_gto_sees_them(cli: Any,
                                                                    project: Project) -> None:
    root = project.path
    (root / "models").mkdir(exist_ok=True)
    (root / "models" / "rules.json").write_text('{"threshold": 0.7}\n')
    git(root, "add", "models/rules.json")
    git(root, "commit", "-q", "-m", "rules model, tracked by git")
    result = cli("-C", root, "register", "rules", "--path", "models/rules.json", "--no-publish",
                 "--unsigned", "rules live in git")
    assert result.code == 0, result.err
    artifact = tag_metadata(root, "rules@v0.0.1")["artifact"]
    blob = (root / "models" / "rules.json").read_bytes()
    assert artifact["md5"] == hashlib.md5(blob).hexdigest() and artifact["size"] == len(blob)
    assert [v["version"] for v in gto_json(root, "rules")] == ["v0.0.1"]
    uri = "s3://models-bucket/ranker/model.pkl"
    refused = cli("-C", root, "register", "ranker", "--path", uri)
    assert refused.code == 1 and "is a remote URI, which jx-mlops does not copy or sign" in \
        refused.err
    result = cli("-C", root, "register", "ranker", "--path", uri, "--unsigned", "S3 only")
    assert result.code == 0, result.err
    assert tag_metadata(root, "ranker@v0.0.1")["artifact"]["uri"] == uri
    assert gto_json(root)["ranker"]["version"] == "v0.0.1"
    result = cli("-C", root, "register", "nothing-here")
    assert result.code == 1 and "no model named 'nothing-here'" in result.err
