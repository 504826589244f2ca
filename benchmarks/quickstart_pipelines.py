"""How long each bundled quickstart takes: `jx-mlops create` and its pipeline alone.

    python benchmarks/quickstart_pipelines.py [--repeat N]

Creates every quickstart whose packages are installed in a throwaway JX_MLOPS_HOME, then
times `dvc repro --force` in the created project (the pipeline alone, every stage) N
times and prints a markdown table (median seconds). The issue's budget: seconds, not
minutes, per pipeline. No peer tool scaffolds these projects, so the figures are
absolute, measured on the machine that runs the script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jx_mlops.dvc.commands import dvc_env
from jx_mlops.project.quickstarts import list_quickstarts, missing_requirements


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {**os.environ, "HOME": str(base), "JX_MLOPS_HOME": str(base / "jx"),
               "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}
        for quickstart in list_quickstarts():
            if missing_requirements(quickstart):
                rows.append(f"| `{quickstart.name}` | skipped: missing packages | |")
                continue
            project = base / quickstart.name
            create = timed([sys.executable, "-m", "jx_mlops", "-q", "create", quickstart.name,
                            "--quickstart", quickstart.name, "--dir", str(project)], base, env)
            repro = [timed([sys.executable, "-m", "dvc", "repro", "--force"], project,
                           {**dvc_env(), **env, "PATH": dvc_env()["PATH"]})
                     for _ in range(repeat)]
            rows.append(f"| `{quickstart.name}` | {create:.1f} | "
                        f"{statistics.median(repro):.1f} |")
    print(f"| quickstart | `jx-mlops create` (s) | `dvc repro --force`, median of {repeat} (s) |")
    print("|---|--:|--:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
