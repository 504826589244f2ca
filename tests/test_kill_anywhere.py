"""SIGKILL at random moments of `register`, `promote` and `ci release`; a re-run completes.

The whole process group is killed, git children included, as a CI runner's timeout does:
so git's own lock files can be left behind (``refs/heads/main.lock`` in an environment
repository, a ref lock in a mirror), which the re-run must recognise and clear. Moments
are drawn from a seeded generator: a failure names its trial, and re-running reproduces it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from kit.lab import Lab

pytestmark = pytest.mark.slow  # processes SIGKILLed at random moments, then re-run

TRIALS = 12  # 6 of register + promote (3 kills each), 6 of ci release (2 kills each)
SEED = 20261204


def kill_at(lab: Lab, delay: float, *args: str) -> None:
    """Run ``jx-mlops ARGS`` and SIGKILL its whole process group after ``delay`` seconds."""
    proc = subprocess.Popen([sys.executable, "-m", "jx_mlops", "-q", *args], cwd=lab.path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(delay)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def test_killed_at_random_moments_a_rerun_completes_and_audit_is_clean(cli, lab: Lab) -> None:
    rng = random.Random(SEED)
    kills = 0
    for trial in range(TRIALS):
        version = f"v0.0.{trial + 1}"
        lab.new_version()
        if trial % 2:
            for _ in range(2):  # killed, and the first re-run killed too
                kill_at(lab, rng.uniform(0.2, 2.5), "ci", "release")
            kills += 2
            result = cli("-q", "ci", "release", "--json")
            assert result.code == 0, f"trial {trial}: {result.err}"
        else:
            kill_at(lab, rng.uniform(0.2, 2.5), "register", "fraud", "--push")
            result = cli("-q", "register", "fraud", "--push")
            assert result.code in (0, 1), f"trial {trial}: {result.err}"
            if result.code == 1:  # the killed run had registered it: that is a clean refusal
                assert "already" in result.err, f"trial {trial}: {result.err}"
            for _ in range(2):
                kill_at(lab, rng.uniform(0.2, 1.6), "promote", "fraud", "--version", version,
                        "--to", "staging")
            kills += 3
            result = cli("-q", "promote", "fraud", "--version", version, "--to", "staging")
            assert result.code == 0, f"trial {trial}: {result.err}"
        assert lab.record("staging", "fraud")["version"] == version, f"trial {trial}"
        assert not lab.forge.list_pulls("local/environment-staging"), f"trial {trial}"
    assert kills >= 30
    audit = cli("audit", "--env", "staging", "--json")
    assert audit.code == 0, audit.out + audit.err
    history = json.loads(cli("history", "fraud", "--json").out)
    assert [e["version"] for e in history][:1] == [f"v0.0.{TRIALS}"]


def test_eight_concurrent_promotions_of_one_version_end_in_one_pull_request(cli, lab: Lab
                                                                            ) -> None:
    lab.new_version()
    assert cli("-q", "register", "fraud", "--push").code == 0
    procs = [subprocess.Popen([sys.executable, "-m", "jx_mlops", "-q", "promote", "fraud",
                               "--version", "v0.0.1", "--to", "staging"], cwd=lab.path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    results = [(p.wait(timeout=180), p.stdout.read(), p.stderr.read())  # type: ignore[union-attr]
               for p in procs]
    assert [code for code, _out, _err in results] == [0] * 8, results
    # The first line of each output (the one that merges also lists its gates).
    lines = sorted(out.strip().splitlines()[0] for _code, out, _err in results)
    assert lines.count("fraud v0.0.1 -> staging: PR #1 merged") == 1, lines
    assert lines.count("fraud v0.0.1 already runs in staging") == 7, lines
    assert [p.state for p in lab.forge.list_pulls("local/environment-staging",
                                                  state="all")] == ["merged"]
    assert cli("audit", "--env", "staging").code == 0


def test_git_locks_a_killed_run_left_are_cleared_by_the_next(cli, lab: Lab) -> None:
    lab.new_version()
    assert cli("-q", "register", "fraud", "--push").code == 0
    bare = lab.home / "forge" / "repos" / "local" / "environment-staging.git"
    left = [bare / "refs" / "heads" / "main.lock",
            bare / "refs" / "heads" / "promote" / "staging" / "fraud-v0.0.1.lock"]
    for lock in left:
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text("0" * 40 + "\n")  # what git writes before it renames
    result = cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    assert result.code == 0, result.err
    assert "main.lock left in local/environment-staging by a process that died" in result.err
    assert not any(lock.exists() for lock in left)
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
