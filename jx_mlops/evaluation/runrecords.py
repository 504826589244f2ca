"""Run records: measure `dvc repro` per stage, keep the result as a git note on the commit.

A sampling thread polls the memory of every process under `dvc repro` (the stage
commands run as its descendants) and attributes it to the stage DVC says is running, from
its "Running stage 'NAME':" lines. Peak memory is therefore the largest sampled resident
set of the stage's processes (every 50 ms), not an exact high-water mark.

Records live under ``refs/notes/jx-mlops`` so they attach to a commit without a new
commit; the notes ref is pushed next to the branch and merged when two runs race.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from jx_mlops.compare.cost import CostComparison, RunRecord, StageCost
from jx_mlops.dvc.commands import repro as dvc_repro
from jx_mlops.errors import ConflictError, GitError
from jx_mlops.git.repo import GitRepo

NOTES_REF = "jx-mlops"
REMOTE_NOTES = f"refs/notes/{NOTES_REF}"
_RUNNING = re.compile(r"^Running stage '(?P<stage>[^']+)'")
_SKIPPED = re.compile(r"^Stage '(?P<stage>[^']+)' (didn't change|is cached)")
_SAMPLE_EVERY = 0.05
_PUSH_ATTEMPTS = 30


@dataclass
class _Stage:
    name: str
    started: float
    ended: float | None = None
    peak_rss: int = 0


@dataclass
class StageMonitor:
    """Follows DVC's output and samples the process tree under it."""

    stages: list[_Stage] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pid: int | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def on_line(self, line: str) -> None:
        running = _RUNNING.match(line)
        if running:
            self._close(time.monotonic())
            self.stages.append(_Stage(running["stage"], time.monotonic()))
            return
        skipped = _SKIPPED.match(line)
        if skipped and skipped["stage"] not in self.skipped:
            self.skipped.append(skipped["stage"])

    def start(self, pid: int) -> None:
        self.pid = pid
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._close(time.monotonic())
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _close(self, now: float) -> None:
        if self.stages and self.stages[-1].ended is None:
            self.stages[-1].ended = now

    def _sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.wait(_SAMPLE_EVERY):
            total = 0
            try:
                children = root.children(recursive=True)
            except psutil.Error:
                return
            for child in children:
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    continue
            current = self.stages[-1] if self.stages else None
            if current is not None and current.ended is None:
                current.peak_rss = max(current.peak_rss, total)

    def costs(self) -> tuple[StageCost, ...]:
        ran = [StageCost(s.name, True, round((s.ended or s.started) - s.started, 2),
                         round(s.peak_rss / 2**20, 1) if s.peak_rss else None)
               for s in self.stages]
        return tuple(ran + [StageCost(name, False) for name in self.skipped
                            if all(s.name != name for s in self.stages)])


def ci_run_url() -> str | None:
    """A link to the CI run that is executing, when the CI system says where it is."""
    explicit = os.environ.get("JX_MLOPS_RUN_URL")
    if explicit:
        return explicit
    server, repo, run = (os.environ.get(k) for k in
                         ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run:
        return f"{server}/{repo}/actions/runs/{run}"
    return None


def measured_repro(root: Path, *, pull: bool, run_cache: bool = True,
                   on_line: Callable[[str], None] | None = None,
                   targets: Sequence[str] = ()) -> tuple[StageCost, ...]:
    """Run `dvc repro` (of ``targets`` and what they depend on; default: everything) and
    return what each stage cost (``run_cache``: may stages be restored from DVC's run
    cache)."""
    monitor = StageMonitor()

    def line(text: str) -> None:
        monitor.on_line(text.strip())
        if on_line is not None:
            on_line(text)

    try:
        dvc_repro(root, pull=pull, run_cache=run_cache, on_line=line,
                  on_start=monitor.start, targets=targets)
    finally:
        monitor.stop()
    return monitor.costs()


def make_record(commit: str, stages: tuple[StageCost, ...]) -> RunRecord:
    total = sum(s.wall_s or 0.0 for s in stages if s.ran)
    return RunRecord(commit=commit, stages=stages, run_url=ci_run_url(),
                     recorded_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     total_wall_s=round(total, 2))


def fetch_records(repo: GitRepo, env: dict[str, str] | None = None) -> None:
    """Bring the remote's run records into the local notes ref (merging, never losing)."""
    tracking = f"refs/notes/{NOTES_REF}-origin"
    try:
        repo.fetch("origin", [f"+{REMOTE_NOTES}:{tracking}"], env=env)
    except GitError:
        return  # the remote has no records yet
    if repo.ref_sha(REMOTE_NOTES) is None:
        repo.run("update-ref", REMOTE_NOTES, tracking)
    else:
        repo.notes_merge(NOTES_REF, tracking)


def save_record(repo: GitRepo, record: RunRecord, *, push: bool,
                env: dict[str, str] | None = None) -> None:
    """Attach ``record`` to its commit and push the notes ref (retrying after a merge)."""
    repo.notes_add(NOTES_REF, record.commit, record.to_json())
    if not push:
        return
    for attempt in range(_PUSH_ATTEMPTS):
        try:
            repo.push("origin", [f"{REMOTE_NOTES}:{REMOTE_NOTES}"], env=env)
            return
        except (ConflictError, GitError):
            # A concurrent run's push of the same ref fails ours with "cannot lock ref"
            # (a GitError, not a rejection): merge theirs and go again, a little later.
            if attempt == _PUSH_ATTEMPTS - 1:
                raise
            fetch_records(repo, env)
            time.sleep(random.uniform(0.02, 0.2) * min(attempt + 1, 10))
    raise ConflictError("could not push run records: the notes ref kept moving")


def load_record(repo: GitRepo, commit: str) -> RunRecord | None:
    """The run record of ``commit``; for a merge commit, the one of the merged PR head."""
    sha = repo.try_rev_parse(commit)
    if sha is None:
        return None
    parents = repo.parents(sha)
    for candidate in (sha, *parents[1:2]):
        text = repo.notes_show(NOTES_REF, candidate)
        record = RunRecord.from_json(text) if text else None
        if record is not None:
            return record
    return None


def compare_costs(repo: GitRepo, base: str | None, base_label: str, head: str | None,
                  head_record: RunRecord | None = None) -> CostComparison:
    """Run records of base and head (``head_record`` when it was just measured)."""
    base_record = load_record(repo, base) if base else None
    head_record = head_record or (load_record(repo, head) if head else None)
    return CostComparison(
        base=base_record, head=head_record,
        base_missing=None if base_record else
        f"no run record for the base ({base_label} @ {base[:7] if base else 'workspace'})",
        head_missing=None if head_record else "no run record for the head")
