"""Issue 19's target: reading every DVC project as DVC reads it (its own resolver for
foreach, matrix, ``${}``, vars; every dvc.yaml; every point of every plot) still costs at
most 0.2x what DVC's three diffs cost on the same pair, in the same run.

Projects: the four of tests/kit/dvcprojects.py (templated foreach, matrix with vars, a
monorepo with a dvc.yaml in a subdirectory, plots of every template) and DVC's
get-started layout (tests/kit/getstarted.py), each after a bare `jx-mlops init`.
`jx-mlops report --format md` (trend, data, plots, costs: the defaults) against
`dvc metrics diff --md` + `dvc params diff --md` + `dvc plots diff`, as fresh processes,
alternating (7 pairs after a warm-up). Warm: the resolution cache (in .git/jx-mlops) holds
the pair's dvc.yaml files, as on a re-run or a CI step after `ci pr`; cold: it is removed
before every run, so templated dvc.yaml files go through DVC's resolver each time.

Usage: python benchmarks/bench_dvc_projects.py [--write]   (--write updates docs/benchmarks.md)
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from _common import ROOT, hermetic_env, record, run, side_by_side, workdir

sys.path.insert(0, str(ROOT / "tests"))
from kit import dvcprojects
from kit.getstarted import build_get_started
from kit.git import git

JX = [sys.executable, "-m", "jx_mlops"]
DVC = [sys.executable, "-m", "dvc"]


def projects(base: Path, env: dict[str, str]) -> list[tuple[str, Path, str, str]]:
    """(what, DVC root, base rev, head rev) of each project, built and adopted."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        built = [("foreach over a list and a dict, ${} paths (templated)", "templated",
                  dvcprojects.build_templated),
                 ("matrix, vars, key-filtered params", "matrix", dvcprojects.build_matrix),
                 ("a dvc.yaml in a subdirectory, a sub-repository", "monorepo",
                  dvcprojects.build_monorepo),
                 ("no stages: every plot template, 300-row TSV", "plain",
                  dvcprojects.build_plain)]
        found = []
        for what, name, build in built:
            build(base / name)
            found.append((what, base / name, "r1", "r2"))
        git(base / "plain", "checkout", "-q", "r2")  # r3's dvc.yaml is invalid on purpose
        shas = build_get_started(base / "get-started")
        found.append(("DVC's get-started layout (no templating: the fast path)",
                      base / "get-started", shas["good"], shas["worse"]))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    for _what, root, _a, _b in found:
        run([*JX, "-q", "init", "--no-ci"], root, env)
    return found


def measure(root: Path, a: str, b: str, env: dict[str, str], out: Path) -> dict[str, float]:
    report = [*JX, "report", "--base", a, "--head", b, "--format", "md"]
    dvc = [[*DVC, "metrics", "diff", "--md", a, b], [*DVC, "params", "diff", "--md", a, b],
           [*DVC, "plots", "diff", a, b, "-o", str(out)]]
    warm = side_by_side([report], dvc, root, env)
    cold_report = ["sh", "-c", 'rm -rf "$(git rev-parse --git-dir)/jx-mlops" && exec "$@"',
                   "sh", *report]
    cold = side_by_side([cold_report], dvc, root, env)
    return {"warm": warm["ours"], "cold": cold["ours"], "dvc": warm["dvc"],
            "warm_ratio": warm["ratio"], "cold_ratio": cold["ratio"]}


def main() -> None:
    base = workdir("dvc-projects")
    env = hermetic_env(base)
    env.update(GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    rows = []
    load = os.getloadavg()[0]
    for what, root, a, b in projects(base, env):
        times = measure(root, a, b, env, base / "plots")
        rows.append(f"| {what} | {times['warm']:.2f} s | {times['cold']:.2f} s | "
                    f"{times['dvc']:.2f} s | {times['warm_ratio']:.2f}x | "
                    f"{times['cold_ratio']:.2f}x |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "## Every DVC project read as DVC reads it (issue 19)", "",
        f"Measured by `python benchmarks/bench_dvc_projects.py --write` on "
        f"{platform.machine()}, Python {platform.python_version()}: fresh processes, the two "
        "sides alternating (7 pairs after a warm-up), ratios the median of the per-pair "
        "ratios. `jx-mlops report --format md` with its defaults (metrics, params, data, "
        "every plot with every point, trend) against `dvc metrics diff --md` + "
        "`dvc params diff --md` + `dvc plots diff` on the same pair. Warm: the resolution "
        "cache holds the pair's dvc.yaml files (a re-run, a CI step after `ci pr`); cold: it "
        "is removed before every run (DVC's resolver is imported and runs for every "
        f"templated dvc.yaml). Load average when measured: {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores (both sides meet "
        "it). Target: at most 0.2x.", "",
        "| Project | jx-mlops warm | jx-mlops cold | DVC's three diffs | Warm ratio | "
        "Cold ratio |", "|:--|--:|--:|--:|--:|--:|", *rows])
    print(text)
    if "--write" in sys.argv:
        record("dvc-projects", text)


if __name__ == "__main__":
    main()
