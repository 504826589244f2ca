"""Shared helpers for the benchmarks: hermetic environment, timing, peak memory."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
# Runs COMMAND and prints the peak RSS (KiB) of the largest process it started.
_PEAK = ("import resource, subprocess, sys; "
         "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def hermetic_env(base: Path) -> dict[str, str]:
    """Keep the benchmark's git, DVC and jx-mlops state inside ``base``."""
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n")
    # PYTHONDONTWRITEBYTECODE would make every run recompile jx-mlops from source while
    # DVC's modules have the .pyc files pip wrote at install: both sides run as installed.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "DVC_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(HOME=str(home), JX_MLOPS_HOME=str(base / "jx-home"), DVC_NO_ANALYTICS="1",
               DVC_SITE_CACHE_DIR=str(base / "dvc-site"), JX_MLOPS_USER="bench",
               GIT_CONFIG_NOSYSTEM="1",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    return env


def workdir(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"jx-bench-{name}-"))


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    return subprocess.run(list(cmd), cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


def timed(cmds: Sequence[Sequence[str]], cwd: Path, env: dict[str, str],
          repeat: int = 5) -> float:
    """Median wall time (s) of running ``cmds`` one after the other, after one warm-up."""
    samples = []
    for attempt in range(repeat + 1):
        start = time.perf_counter()
        for cmd in cmds:
            subprocess.run(list(cmd), cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if attempt:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _once(cmds: Sequence[Sequence[str]], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    for cmd in cmds:
        subprocess.run(list(cmd), cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def side_by_side(ours: Sequence[Sequence[str]], theirs: Sequence[Sequence[str]], cwd: Path,
                 env: dict[str, str], repeat: int = 7) -> dict[str, float]:
    """Alternate the two sides run by run, so both meet the same machine load; report the
    median time of each and the median of the per-pair ratios."""
    _once(ours, cwd, env)
    _once(theirs, cwd, env)
    pairs = [(_once(ours, cwd, env), _once(theirs, cwd, env)) for _ in range(repeat)]
    return {"ours": statistics.median(p[0] for p in pairs),
            "dvc": statistics.median(p[1] for p in pairs),
            "ratio": statistics.median(p[0] / p[1] for p in pairs)}


def peak_rss_mb(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    out = run([sys.executable, "-c", _PEAK, *cmd], cwd, env)
    return int(out.strip().splitlines()[-1]) / 1024


def record(section: str, text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (between its markers)."""
    start, end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if start in current:
        current = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, current,
                         flags=re.S)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(current)
