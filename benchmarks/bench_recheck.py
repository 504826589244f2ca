"""Re-checking a PR after main moved, on a fresh CI machine: with and without the run cache.

    python benchmarks/bench_recheck.py

The sklearn-classifier quickstart on the local forge. PR #1 changes `train.max_depth` and
is checked (`ci pr` trains it). PR #2 changes only `src/evaluate.py`; it is checked and
merged, so main's dvc.lock moves and PR #1 is stale. PR #1 is then re-checked in a fresh
clone (an empty DVC cache, as a CI runner has): `ci pr` merges main, taking main's
dvc.lock, so the train stage is out of date by the lock although its inputs (PR #1's
params, main's unchanged training code and data) were trained before, by PR #1's first
check. With DVC's run cache (pushed by every `ci pr`, pulled before `dvc repro` because
main's mlops.yaml opts in with `ci.run_cache: pull`, see docs/security.md) the stage is
restored; without it (the remote's run history deleted first) it trains again.
Prints a markdown table: wall time of the re-check and which stages ran.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _envbench import git, jx, run, setup_home


def _ran(clone: Path) -> list[str]:
    note = git(clone, "notes", "--ref=jx-mlops", "show", "HEAD")
    return [s["name"] for s in json.loads(note)["stages"] if s["ran"]]


def _recheck(base: Path, forge_url: str, head_before: str, name: str) -> tuple[float, list[str]]:
    clone = base / name
    git(base, "clone", "-q", forge_url, str(clone))
    git(clone, "push", "-q", "--force", "origin", f"{head_before}:refs/heads/retrain/max_depth-6")
    timing = run(jx("ci", "pr", "--pr", "1"), clone)
    return timing.seconds, _ran(clone)


def main() -> None:
    base = setup_home()
    run(jx("create", "churn", "--quickstart", "sklearn-classifier", "--dir",
           str(base / "churn")), base)
    project = base / "churn"
    # CI restores stages from the run cache only when the base's mlops.yaml opts in.
    with (project / "mlops.yaml").open("a", encoding="utf-8") as config:
        config.write("\nci:\n  run_cache: pull\n")
    git(project, "commit", "-qam", "ci: restore stages from DVC's run cache")
    git(project, "push", "-q", "origin", "HEAD:main")
    run(jx("retrain", "--set", "train.max_depth=6"), project)
    run(jx("ci", "pr", "--pr", "1"), project)
    head_before = git(project, "rev-parse", "retrain/max_depth-6")
    git(project, "switch", "-q", "-c", "evaluate-note", "origin/main")
    evaluate = project / "src" / "evaluate.py"
    evaluate.write_text(evaluate.read_text() + "\n# reviewed\n")
    git(project, "commit", "-qam", "evaluate: a note")
    run(jx("forge", "pr", "create"), project)
    run(jx("ci", "pr", "--pr", "2"), project)
    run(jx("forge", "pr", "merge", "2"), project)
    forge_url = git(project, "remote", "get-url", "origin")
    storage = base / "jx-home" / "storage" / "local" / "churn"

    with_cache = _recheck(base, forge_url, head_before, "ci-with-run-cache")
    shutil.rmtree(storage / "runs", ignore_errors=True)
    without = _recheck(base, forge_url, head_before, "ci-without-run-cache")
    print("| Re-check of PR #1 after main moved (fresh clone) | Wall time | Stages run |")
    print("|:--|--:|:--|")
    for label, (seconds, ran) in (("with the run cache", with_cache),
                                  ("without (remote run history deleted)", without)):
        print(f"| {label} | {seconds:.1f} s | {', '.join(ran) or 'none'} |")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
