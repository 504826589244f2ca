"""What trusted evaluation adds to `ci pr`: one run of the evaluate stage, at most.

    python benchmarks/bench_trusted.py

The sklearn-classifier quickstart on the local forge (its mlops.yaml names `evaluate` as
the trusted stage). main's `src/evaluate.py` first learns to append a line to
$JX_BENCH_EVALUATIONS each time it runs, so every execution of the stage is counted,
whoever runs it: the PR's own `dvc repro` or main's copy in the trusted work tree. Two
pull requests are checked, each in a fresh clone (an empty DVC cache, as on a CI runner):
a params-only PR (train, evaluate and export re-run) and a PR that only edits
`src/evaluate.py` to forge its accuracy. Prints a markdown table: wall time of `ci pr`,
how often the evaluate stage ran, and the time of the trusted scoring step beside the
PR's own evaluate stage (from its run record).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _envbench import git, jx, run, setup_home

COUNT = '''
import os as _os
if _os.environ.get("JX_BENCH_EVALUATIONS"):
    with open(_os.environ["JX_BENCH_EVALUATIONS"], "a") as _log:
        _log.write("evaluate\\n")
'''
FORGERY = '''    import json
    forged = json.loads(Path("metrics.json").read_text())
    forged["accuracy"] = 1.0
    Path("metrics.json").write_text(json.dumps(forged, indent=2))
'''
PRINT = '    print(Path("metrics.json").read_text().strip())'


def _check(base: Path, forge_url: str, number: int) -> tuple[float, int, str, float, float]:
    clone = base / f"ci-{number}"
    git(base, "clone", "-q", forge_url, str(clone))
    counter = base / f"evaluations-{number}.log"
    env = {**os.environ, "JX_BENCH_EVALUATIONS": str(counter)}
    started = time.perf_counter()
    # Not -q: the step lines carry the trusted scoring's duration.
    proc = subprocess.run([sys.executable, "-m", "jx_mlops", "ci", "pr", "--pr", str(number)],
                          cwd=clone, env=env,
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    scoring = re.search(r"Scoring with main's `evaluate` \(trusted evaluation\) \(([\d.]+)s\)",
                        proc.stderr)
    note = json.loads(git(clone, "notes", "--ref=jx-mlops", "show", "HEAD"))
    own = next(s for s in note["stages"] if s["name"] == "evaluate")
    ran = ", ".join(s["name"] for s in note["stages"] if s["ran"])
    runs = len(counter.read_text().splitlines()) if counter.exists() else 0
    return seconds, runs, ran, float(scoring.group(1)) if scoring else float("nan"), \
        float(own["wall_s"])


def _prepare(base: Path) -> str:
    """The project, main counting its evaluations, and the two pull requests."""
    run(jx("create", "churn", "--quickstart", "sklearn-classifier", "--dir",
           str(base / "churn")), base)
    project = base / "churn"
    evaluate = project / "src" / "evaluate.py"
    evaluate.write_text(evaluate.read_text().replace("\n\ndef main()", COUNT + "\n\ndef main()"))
    run([sys.executable, "-m", "dvc", "repro"], project)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "evaluate: count runs (benchmark)")
    git(project, "push", "-q", "origin", "main")
    run([sys.executable, "-m", "dvc", "push", "--run-cache"], project)
    run(jx("retrain", "--set", "train.n_estimators=60"), project)
    git(project, "switch", "-q", "-c", "forged", "origin/main")
    evaluate.write_text(evaluate.read_text().replace(PRINT, FORGERY + PRINT))
    git(project, "commit", "-qam", "evaluate: report a perfect accuracy")
    run(jx("forge", "pr", "create"), project)
    return git(project, "remote", "get-url", "origin")


def main() -> None:
    base = setup_home()
    # Stage commands' `python` is this interpreter, as under jx-mlops (dvc.dvc_env).
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                          os.environ.get("PATH", "")])
    try:
        forge_url = _prepare(base)
        rows = [("params-only (`train.n_estimators=60`)", _check(base, forge_url, 1)),
                ("forged accuracy (`src/evaluate.py` only)", _check(base, forge_url, 2))]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("| PR (fresh clone) | `ci pr` wall time | PR's stages run | evaluate runs | "
          "trusted scoring | PR's own evaluate |")
    print("|:--|--:|:--|--:|--:|--:|")
    for label, (seconds, runs, ran, scoring, own) in rows:
        print(f"| {label} | {seconds:.1f} s | {ran} | {runs} | {scoring:.1f} s | {own:.1f} s |")


if __name__ == "__main__":
    main()
