"""A tiny quickstart (one DVC stage that writes a metrics file) in a folder or a git
repository, for the tests of `create` from a source."""

from __future__ import annotations

from pathlib import Path

from jx_mlops.fsutil import jx_home
from kit.git import git

DEFINITION = """\
name: tiny
description: A one-stage pipeline for tests.
variables:
  project_name: {description: the project}
  model_name: {default: "{{ project_name }}"}
  owner: {default: local, pattern: "[a-z]+"}
  greeting: {default: hello, description: what the model says}
requires: [pyyaml]
tasks:
  - python make_data.py
track: [data.txt]
"""


FILES = {
    "make_data.py": "open('data.txt', 'w').write('0.5\\n')\n",
    "train.py": ("import json\nv = float(open('data.txt').read())\n"
                 "open('model.bin', 'w').write('weights')\n"
                 "json.dump({'score': v}, open('metrics.json', 'w'))\n"),
    "dvc.yaml": ("stages:\n  train:\n    cmd: python train.py\n    deps: [train.py, data.txt]\n"
                 "    outs: [model.bin]\n    metrics:\n      - metrics.json:\n"
                 "          cache: false\n"),
    "README.md.tmpl": "# {{ project_name }}\n{{ greeting }} from {{ quickstart }}\n",
    "mlops.yaml.tmpl": ("version: 1\nforge: {kind: {{ forge_kind }}, "
                        "repo: {{ owner }}/{{ project_name }}}\n"
                        "models:\n  {{ model_name }}:\n    artifact: model.bin\n"
                        "    metrics: [metrics.json]\n"
                        "environments:\n  - {name: staging, repo: {{ owner }}/env-staging}\n"),
}


def make_tiny(root: Path, definition: str = DEFINITION) -> Path:
    """A quickstart folder at ``root``."""
    (root / "template").mkdir(parents=True)
    (root / "quickstart.yaml").write_text(definition)
    for name, text in FILES.items():
        (root / "template" / name).write_text(text)
    return root


def make_catalogue_repo(root: Path) -> Path:
    """A git repository holding quickstart `tiny` (under tiny/) and a shared layer."""
    make_tiny(root / "tiny")
    shared = root / "_shared" / "template"
    shared.mkdir(parents=True)
    (shared / "NOTICE.txt").write_text("shared file\n")
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    readme = root / "tiny" / "template" / "README.md.tmpl"
    readme.write_text("# {{ project_name }}\nversion two\n")
    git(root, "commit", "-qam", "v2")
    return root


def assert_nothing_written(tmp_path: Path, target: Path) -> None:
    assert not target.exists()
    assert not list(tmp_path.glob(".*.jx-creating"))
    assert not (jx_home() / "forge" / "repos").exists()
