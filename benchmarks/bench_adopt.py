"""Issue 9's target: reading a DVC project jx-mlops did not scaffold costs no more than
before. On a get-started layout (metrics and plots inside a cached ``eval/`` directory, a
dvclive plot directory, ``artifacts:``; tests/kit/getstarted.py), after a bare `jx-mlops init`:
`jx-mlops report --format md` between the two commits vs `dvc metrics diff` +
`dvc params diff` + `dvc plots diff` on the same pair. Target: at most 0.15x.

Usage: python benchmarks/bench_adopt.py [--write]   (--write updates docs/benchmarks.md)
"""

from __future__ import annotations

import os
import platform
import sys

from _common import ROOT, hermetic_env, record, run, side_by_side, workdir

sys.path.insert(0, str(ROOT / "tests"))
from kit.getstarted import build_get_started

JX = [sys.executable, "-m", "jx_mlops"]
DVC = [sys.executable, "-m", "dvc"]


def main() -> None:
    base = workdir("adopt")
    env = hermetic_env(base)
    env.update(GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        shas = build_get_started(base / "repo")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    repo = base / "repo"
    run([*JX, "-q", "init", "--no-ci"], repo, env)
    good, worse = shas["good"], shas["worse"]
    times = side_by_side(
        [[*JX, "report", "--base", good, "--head", worse, "--format", "md"]],
        [[*DVC, "metrics", "diff", "--md", good, worse],
         [*DVC, "params", "diff", "--md", good, worse],
         [*DVC, "plots", "diff", good, worse, "-o", str(base / "plots")]],
        repo, env)
    text = "\n".join([
        "## Adopted DVC project (issue 9)", "",
        f"Measured by `python benchmarks/bench_adopt.py --write` on {platform.machine()}, "
        f"Python {platform.python_version()}, as the report benchmark above (fresh "
        "processes, 7 alternating pairs). The project is DVC's get-started layout built "
        "by tests/kit/getstarted.py: metrics and plots inside a cached `eval/` directory "
        "(read through its `.dir` manifest in the cache), a dvclive plot directory, a "
        "confusion matrix and an image. Load average when measured: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (both sides meet it).", "",
        "| What | jx-mlops | DVC | Ratio | Target |", "|:--|--:|--:|--:|:--|",
        f"| `report --format md` after a bare `init` vs `dvc metrics diff --md` + "
        f"`dvc params diff --md` + `dvc plots diff` | {times['ours']:.2f} s | "
        f"{times['dvc']:.2f} s | {times['ratio']:.2f}x | <= 0.15x |",
    ])
    print(text)
    if "--write" in sys.argv:
        record("adopt", text)


if __name__ == "__main__":
    main()
