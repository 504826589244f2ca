"""The registry read both ways with GTO: registries built by the real ``gto`` CLI read the
same in ``jx-mlops versions --json`` as in ``gto show --json``, and the tags jx-mlops
writes read in ``gto`` as the equivalent ``gto`` command's event."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kit.git import git
from kit.gto import gto, gto_json
from kit.hermetic import hermetic_env

from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.grammar import parse_tag_name
from jx_mlops.registry.tags import list_versions, register_version, write_stage_tag

pytestmark = pytest.mark.slow  # registries built and read by the real gto CLI


def build_gto_registry(path: Path) -> None:
    """A registry as GTO's own users make one: every event kind, both stage notations,
    deprecation in its three forms, a monorepo name, a lightweight tag GTO ignores."""
    git(path, "init", "-q", "-b", "main")
    for n in range(5):
        (path / f"f{n}").write_text(f"{n}\n")
        git(path, "add", f"f{n}")
        git(path, "commit", "-q", "-m", f"c{n}")
    g = lambda *a: gto(path, *a)  # noqa: E731
    g("register", "churn", "HEAD~4")
    g("register", "churn", "HEAD~3", "--bump-minor")
    g("register", "churn", "HEAD~2")
    g("assign", "churn", "--version", "v0.0.1", "--stage", "dev")
    g("assign", "churn", "--version", "v0.1.0", "--stage", "dev")
    g("assign", "churn", "--version", "v0.1.1", "--stage", "prod", "--simple", "true")
    g("assign", "churn", "--version", "v0.1.0", "--stage", "staging")
    g("deprecate", "churn", "v0.0.1")  # deregistration: churn@v0.0.1!
    g("deprecate", "churn", "v0.1.0", "staging")  # unassignment: churn#staging!#N
    g("assign", "churn", "HEAD", "--stage", "qa", "--skip-registration")
    g("register", "segment", "HEAD~1")
    g("assign", "segment", "HEAD~1", "--stage", "prod")
    g("register", "legacy", "HEAD~4")
    time.sleep(1.1)  # GTO's clock is the tagger time, in seconds: a tie keeps it active
    g("deprecate", "legacy")  # the artifact: legacy@deprecated
    g("register", "projects/fraud:fraud", "HEAD")
    g("assign", "projects/fraud:fraud", "--version", "v0.0.1", "--stage", "staging")
    git(path, "tag", "churn@v9.0.0")  # lightweight: GTO ignores it


@pytest.fixture(scope="module")
def gto_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("gto-registry")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in hermetic_env(base).items():
            mp.setenv(key, value)
        origin = base / "origin"
        origin.mkdir()
        build_gto_registry(origin)
        clone = base / "clone"
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    return clone


def gto_view(repo: Path) -> dict[str, list[tuple[str, str, list[str]]]]:
    """Artifact -> [(version, commit, stages)] as ``gto show NAME --json`` lists them."""
    view = {}
    for name in gto_json(repo):
        listed = [(v["version"], v["commit_hexsha"], sorted(s["stage"] for s in v["stages"]))
                  for v in gto_json(repo, name)]
        # GTO lists an unregistered commit once per assignment: one is enough.
        view[name] = [v for i, v in enumerate(listed) if v not in listed[:i]]
    return {name: versions for name, versions in view.items() if versions}


def ours(cli: Any, repo: Path, *args: str) -> list[dict[str, Any]]:
    result = cli("-C", repo, "versions", *args, "--json")
    assert result.code == 0, result.err
    listed: list[dict[str, Any]] = json.loads(result.out)
    return listed


def test_versions_read_as_gto_show_in_a_clone_without_mlops_yaml(cli: Any,
                                                                  gto_registry: Path) -> None:
    expected = gto_view(gto_registry)
    listed = ours(cli, gto_registry)
    got: dict[str, list[tuple[str, str, list[str]]]] = {}
    for v in listed:
        got.setdefault(v["model"], []).append((v["version"], v["commit"], v["stages"]))
    assert got == expected
    assert "legacy" not in got and "projects/fraud:fraud" in got  # deprecated; monorepo
    # The registry-level view: the version each stage shows.
    for name, shown in gto_json(gto_registry).items():
        stages = {s: v for s, v in shown["stage"].items() if v}
        assert stages == {s: v["version"] for v in listed if v["model"] == name
                          for s in v["stages"]}


def test_versions_of_one_model_and_unknown_model(cli: Any, gto_registry: Path) -> None:
    one = ours(cli, gto_registry, "churn")
    assert [v["version"] for v in one][:2] == ["v0.1.1", "v0.1.0"]
    assert {v["model"] for v in one} == {"churn"}
    result = cli("-C", gto_registry, "versions", "nope")
    assert result.code == 1
    assert result.err.count("\n") <= 2 and "no model named 'nope'" in result.err
    assert "churn" in result.err


def test_every_tag_gto_writes_parses_as_its_event(gto_registry: Path) -> None:
    actions = {}
    for name in git(gto_registry, "tag", "-l").splitlines():
        parsed = parse_tag_name(name)
        assert parsed is not None, name
        actions[name] = parsed.action
    assert actions["churn@v0.0.1!"] == "deregister"
    assert actions["legacy@deprecated"] == "deprecate"
    assert actions["churn#prod"] == "assign"
    assert [a for n, a in actions.items() if n.startswith("churn#staging!")] == ["unassign"]
    assert parse_tag_name("projects/fraud=fraud@v0.0.1").artifact == "projects/fraud:fraud"


def test_stage_tags_we_write_read_in_gto_as_gto_assign(gto_registry: Path,
                                                       tmp_path: Path) -> None:
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(gto_registry), str(work)], check=True)
    repo = GitRepo.open(work)
    segment = list_versions(repo, "segment")[-1]
    before = gto_json(work, "segment")[0]["stages"]
    assert [s["stage"] for s in before] == ["prod"]
    tag = write_stage_tag(repo, segment, "staging", assign=True, details={"env": "staging"})
    assert parse_tag_name(tag).counter == 2  # one past gto's own segment#prod#1
    assert sorted(s["stage"] for s in gto_json(work, "segment")[0]["stages"]) == \
        ["prod", "staging"]
    write_stage_tag(repo, segment, "prod", assign=False)
    stages = [s["stage"] for s in gto_json(work, "segment")[0]["stages"]]
    assert stages == ["staging"]
    subject = git(work, "tag", "-l", "--format=%(contents:subject)", tag)
    assert subject == "Assigning stage staging to artifact segment version v0.0.1"
    history = gto(work, "history", "segment", "--json")
    events = [e["event"] for e in json.loads(history)]
    assert "assignment" in events and "unassignment" in events


def test_status_without_environments_shows_gto_stages_and_dvc_yaml_artifacts(
        cli: Any, gto_registry: Path, tmp_path: Path) -> None:
    work = tmp_path / "project"
    subprocess.run(["git", "clone", "-q", str(gto_registry), str(work)], check=True)
    (work / "mlops.yaml").write_text(
        "version: 1\nforge:\n  repo: local/churn\nmodels:\n"
        "  churn:\n    artifact: models/churn.pkl\n    metrics: [metrics.json]\n")
    (work / "dvc.yaml").write_text(
        "artifacts:\n  scorer:\n    path: models/scorer.onnx\n    type: model\n"
        "    desc: A model only dvc.yaml declares\n    labels: [onnx]\n")
    result = cli("-C", work, "status", "--json")
    assert result.code == 0, result.err
    shown = {(e["environment"], e["model"], e["version"]) for e in json.loads(result.out)}
    expected = {(stage, name, version) for name, data in gto_json(work).items()
                for stage, version in data["stage"].items() if version}
    assert shown == expected and ("prod", "churn", "v0.1.1") in shown
    # A dvc.yaml artifact is a model too: known, with no version yet.
    result = cli("-C", work, "versions", "scorer", "--json")
    assert (result.code, json.loads(result.out)) == (0, [])


def test_lineage_of_a_gto_made_version_is_read_from_its_commit(cli: Any,
                                                               tmp_path: Path) -> None:
    repo = tmp_path / "dvc-project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    deps: [train.py]\n"
        "    params: [train.seed]\n    outs: [models/churn.pkl]\n"
        "    metrics: [{metrics.json: {cache: false}}]\n"
        "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n")
    (repo / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
        "    - path: models/churn.pkl\n      md5: 0123456789abcdef0123456789abcdef\n"
        "      size: 42\n")
    (repo / "params.yaml").write_text("train:\n  seed: 7\n")
    (repo / "metrics.json").write_text('{"accuracy": 0.9, "auc": {"macro": 0.8}}\n')
    (repo / "train.py").write_text("pass\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "train")
    gto(repo, "register", "churn")
    result = cli("-C", repo, "lineage", "churn@v0.0.1", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["artifact"]["md5"] == "0123456789abcdef0123456789abcdef"
    assert data["artifact"]["size"] == 42
    assert data["params"] == {"params.yaml": {"train.seed": 7}}
    assert data["metrics"] == {"metrics.json": {"accuracy": 0.9, "auc.macro": 0.8}}
    assert set(data["unknown"]) == {"source_pull", "run_url", "source_repo"}
    text = cli("-C", repo, "lineage", "churn@v0.0.1").out
    assert "None" not in text and "unknown (the tag was not made by a jx-mlops" not in text
    assert "md5 0123456789abcdef0123456789abcdef (42 bytes)" in text
    assert "unknown (the repository has no origin remote)" in text


def test_history_without_mlops_yaml_is_gto_history(cli: Any, gto_registry: Path) -> None:
    result = cli("-C", gto_registry, "history", "churn", "--json")
    assert result.code == 0, result.err
    ours = [(e["action"], e["version"], e["environment"] or None, e["tag"])
            for e in json.loads(result.out)]
    names = {"registration": "register", "deregistration": "deregister",
             "assignment": "assign", "unassignment": "unassign", "deprecation": "deprecate"}
    theirs = [(names[e["event"]], e["version"], e["stage"], e["ref"])
              for e in json.loads(gto(gto_registry, "history", "churn", "--json"))
              if e["event"] != "commit"]
    assert sorted(ours) == sorted(theirs)


def test_our_tags_are_the_ones_gto_makes_for_the_same_event(tmp_path: Path) -> None:
    ours_path, theirs_path = tmp_path / "ours", tmp_path / "theirs"
    ours_path.mkdir()
    git(ours_path, "init", "-q", "-b", "main")
    git(ours_path, "commit", "-q", "--allow-empty", "-m", "c0")
    subprocess.run(["git", "clone", "-q", str(ours_path), str(theirs_path)], check=True)
    repo = GitRepo.open(ours_path)
    for name in ("churn", "projects/fraud:fraud"):
        version, _ = register_version(repo, name, repo.rev_parse("HEAD"), {"k": 1})
        write_stage_tag(repo, version, "staging", assign=True)
        write_stage_tag(repo, version, "staging", assign=False)
        gto(theirs_path, "register", name, "HEAD")
        gto(theirs_path, "assign", name, "--version", "v0.0.1", "--stage", "staging")
        gto(theirs_path, "deprecate", name, "v0.0.1", "staging")
    fmt = "--format=%(refname) %(objecttype) %(*objectname) %(contents:subject)"
    assert git(ours_path, "for-each-ref", fmt, "refs/tags") == \
        git(theirs_path, "for-each-ref", fmt, "refs/tags")
