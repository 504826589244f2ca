"""Concurrent `ci pr` runs all keep their run record: eight processes, each with its own
clone and commit, push their notes to one remote at the same moment; every push that
loses the race (rejected, or "cannot lock ref") fetch-merges and goes again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kit.git import git

pytestmark = pytest.mark.slow  # eight ci pr processes pushing at once

WORKER = """
import sys
from pathlib import Path
from jx_mlops.compare.cost import RunRecord
from jx_mlops.evaluation.runrecords import load_record, save_record
from jx_mlops.git.repo import GitRepo

repo = GitRepo.open(Path(sys.argv[1]))
commit = repo.head_sha()
sys.stdin.readline()  # start together
save_record(repo, RunRecord(commit=commit, recorded_at="2026-12-04T00:00:00Z", stages=(),
                            total_wall_s=1.0), push=True)
print(commit)
"""


def test_eight_concurrent_run_record_pushes_all_land(hermetic: Path) -> None:
    remote = hermetic / "remote.git"
    git(hermetic, "init", "-q", "--bare", str(remote))
    clones = []
    for n in range(8):
        clone = hermetic / f"clone{n}"
        git(hermetic, "clone", "-q", str(remote), str(clone))
        (clone / "f.txt").write_text(f"{n}\n")
        git(clone, "add", "f.txt")
        git(clone, "commit", "-q", "-m", f"run {n}")
        git(clone, "push", "-q", "origin", f"HEAD:refs/heads/pr-{n}")
        clones.append(clone)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(c)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in clones]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _out, err in results]
    commits = {out.strip() for out, _err in results}
    noted = set(git(remote, "notes", "--ref=jx-mlops", "list").split()[1::2])
    assert commits <= noted and len(commits) == 8
