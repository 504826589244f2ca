"""Shared pieces of the registry/promotion benchmarks: a throwaway jx-mlops home, git
history built with ``git fast-import``, and timing of real processes with their peak RSS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def setup_home() -> Path:
    """A temporary $JX_MLOPS_HOME/$HOME for the whole benchmark process and its children."""
    base = Path(tempfile.mkdtemp(prefix="jx-bench-"))
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n"
                                     "[protocol \"file\"]\n\tallow = always\n")
    os.environ.update({"HOME": str(home), "JX_MLOPS_HOME": str(base / "jx-home"),
                       "JX_MLOPS_USER": "bench", "GIT_CONFIG_NOSYSTEM": "1",
                       "DVC_NO_ANALYTICS": "1", "COLUMNS": "120", **IDENTITY})
    # Run as installed: with PYTHONDONTWRITEBYTECODE every process would recompile
    # jx-mlops from source, while the peers' modules have pip's .pyc files.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return base


def git(path: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True, input=input).stdout.strip()


class FastImport:
    """Write a ``git fast-import`` stream into a repository (commits, merges, tags)."""

    def __init__(self, repo: Path) -> None:
        self.proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet",
                                      "--done"], stdin=subprocess.PIPE)
        assert self.proc.stdin is not None
        self.out = self.proc.stdin
        self.mark = 0
        self.clock = 1_700_000_000

    def _data(self, text: str | bytes) -> None:
        raw = text.encode("utf-8") if isinstance(text, str) else text
        self.out.write(f"data {len(raw)}\n".encode() + raw + b"\n")

    def commit(self, ref: str, message: str, files: dict[str, str | bytes | None],
               parents: Sequence[str] = (), step: int = 60) -> str:
        """A commit on ``ref``; ``parents`` are marks/shas (``from`` then ``merge``)."""
        self.mark += 1
        self.clock += step
        self.out.write(f"commit {ref}\nmark :{self.mark}\n"
                       f"committer bench <bench@example.invalid> {self.clock} +0000\n".encode())
        self._data(message)
        for index, parent in enumerate(parents):
            self.out.write(f"{'from' if index == 0 else 'merge'} {parent}\n".encode())
        for path, content in files.items():
            if content is None:
                self.out.write(f"D {path}\n".encode())
            else:
                self.out.write(f"M 100644 inline {path}\n".encode())
                self._data(content)
        self.out.write(b"\n")
        return f":{self.mark}"

    def tag(self, name: str, target: str, message: str) -> None:
        self.clock += 1
        self.out.write(f"tag {name}\nfrom {target}\n"
                       f"tagger bench <bench@example.invalid> {self.clock} +0000\n".encode())
        self._data(message)

    def reset(self, ref: str, target: str) -> None:
        self.out.write(f"reset {ref}\nfrom {target}\n\n".encode())

    def close(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            raise RuntimeError("git fast-import failed")


@dataclass(frozen=True)
class Run:
    """One process: wall seconds and peak resident memory (MB)."""

    seconds: float
    peak_mb: float
    code: int
    out: str


# Runs the command and reports its wall time and the peak RSS of the largest process of
# its tree (the command and every git process it waited for), on stderr's last line.
_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[1:])
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"\\n@@bench {seconds} {peak} {code}\\n")
"""


def run(args: Sequence[str], cwd: Path, *, check: bool = True) -> Run:
    """Run a process; its wall time and the peak RSS of its process tree."""
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    stats = proc.stderr.rstrip().rsplit("\n", 1)[-1].split()
    seconds, peak_kb, code = float(stats[1]), int(stats[2]), int(stats[3])
    if check and code != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({code}): {proc.stderr[-2000:]}")
    return Run(seconds, peak_kb / 1024, code, proc.stdout)  # ru_maxrss: KB on Linux


def jx(*args: str) -> list[str]:
    return [sys.executable, "-m", "jx_mlops", "-q", *args]


def gto(*args: str) -> list[str]:
    return [str(BIN / "gto"), *args]


@dataclass(frozen=True)
class Timing:
    """Several runs of one command: the best and the median time, the highest peak RSS.

    The machine is shared, so the best run is the figure least disturbed by others; the
    median shows how noisy it was.
    """

    best: float
    median: float
    peak_mb: float
    out: str

    @property
    def seconds(self) -> float:
        return self.best

    def cell(self) -> str:
        return f"{fmt(self.best)} ({fmt(self.median)})"


def timed(args: Sequence[str], cwd: Path, repeat: int) -> Timing:
    """Run ``args`` ``repeat`` times."""
    runs = [run(args, cwd) for _ in range(repeat)]
    times = sorted(r.seconds for r in runs)
    return Timing(times[0], times[len(times) // 2], max(r.peak_mb for r in runs), runs[-1].out)


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def machine() -> str:
    """One line about where the figures come from."""
    cpu = os.cpu_count()
    load = os.getloadavg()[0]
    git_version = subprocess.run(["git", "--version"], capture_output=True,
                                 text=True).stdout.strip()
    return f"{cpu} CPUs, load {load:.1f} at start, Python {sys.version.split()[0]}, " \
           f"{git_version}"
