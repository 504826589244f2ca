"""audit (records vs registry tags and dvc.lock), lineage, and registry parity with GTO."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kit.cli import run
from kit.git import git
from kit.lab import Lab, lab_commit_env_file

from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.tags import list_versions, register_version

pytestmark = pytest.mark.slow  # promotion stories, and registry parity with the real gto CLI


def deployed(cli, lab: Lab, versions: int = 1) -> None:
    for _ in range(versions):
        lab.new_version()
        version = run(cli, "register", "fraud")["version"]
        run(cli, "promote", "fraud", "--version", version, "--to", "staging")


def test_audit_passes_on_records_written_by_promotions(cli, lab) -> None:
    deployed(cli, lab, 2)
    report = run(cli, "audit")
    assert report == {"ok": True, "findings": [],
                      "checked": [{"environment": "staging", "model": "fraud",
                                   "version": "v0.0.2", "project": "local/fraud"}]}
    result = cli("audit")
    assert result.out.strip() == "audit: 1 deployment records match the registry and their " \
                                 "sources"


def test_audit_catches_a_hand_edited_record(cli, lab) -> None:
    deployed(cli, lab)
    record = lab.env_file("staging", "models/fraud.yaml")
    md5 = lab.record("staging", "fraud")["artifact"]["md5"]
    lab_commit_env_file(lab, "staging", "models/fraud.yaml",
                        record.replace(md5, "f" * 32))
    result = cli("audit")
    assert result.code == 1
    lines = result.out.strip().splitlines()
    assert lines[0].startswith("✗ staging/fraud: models/fraud.yaml differs from what "
                               "promotion commit ")
    assert lines[0].endswith(" wrote (edited by hand?)")
    assert f"✗ staging/fraud: artifact md5 {'f' * 32} differs from the registry metadata of " \
           f"fraud@v0.0.1 ({md5})" in lines
    assert any(line.startswith(f"✗ staging/fraud: artifact md5 {'f' * 32} differs from "
                               "dvc.lock at ") for line in lines)
    assert lines[-1] == "audit: 4 mismatches in staging/fraud (1 records checked)"


def retag(lab: Lab, commit: str) -> None:
    git(lab.path, "tag", "-d", "fraud@v0.0.1")
    git(lab.path, "tag", "-a", "fraud@v0.0.1", "-m", "Registering artifact fraud version "
                                                     "v0.0.1 (again)", commit)
    git(lab.path, "push", "-q", "--force", "origin", "refs/tags/fraud@v0.0.1")


def test_audit_catches_a_recreated_or_moved_tag_and_an_edited_manifest(cli, lab) -> None:
    deployed(cli, lab)
    retag(lab, git(lab.path, "rev-parse", "HEAD"))
    [finding] = run_audit_json(cli)
    assert finding["problem"].startswith("tag fraud@v0.0.1 is not the tag object that was "
                                         "promoted (")
    retag(lab, lab.new_version())
    manifest = lab.env_file("staging", "serving/fraud.yaml")
    lab_commit_env_file(lab, "staging", "serving/fraud.yaml",
                        manifest.replace("v0.0.1", "v9.9.9"))
    problems = [f["problem"] for f in run_audit_json(cli)]
    assert any(p.startswith("tag fraud@v0.0.1 points at ") and p.endswith("(tag moved?)")
               for p in problems)
    assert any(p.startswith("serving/fraud.yaml differs from what promotion commit")
               for p in problems)
    assert "serving/fraud.yaml deploys v9.9.9, the record says v0.0.1" in problems


def run_audit_json(cli) -> list[dict]:
    result = cli("audit", "--json")
    assert result.code == 1
    return list(json.loads(result.out)["findings"])


def test_lineage_reads_provenance_from_the_tag(cli, lab, monkeypatch) -> None:
    lab.new_version()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/fraud")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    run(cli, "register", "fraud")
    run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    lineage = run(cli, "lineage", "fraud@v0.0.1")
    assert lineage["commit"] == git(lab.path, "rev-parse", "HEAD")
    assert lineage["run_url"] == "https://github.example/acme/fraud/actions/runs/42"
    assert lineage["params"] == {"params.yaml": {"train.seed": 1}}
    assert [d["path"] for d in lineage["data"]] == ["data/raw.csv"]
    assert lineage["metrics"]["metrics-fraud.json"]["accuracy"] == 0.81
    assert lineage["artifact"]["md5"] == lab.record("staging", "fraud")["artifact"]["md5"]
    assert [d["environment"] for d in lineage["deployments"]] == ["staging"]
    text = cli("lineage", "fraud@v0.0.1").out
    assert "runs in   staging (since " in text and "data      data/raw.csv md5 " in text
    bad = cli("lineage", "fraud-v1")
    assert (bad.code, bad.err.strip()) == (1, "error: which version of fraud-v1? name it as "
                                              "fraud-v1@vX.Y.Z (or --version vX.Y.Z; latest "
                                              "for the newest)")
    bad = cli("lineage", "fraud@1.0")
    assert (bad.code, bad.err.strip()) == (1, "error: 'fraud@1.0': expected MODEL@vX.Y.Z "
                                              "(or MODEL@latest)")


def gto() -> str:
    path = shutil.which("gto") or str(Path(sys.executable).parent / "gto")
    assert Path(path).exists(), "gto is in the test extra: pip install -e '.[test]'"
    return path


def test_gto_show_lists_the_versions_jx_mlops_registers(cli, lab) -> None:
    lab.new_version()
    run(cli, "register", "fraud")
    lab.new_version()
    run(cli, "register", "fraud", "--bump", "minor")
    lab.new_version()
    run(cli, "register", "fraud", "--version", "v1.0.0")
    again = run(cli, "register", "fraud")
    assert (again["version"], again["created"]) == ("v1.0.0", False)
    subprocess.run([gto(), "deprecate", "fraud", "v0.1.0"], cwd=lab.path, check=True,
                   capture_output=True)
    # A monorepo project's model, named as gto writes it (DIR:NAME, tag DIR=NAME@v...).
    repo = GitRepo.open(lab.path)
    register_version(repo, "projects/risk:risk", repo.rev_parse("HEAD"), {})
    assert [v.tag for v in list_versions(repo, "projects/risk:risk")] == [
        "projects/risk=risk@v0.0.1"]

    ours = [v["version"] for v in run(cli, "versions", "fraud")]
    assert ours == ["v1.0.0", "v0.0.1"]  # newest first, as gto lists them
    shown = subprocess.run([gto(), "show", "fraud", "--json"], cwd=lab.path, check=True,
                           capture_output=True, text=True)
    assert [v["version"] for v in json.loads(shown.stdout)] == ours
    everything = subprocess.run([gto(), "show", "--json"], cwd=lab.path, check=True,
                                capture_output=True, text=True)
    registry = json.loads(everything.stdout)
    assert {name: a["version"] for name, a in registry.items()} == {
        "fraud": "v1.0.0", "projects/risk:risk": "v0.0.1"}
    assert {(v.model, v.version) for v in list_versions(repo)} == {
        ("fraud", "v0.0.1"), ("fraud", "v1.0.0"), ("projects/risk:risk", "v0.0.1")}
    # A deregistered number is never minted again.
    lab.new_version()
    assert run(cli, "register", "fraud", "--bump", "minor")["version"] == "v1.1.0"
    message = git(lab.path, "tag", "-l", "--format=%(contents)", "fraud@v0.0.1")
    assert message.startswith("Registering artifact fraud version v0.0.1\n\n{")
    assert yaml.safe_load(message.split("\n\n", 1)[1])["artifact"]["path"] == "models/fraud.pkl"
