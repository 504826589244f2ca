"""Start-up benchmark: what `jx-mlops --help` and the read-only commands cost before they
do any work, and which heavy libraries each one imports.

Each command runs as a fresh process (as a user types it) in a throwaway home with a small
registry (20 versions, stage events in two environment repositories, built as the
registry benchmark builds them). `--help` is timed over many runs (median); `status`,
`versions`, `history` and `lineage` are run once more under ``python -X importtime`` to
list the heavy libraries they load (DVC, a git library, PyGithub, NumPy, pandas). Usage::

    .venv/bin/python benchmarks/bench_startup.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _envbench import machine, setup_home
from bench_registry import build_environment, build_project

HEAVY = ("dvc", "git", "github", "numpy", "pandas", "scmrepo", "dulwich", "sklearn")
JX = [sys.executable, "-m", "jx_mlops"]
SCRIPT = str(Path(sys.executable).parent / "jx-mlops")  # what a user types


def _times(command: list[str], cwd: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of ``repeat`` runs after a warm-up run."""
    walls, cpus = [], []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
        _pid, _status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
    return walls[1:], cpus[1:]


def _imports(cwd: Path, args: list[str]) -> tuple[float, list[str]]:
    """Wall time of one run, and the heavy top-level packages it imported."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "jx_mlops", *args],
                          cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"jx-mlops {' '.join(args)} failed: {proc.stderr[-400:]}")
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0]
              for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return seconds, sorted(loaded & set(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    base = setup_home()
    try:
        project, events = build_project(base, 20, 2, 4)
        for env, numbers in events.items():
            build_environment(base, env, numbers)
        walls, cpus = _times([SCRIPT, "--help"], project, args.repeat)
        bare, _cpu = _times([sys.executable, "-c", "pass"], project, args.repeat)
        rows = []
        for command in (["status"], ["versions"], ["history", "churn"],
                        ["lineage", "churn@v0.0.20"]):
            _imports(project, command)  # warm: mirrors cloned, index built
            seconds, heavy = _imports(project, command)
            rows.append(f"| `jx-mlops {' '.join(command)}` | {seconds * 1000:.0f} ms | "
                        f"{', '.join(heavy) or 'none'} |")
        print(f"Start-up ({machine()}).\n")
        print(f"`jx-mlops --help`: median {statistics.median(walls) * 1000:.0f} ms (CPU "
              f"{statistics.median(cpus) * 1000:.0f} ms), best {min(walls) * 1000:.0f} ms over "
              f"{args.repeat} runs; the interpreter alone (`python -c pass`) "
              f"{statistics.median(bare) * 1000:.0f} ms. Target: median < 60 ms.\n")
        print("| command (20 versions, warm) | one run, under -X importtime | heavy "
              "libraries imported |")
        print("|---|--:|---|")
        print("\n".join(rows))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
