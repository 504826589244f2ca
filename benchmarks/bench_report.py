"""Issue 3's speed and memory targets, measured side by side with DVC in one run.

1. The full report (metrics + params + data + plots + gates + significance + markdown) on
   the quickstart project vs what a CML user runs for less: `dvc metrics diff --md` +
   `dvc params diff --md` + `dvc plots diff`. Target: at most 0.25x.
2. 10,000 metric keys between two commits vs `dvc metrics diff` alone. Target: at most
   0.3x the time, peak memory no higher than DVC's.
3. `jx-mlops --help`: under 0.15 s.

Usage: python benchmarks/bench_report.py [--write]   (--write updates docs/benchmarks.md)
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from _common import hermetic_env, peak_rss_mb, record, run, side_by_side, timed, workdir

JX = [sys.executable, "-m", "jx_mlops"]
DVC = [sys.executable, "-m", "dvc"]


def quickstart_project(base: Path, env: dict[str, str]) -> Path:
    """A quickstart project with one trained retrain PR: base and head differ everywhere."""
    run([*JX, "-q", "create", "bench", "--quickstart", "sklearn-classifier"], base, env)
    project = base / "bench"
    run([*JX, "-q", "retrain", "--set", "train.n_estimators=120"], project, env)
    run([*JX, "-q", "ci", "pr"], project, env)
    return project


def bench_full_report(env: dict[str, str]) -> dict[str, float]:
    base = workdir("report")
    env = {**env, **hermetic_env(base)}
    project = quickstart_project(base, env)
    return side_by_side(
        [[*JX, "report", "--base", "origin/main", "--head", "HEAD", "--format", "md"]],
        [[*DVC, "metrics", "diff", "--md", "origin/main", "HEAD"],
         [*DVC, "params", "diff", "--md", "origin/main", "HEAD"],
         [*DVC, "plots", "diff", "origin/main", "HEAD", "-o", str(base / "plots")]],
        project, env)


def many_metrics_repo(base: Path, env: dict[str, str], keys: int) -> Path:
    repo = base / "many"
    repo.mkdir()
    run(["git", "init", "-q"], repo, env)
    run([*DVC, "init", "-q"], repo, env)
    (repo / "mlops.yaml").write_text("forge: {repo: bench/many}\nmodels:\n  many:\n"
                                     "    artifact: model.bin\n    metrics: [metrics.json]\n")
    (repo / "dvc.yaml").write_text("metrics:\n  - metrics.json\n")
    for revision in range(2):
        metrics = {f"group_{g // 100:03d}": {f"metric_{i:05d}": i * 0.001 + revision * (i % 7)
                                             for i in range(g, g + 100)}
                   for g in range(0, keys, 100)}
        (repo / "metrics.json").write_text(json.dumps(metrics))
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-qm", f"rev {revision}"], repo, env)
    return repo


def bench_many_metrics(env: dict[str, str], keys: int = 10_000) -> dict[str, float]:
    base = workdir("many")
    env = {**env, **hermetic_env(base)}
    repo = many_metrics_repo(base, env, keys)
    ours_cmd = [*JX, "report", "--base", "HEAD~1", "--head", "HEAD", "--format", "md"]
    dvc_cmd = [*DVC, "metrics", "diff", "HEAD~1", "HEAD"]
    times = side_by_side([ours_cmd], [dvc_cmd], repo, env)
    return {**times, "ours_mb": peak_rss_mb(ours_cmd, repo, env),
            "dvc_mb": peak_rss_mb(dvc_cmd, repo, env)}


def bench_help(env: dict[str, str]) -> float:
    base = workdir("help")
    return timed([[*JX, "--help"]], base, {**env, **hermetic_env(base)}, repeat=10)


def main() -> None:
    env: dict[str, str] = {}
    full = bench_full_report(env)
    many = bench_many_metrics(env)
    help_s = bench_help(env)
    lines = [
        "## Report (issue 3)", "",
        f"Measured by `python benchmarks/bench_report.py --write` on {platform.machine()}, "
        f"Python {platform.python_version()}. Each command runs as a fresh process, as CI "
        "runs it; the two sides alternate run by run (7 pairs after a warm-up) so both meet "
        "the same load, and the ratio is the median of the per-pair ratios.", "",
        "| What | jx-mlops | DVC | Ratio | Target |", "|:--|--:|--:|--:|:--|",
        f"| Full report on the quickstart (metrics, params, data, plots, trend, significance, "
        f"gates, markdown) vs `dvc metrics diff --md` + `dvc params diff --md` + "
        f"`dvc plots diff` | {full['ours']:.2f} s | {full['dvc']:.2f} s | "
        f"{full['ratio']:.2f}x | <= 0.25x |",
        f"| 10,000 metric keys between two commits (`report --format md` vs "
        f"`dvc metrics diff`) | {many['ours']:.2f} s | {many['dvc']:.2f} s | "
        f"{many['ratio']:.2f}x | <= 0.3x |",
        f"| Peak memory, 10,000 metric keys | {many['ours_mb']:.0f} MB | "
        f"{many['dvc_mb']:.0f} MB | {many['ours_mb'] / many['dvc_mb']:.2f}x | <= 1x |",
        f"| `jx-mlops --help` | {help_s:.3f} s | | | < 0.15 s |",
    ]
    text = "\n".join(lines)
    print(text)
    if "--write" in sys.argv:
        record("report", text)


if __name__ == "__main__":
    main()
