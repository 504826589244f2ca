"""`ci pr` hands `train` to a real Ray head on loopback (issue 22): one head for the
session (tests/kit/rayhead.py), every Ray test in this one file so one worker pays it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kit.git import git
from kit.rayhead import shared_head
from kit.workspace import Project

from jx_mlops.dvc.commands import dvc_env
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow

COMPUTE = """
compute:
  backend: ray
  address: http://ray-head.invalid:8265   # JX_MLOPS_COMPUTE_ADDRESS wins (as a CI secret)
  stages: [train]
  resources: {num_cpus: 1, num_gpus: 0, memory_gb: 0.5}
  timeout: 10m
  requirements: none
"""
SLEEP = "import time\ntime.sleep(120)  # a long training\n"


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from shared_head(tmp_path_factory)


@pytest.fixture
def on_ray(project: Project, ray_head: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The session project with `compute:` on main, pointed at the session's head."""
    monkeypatch.chdir(project.path)
    monkeypatch.setenv("JX_MLOPS_COMPUTE_ADDRESS", ray_head)
    with (project.path / "mlops.yaml").open("a") as out:
        out.write(COMPUTE)
    git(project.path, "commit", "-qam", "Train on Ray")
    git(project.path, "push", "-q", "origin", "main")
    return project


def _client(address: str):  # Ray's own type
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(address)


def _jobs(address: str, pr: str) -> list:
    return [j for j in _client(address).list_jobs()
            if (j.metadata or {}).get("jx-mlops.pr") == pr]


def _change_train(project: Project, branch: str, text: str, message: str) -> None:
    git(project.path, "checkout", "-q", branch)
    train = project.path / "src" / "train.py"
    future = "from __future__ import annotations\n"
    head, rest = train.read_text().replace(SLEEP, "").split(future)
    train.write_text(head + future + text + rest)
    git(project.path, "commit", "-qam", message)
    git(project.path, "push", "-q", "origin", branch)
    git(project.path, "checkout", "-q", "main")


def test_pr_trains_on_ray_a_push_stops_the_old_job(on_ray: Project, ray_head: str, cli,
                                                   tmp_path: Path) -> None:
    assert cli("retrain", "--set", "train.n_estimators=150").code == 0
    branch = git(on_ray.path, "branch", "--list", "retrain/*").strip(" *\n")
    _change_train(on_ray, branch, SLEEP, "Train longer")
    # The first head's `ci pr` runs from another checkout of the same project.
    other = tmp_path / "other"
    shutil.copytree(on_ray.path, other, symlinks=True)
    first = subprocess.Popen([sys.executable, "-m", "jx_mlops", "-q", "ci", "pr", "--pr", "1"],
                             cwd=other, env=dict(os.environ), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not [j for j in _jobs(ray_head, "local/churn#1")
                   if str(j.status.value) == "RUNNING"]:
            assert first.poll() is None, first.communicate()[0]
            assert time.monotonic() < deadline, "no job running on Ray"
            time.sleep(0.5)
        (old,) = _jobs(ray_head, "local/churn#1")
        _change_train(on_ray, branch, "", "Train as before")  # a new push
        result = cli("ci", "pr", "--pr", "1", "--json")
        first_out = first.communicate(timeout=60)[0]
    finally:
        if first.poll() is None:
            first.kill()
    assert result.code == 0, result.err
    assert first.returncode == 1 and "was stopped" in first_out, first_out
    client = _client(ray_head)
    stopped = client.get_job_info(old.submission_id)
    jobs = {j.submission_id: j for j in _jobs(ray_head, "local/churn#1")}
    (new,) = [j for j in jobs.values() if j.submission_id != old.submission_id]
    assert str(stopped.status.value) == "STOPPED" and str(new.status.value) == "SUCCEEDED"
    # stopped just before the new job was submitted, and STOPPED within 10 s of that
    assert stopped.end_time - new.start_time < 10_000

    listed = subprocess.run([str(Path(sys.executable).parent / "ray"), "job", "list",
                             "--address", ray_head], capture_output=True, text=True,
                            check=True).stdout
    assert f"submission_id='{new.submission_id}'" in listed
    check = json.loads(result.out)
    forge = LocalForge(jx_home() / "forge")
    body = forge.list_comments("local/churn", 1)[0].body
    assert f"train ran on Ray: job [`{new.submission_id}`]({ray_head}/#/jobs/" \
        f"{new.submission_id})" in body and "CPU-hours" in body, body
    # dvc.lock names what the job produced (its own dvc.lock, sent back in its log)
    job_lock = client.get_job_logs(new.submission_id).split("::jx-mlops-lock-begin::\n")[-1]
    theirs = yaml.safe_load(job_lock.split("::jx-mlops-lock-end::")[0])["stages"]["train"]
    ours = yaml.safe_load(git(on_ray.path, "show", f"{check['head_sha']}:dvc.lock"))
    assert ours["stages"]["train"]["outs"] == theirs["outs"]

    # The report equals a local run of the same head.
    git(on_ray.path, "checkout", "-q", check["head_sha"])
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q", "--force", "--single-item",
                    "train", "evaluate"], cwd=on_ray.path, check=True, env=dvc_env())
    local = json.loads((on_ray.path / "metrics.json").read_text())
    assert local == json.loads(git(on_ray.path, "show", f"{check['head_sha']}:metrics.json"))
    git(on_ray.path, "checkout", "-q", "--force", "main")



def test_failed_job_fails_the_check_and_a_rerun_reattaches(on_ray: Project, ray_head: str,
                                                           cli) -> None:
    assert cli("retrain", "--set", "train.n_estimators=90").code == 0
    branch = git(on_ray.path, "branch", "--list", "retrain/*").strip(" *\n")
    _change_train(on_ray, branch, "raise RuntimeError('training diverged: loss is NaN')\n",
                  "Break training")
    result = cli("ci", "pr", "--pr", "1")
    assert result.code == 1
    assert "training diverged: loss is NaN" in result.err.splitlines()[-1]
    forge = LocalForge(jx_home() / "forge")
    body = forge.list_comments("local/churn", 1)[0].body
    assert "RuntimeError: training diverged: loss is NaN" in body and "FAILED" in body, body
    statuses = forge.get_statuses("local/churn", git(on_ray.path, "rev-parse", branch).strip())
    assert statuses[0].state == "failure", statuses
    count = len(_client(ray_head).list_jobs())
    git(on_ray.path, "checkout", "-q", "--force", "main")
    again = cli("ci", "pr", "--pr", "1")
    assert again.code == 1 and "Reattached to train's job" in again.err
    assert len(_client(ray_head).list_jobs()) == count


def test_unreachable_address_is_one_line_and_writes_nothing(project: Project, cli,
                                                            monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    with (project.path / "mlops.yaml").open("a") as out:
        out.write(COMPUTE)
    monkeypatch.setenv("JX_MLOPS_COMPUTE_ADDRESS", "http://127.0.0.1:9")
    assert cli("retrain", "--set", "train.n_estimators=90").code == 0
    result = cli("ci", "pr", "--pr", "1")
    assert result.code == 1
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "http://127.0.0.1:9" in lines[0], result.err
    forge = LocalForge(jx_home() / "forge")
    assert forge.list_comments("local/churn", 1) == []

    # The fork-safe half (`--output`: a fork's code) is never sent to the cluster, and says
    # so: the same unreachable address, every stage trained here, the report written.
    safe = cli("ci", "pr", "--pr", "1", "--output", project.path.parent / "artifact")
    assert safe.code == 0, safe.err
    assert "warning: compute: train not handed to ray for the fork-safe report" in \
        " ".join(safe.err.split())
    assert (project.path.parent / "artifact" / "jx-mlops-report.json").is_file()
