"""Promotions as real processes: 8 at once into one environment, and killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from kit.git import git
from kit.lab import Lab, make_lab

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # promotions as real processes, 8 at once and killed

MODELS = tuple(f"m{n}" for n in range(8))


def spawn(lab: Lab, *args: str, failpoint: str | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("JX_MLOPS_FAILPOINT", None)
    if failpoint:
        env["JX_MLOPS_FAILPOINT"] = failpoint
    return subprocess.Popen([sys.executable, "-m", "jx_mlops", "-q", *args], cwd=lab.path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out, err


def register_all(cli, lab: Lab) -> None:
    lab.new_version()
    for model in lab.models:
        result = cli("register", model, "--push")
        assert result.code == 0, result.err


def assert_consistent(cli, lab: Lab, env: str = "staging") -> None:
    """The environment's main is whole: every record there is what a merge wrote."""
    result = cli("audit", "--env", env)
    assert result.code == 0, result.out + result.err


@pytest.mark.parametrize("layout", ["kserve", "jenkins-x"])
def test_eight_concurrent_promotions_into_one_environment_all_land(cli, hermetic, monkeypatch,
                                                                   layout) -> None:
    envs = f"  - name: staging\n    repo: local/environment-staging\n    layout: {layout}\n"
    lab = make_lab(hermetic, jx_home(), models=MODELS, environments=envs)
    monkeypatch.chdir(lab.path)
    register_all(cli, lab)
    procs = [spawn(lab, "promote", model, "--version", "v0.0.1", "--to", "staging", "--json")
             for model in MODELS]
    results = [finish(p) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert json.loads(out)["merged"] is True
    status = json.loads(cli("status", "--json").out)
    assert [(s["model"], s["version"]) for s in status] == [(m, "v0.0.1") for m in MODELS]
    pulls = lab.forge.list_pulls("local/environment-staging", state="all")
    assert sorted(p.state for p in pulls) == ["merged"] * 8
    assert len(json.loads(cli("history", "m0", "--json").out)) == 1
    events = lab.env_git("staging", "log", "--format=%s", "--grep=^Jx-Mlops-Action:", "main")
    assert len(events.splitlines()) == 8  # nothing lost, nothing twice
    assert_consistent(cli, lab)


FAILPOINTS = ["pushed", "pull-created", "reported", "rebuilt", "merged"]


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_a_promotion_killed_at_any_step_is_completed_by_a_rerun(cli, lab, failpoint) -> None:
    register_all(cli, lab)
    code, _out, _err = finish(spawn(lab, "promote", "fraud", "--version", "v0.0.1", "--to",
                                    "staging", failpoint=failpoint))
    assert code == -signal.SIGKILL
    assert_consistent(cli, lab)
    landed = "models/fraud.yaml" in lab.env_git("staging", "ls-tree", "-r", "--name-only",
                                                  "main")
    assert landed == (failpoint == "merged")

    code, out, err = finish(spawn(lab, "promote", "fraud", "--version", "v0.0.1", "--to",
                                  "staging", "--json"))
    assert code == 0, err
    assert json.loads(out)["merged"] is True
    pulls = lab.forge.list_pulls("local/environment-staging", state="all")
    assert [(p.number, p.state) for p in pulls] == [(1, "merged")]
    assert lab.record("staging", "fraud")["promotion"]["pull_request"] == 1
    assert len(json.loads(cli("history", "fraud", "--json").out)) == 1
    assert_consistent(cli, lab)


def test_a_merge_that_landed_but_left_its_pull_request_open_is_settled(cli, lab) -> None:
    """The forge died between moving main and writing the PR record: main has the change,
    the PR still says open. A rerun marks it merged instead of promoting again."""
    register_all(cli, lab)
    code, _out, _err = finish(spawn(lab, "promote", "fraud", "--version", "v0.0.1", "--to",
                                    "staging", failpoint="rebuilt"))
    assert code == -signal.SIGKILL
    bare = lab.home / "forge" / "repos" / "local" / "environment-staging.git"
    head = git(bare, "rev-parse", "refs/heads/promote/staging/fraud-v0.0.1")
    tree = git(bare, "merge-tree", "--write-tree", "main", head)
    merge = git(bare, "commit-tree", tree, "-p", "main", "-p", head, "-m", "Merge")
    git(bare, "update-ref", "refs/heads/main", merge)

    rerun = json.loads(cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging",
                           "--json").out)
    assert rerun["already_deployed"] is True
    assert lab.forge.get_pull("local/environment-staging", 1).state == "merged"
    assert len(json.loads(cli("history", "fraud", "--json").out)) == 1
    assert_consistent(cli, lab)


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.2])
def test_a_promotion_killed_at_a_random_moment_leaves_a_consistent_environment(
        cli, lab, delay) -> None:
    register_all(cli, lab)
    proc = spawn(lab, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    assert_consistent(cli, lab)
    code, _out, err = finish(spawn(lab, "promote", "fraud", "--version", "v0.0.1", "--to",
                                   "staging"))
    assert code == 0, err
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
    assert [p.state for p in lab.forge.list_pulls("local/environment-staging",
                                                  state="all")] == ["merged"]
    assert_consistent(cli, lab)


def test_a_promotion_killed_between_its_stage_tag_and_the_push_is_pushed_by_a_rerun(
        cli, lab) -> None:
    """The stage tag was written in the project but never reached the forge: the re-run
    finds GTO already showing the version locally, and must still push it (else the forge
    shows the previous version in the stage, and audit says so)."""
    register_all(cli, lab)
    assert cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging").code == 0
    lab.new_version()
    assert cli("register", "fraud", "--push").code == 0
    code, _out, err = finish(spawn(lab, "promote", "fraud", "--version", "v0.0.2", "--to",
                                   "staging", failpoint="stage-tagged"))
    assert code == -signal.SIGKILL, err
    bare = lab.home / "forge" / "repos" / "local" / f"{lab.name}.git"
    assert "fraud#staging#2" not in git(bare, "tag", "-l")
    code, _out, err = finish(spawn(lab, "promote", "fraud", "--version", "v0.0.2", "--to",
                                   "staging"))
    assert code == 0, err
    assert "fraud#staging#2" in git(bare, "tag", "-l").split()
    assert_consistent(cli, lab)


def test_a_mirror_a_killed_run_left_broken_is_made_anew(cli, lab) -> None:
    """The environment mirror is a cache: one killed mid-`git init` (HEAD and nothing
    else), or holding a ref to an object it lacks, does not stop the next promotion."""
    from jx_mlops.environments.repo import mirror_path
    from jx_mlops.forge.local.forge import LocalForge

    register_all(cli, lab)
    path = mirror_path(LocalForge(lab.home / "forge"), "local/environment-staging")
    path.mkdir(parents=True)
    (path / "HEAD").write_text("ref: refs/heads/main\n")
    assert cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging").code == 0
    dangling = path / "refs" / "remotes" / "origin" / "promote" / "left-over"
    dangling.parent.mkdir(parents=True, exist_ok=True)
    dangling.write_text("1" * 40 + "\n")
    lab.new_version()
    assert cli("register", "fraud", "--push").code == 0
    result = cli("promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    assert result.code == 0, result.err
    assert not dangling.exists()
    assert_consistent(cli, lab)
