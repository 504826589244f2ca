"""What ran where, and when: promotion events read back from environment repositories.

Every promotion commit (promote, rollback, disable, forced or not) ends with structured
trailers, e.g.::

    Jx-Mlops-Action: promote
    Jx-Mlops-Model: churn
    Jx-Mlops-Environment: staging
    Jx-Mlops-Version: v0.0.2

so the history of a model is a ``git log --grep`` pass over the environment's default
branch (no diffs, no checkout), kept incrementally in an index, and only commits that were
merged are in it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jx_mlops.fsutil import file_lock, write_atomic
from jx_mlops.git.repo import GitRepo
from jx_mlops.git.values import CommitMessage
from jx_mlops.yamlio import json_loads

TRAILER_PREFIX = "Jx-Mlops-"
# Actions that put a version in service; holds ("hold", "hold-clear") change no version.
LANDING_ACTIONS = ("promote", "rollback")
_TRAILER = re.compile(r"^Jx-Mlops-([A-Za-z-]+): ?(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class HistoryEvent:
    """One landed change of one model in one environment."""

    environment: str
    model: str
    action: str
    version: str
    at: str
    by: str
    timestamp: int
    commit: str
    previous_version: str | None = None
    forced: bool = False
    forced_gates: tuple[str, ...] = ()
    approved_by: tuple[str, ...] = ()
    pull_request: int | None = None
    source: str | None = None
    tag: str | None = None
    reason: str | None = None
    canary_percent: int | None = None  # a canary step (not the whole traffic yet)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HistoryEvent:
        values = dict(data)
        values["forced_gates"] = tuple(values.get("forced_gates") or ())
        values["approved_by"] = tuple(values.get("approved_by") or ())
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["forced_gates"] = list(self.forced_gates)
        data["approved_by"] = list(self.approved_by)
        return data


def trailers(fields: Mapping[str, str | None]) -> str:
    """Trailer lines for a promotion commit (fields with no value are left out)."""
    lines = []
    for key, value in fields.items():
        if value is not None and value != "":
            clean = str(value).replace("\n", " ").strip()
            lines.append(f"{TRAILER_PREFIX}{key}: {clean}")
    return "\n".join(lines)


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def parse_event(commit: CommitMessage) -> HistoryEvent | None:
    """The event a promotion commit records, or None for any other commit."""
    fields = {key: value.strip() for key, value in _TRAILER.findall(commit.message)}
    try:
        model, env, action = fields["Model"], fields["Environment"], fields["Action"]
    except KeyError:
        return None
    pull = fields.get("Pull-Request", "")
    return HistoryEvent(
        environment=env, model=model, action=action, version=fields.get("Version", ""),
        at=iso(commit.committed_at), by=fields.get("By", ""), timestamp=commit.committed_at,
        commit=commit.sha, previous_version=fields.get("Previous-Version") or None,
        forced=fields.get("Forced", "false") == "true",
        forced_gates=_split(fields.get("Forced-Gates")),
        approved_by=_split(fields.get("Approved-By")),
        pull_request=int(pull) if pull.isdigit() else None,
        source=fields.get("Source"), tag=fields.get("Tag"), reason=fields.get("Reason"),
        canary_percent=int(canary) if (canary := fields.get("Canary-Percent", "")).isdigit()
        else None)


def scan_events(repo: GitRepo, rev: str, *, since: str | None = None) -> list[HistoryEvent]:
    """Events of the commits reachable from ``rev`` (not from ``since``), newest first:
    one ``git log --grep`` pass."""
    commits = repo.log_messages(rev, grep=[f"^{TRAILER_PREFIX}Action: "], since=since)
    return [e for e in map(parse_event, commits) if e is not None]


def latest_events(events: Sequence[HistoryEvent]) -> dict[str, HistoryEvent]:
    """The newest event of each model (``events`` newest first)."""
    latest: dict[str, HistoryEvent] = {}
    for event in events:
        latest.setdefault(event.model, event)
    return latest


def served_window(events: Sequence[HistoryEvent], version: str
                  ) -> tuple[float | None, float | None]:
    """When ``version`` last started serving, and when it stopped (None: still serving).

    ``events`` are one model's events in one environment, newest first.
    """
    landings = [e for e in events if e.action in LANDING_ACTIONS or e.action == "disable"]
    for index, event in enumerate(landings):
        if event.version == version and event.action in LANDING_ACTIONS:
            newer = landings[index - 1].timestamp if index > 0 else None
            return float(event.timestamp), float(newer) if newer is not None else None
    return None, None


INDEX_DIR = "jx-mlops-history"
INDEX_VERSION = "1"


def _file(root: Path, model: str) -> Path:
    return root / "models" / f"{quote(model, safe='')}.jsonl"


def _update(repo: GitRepo, root: Path, tip: str) -> None:
    state = root / "tip"
    indexed = state.read_text().split() if state.is_file() else []
    if indexed == [INDEX_VERSION, tip]:
        return
    if len(indexed) == 2 and indexed[0] == INDEX_VERSION and repo.is_ancestor(indexed[1], tip):
        events = scan_events(repo, tip, since=indexed[1])
    else:
        shutil.rmtree(root, ignore_errors=True)
        events = scan_events(repo, tip)
    (root / "models").mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = defaultdict(list)
    for event in reversed(events):  # oldest first
        lines[event.model].append(json.dumps(event.to_json(), sort_keys=True))
    for model, new in lines.items():
        with _file(root, model).open("a", encoding="utf-8") as handle:
            handle.write("\n".join(new) + "\n")
    write_atomic(state, f"{INDEX_VERSION} {tip}\n")


def _load(path: Path) -> list[HistoryEvent]:
    """One model's events, newest first, without duplicates."""
    seen: set[str] = set()
    events = []
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        event = HistoryEvent.from_json(json_loads(line))
        if event.commit not in seen:
            seen.add(event.commit)
            events.append(event)
    return events


def indexed_events(repo: GitRepo, rev: str, model: str | None = None) -> list[HistoryEvent]:
    """Events reachable from ``rev`` (of ``model``, or all), newest first per model."""
    tip = repo.rev_parse(rev)
    root = repo.git_dir / INDEX_DIR
    with file_lock(repo.git_dir / f"{INDEX_DIR}.lock"):
        _update(repo, root, tip)
        if model is not None:
            path = _file(root, model)
            return _load(path) if path.is_file() else []
        events = [e for path in sorted((root / "models").glob("*.jsonl")) for e in _load(path)]
    return sorted(events, key=lambda e: e.timestamp, reverse=True)


def read_events(repo: GitRepo, rev: str, *, model: str | None = None,
                environment: str | None = None) -> list[HistoryEvent]:
    """Events reachable from ``rev``, newest first (of ``model`` when given).

    Read through the mirror's event index, which only ever scans the commits that
    arrived since it was last brought up to date.
    """
    return [e for e in indexed_events(repo, rev, model)
            if environment is None or e.environment == environment]
