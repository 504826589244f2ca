"""Issue 22's target: handing `train` to Ray costs under 15 s more than running it in the
CI job. On the sklearn-classifier quickstart and a loopback Ray head started here, for
each of two retrain PRs, in the same run: `ci pr` with ``compute.stages: [train]`` (its
steps' own timings: pushing the inputs, the job from submission to its end with the log
followed, taking the outputs back by md5), against ``dvc repro --single-item --force
train`` of the same head in a copy of the project (DVC start-up included on both sides:
the job runs DVC too). Also writes what docs/compute.md shows (--docs FILE).

Usage: python benchmarks/bench_ray_handoff.py [--write] [--docs FILE]
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, hermetic_env, record, run, workdir

sys.path.insert(0, str(ROOT / "tests"))
from kit.rayhead import running_head

JX = [sys.executable, "-m", "jx_mlops"]
DVC = [sys.executable, "-m", "dvc"]
COMPUTE = """
compute:
  backend: ray
  address: http://ray-head.invalid:8265  # JX_MLOPS_COMPUTE_ADDRESS: the CI secret
  stages: [train]
  resources: {num_cpus: 1, num_gpus: 0, memory_gb: 1}
  timeout: 1h
  requirements: none   # the head runs in this venv: its packages are the project's
"""
_STEP = re.compile(r"✓ (?P<what>.+) \((?P<s>[\d.]+)s\)$")
HANDOFF_STEPS = ("Pushing its inputs", "Running train on Ray", "Taking train's outputs")


def _steps(stderr: str) -> dict[str, float]:
    found = {}
    for line in stderr.splitlines():
        match = _STEP.search(line.strip())
        if match:
            found[match["what"]] = float(match["s"])
    return found


def _handoff_s(steps: dict[str, float]) -> float:
    return sum(s for what, s in steps.items() if what.startswith(HANDOFF_STEPS))


def _local_train(project: Path, branch: str, base: Path, env: dict[str, str]) -> float:
    copy = base / f"local-{branch.replace('/', '-')}"
    shutil.copytree(project, copy, symlinks=True)
    run(["git", "checkout", "-q", branch], copy, env)
    run([*DVC, "pull", "-q"], copy, env)
    start = time.perf_counter()
    run([*DVC, "repro", "--single-item", "--force", "train"], copy, env)
    return time.perf_counter() - start


def main() -> None:
    base = workdir("ray")
    env = hermetic_env(base)
    env.update(GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.invalid",
               COLUMNS="80")
    run([*JX, "-q", "create", "churn", "--quickstart", "sklearn-classifier", "--dir",
         str(base / "churn")], base, env)
    project = base / "churn"
    with (project / "mlops.yaml").open("a") as out:
        out.write(COMPUTE)
    run(["git", "commit", "-qam", "Train on Ray"], project, env)
    run(["git", "push", "-q", "origin", "main"], project, env)
    rows, shown = [], None
    with running_head() as address:
        env["JX_MLOPS_COMPUTE_ADDRESS"] = address
        for number, trees in enumerate((150, 160), start=1):
            run([*JX, "-q", "retrain", "--set", f"train.n_estimators={trees}"], project, env)
            branch = run(["git", "branch", "--list", "retrain/*"], project, env).split()
            branch = next(b for b in branch if str(trees) in b)
            local = _local_train(project, branch, base, env)
            start = time.perf_counter()
            done = subprocess.run([*JX, "ci", "pr", "--pr", str(number)], cwd=project,
                                  env=env, capture_output=True, text=True)
            whole = time.perf_counter() - start
            if done.returncode:
                sys.exit(f"ci pr failed:\n{done.stderr}")
            steps = _steps(done.stderr)
            rows.append((local, _handoff_s(steps), steps, whole))
            if shown is None:
                shown = (done.stderr, _comment(project, env, number), address)
    write_docs(shown)
    local = statistics.median(r[0] for r in rows)
    handoff = statistics.median(r[1] for r in rows)
    run_s = statistics.median(r[2].get(next(k for k in r[2] if k.startswith(
        "Running train on Ray")), 0.0) for r in rows)
    text = "\n".join([
        "## Training on Ray (issue 22)", "",
        f"Measured by `python benchmarks/bench_ray_handoff.py --write` on "
        f"{platform.machine()}, Python {platform.python_version()}, Ray "
        f"{_ray_version()}: the sklearn-classifier quickstart, a Ray head on loopback "
        "(1 CPU per job), two retrain PRs, medians. The local side is `dvc repro "
        "--single-item --force train` of the same head in a copy of the project; the Ray "
        "side is `ci pr`'s own step times: pushing train's inputs to the DVC remote, the "
        "job from submission to its end (the working directory's upload, Ray's job "
        "start, the job's `dvc repro --pull` and `dvc push`), and taking the outputs back "
        "by md5. Load average when measured: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.", "",
        "| What | seconds |", "|:--|--:|",
        f"| train here (`dvc repro`) | {local:.1f} |",
        f"| train on Ray: the job, submission to end | {run_s:.1f} |",
        f"| handoff in all (push inputs + job + outputs back) | {handoff:.1f} |",
        f"| **overhead** (handoff minus train here) | **{handoff - local:.1f}** (target < 15) |",
        f"| whole `ci pr` with train on Ray | {statistics.median(r[3] for r in rows):.1f} |",
    ])
    print(text)
    if "--write" in sys.argv:
        record("ray-handoff", text)


def _ray_version() -> str:
    import ray

    return str(ray.__version__)


def _comment(project: Path, env: dict[str, str], number: int) -> str:
    shown = json.loads(run([*JX, "forge", "pr", "show", str(number), "--json"], project, env))
    return str(shown["comments"][0]["body"])


def write_docs(shown: tuple[str, str, str] | None) -> None:
    """What docs/compute.md shows, to the file after --docs (if given)."""
    if shown is None or "--docs" not in sys.argv:
        return
    stderr, comment, address = shown
    target = Path(sys.argv[sys.argv.index("--docs") + 1])
    target.write_text(json.dumps({"stderr": stderr, "comment": comment,
                                  "address": address}, indent=1))


if __name__ == "__main__":
    main()
