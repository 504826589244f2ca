"""Verification records: how each deployment fared in production, kept as git notes.

A scheduled job verifies every few minutes; a commit per run would bury the environment's
history. The record of one deployment is a note on its promotion commit (the commit with
the ``Jx-Mlops-*`` trailers) under ``refs/notes/jx-mlops-verify`` of the environment
repository: when verification first and last passed, when it failed, and the last run's
checks. The soak gate reads it ("verified for 2h in staging"), a rollback after a failure
goes back to the last version that passed, and `insights` can tell verified deployments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jx_mlops.environments.history import LANDING_ACTIONS, HistoryEvent
from jx_mlops.errors import ConflictError
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import json_loads

NOTES_REF = "jx-mlops-verify"
REMOTE_NOTES = f"refs/notes/{NOTES_REF}"
TRACKING_NOTES = f"{REMOTE_NOTES}-origin"
# A pattern, not the ref itself: a repository with no record yet has no notes ref, and a
# pattern that matches nothing does not fail the fetch it rides along with (the default
# branch's, see ``environments.repo``).
FETCH_REFSPEC = f"+{REMOTE_NOTES}*:{TRACKING_NOTES}*"
_PUSH_ATTEMPTS = 8


@dataclass(frozen=True)
class VerificationRecord:
    """What verification says of one deployment (epoch seconds)."""

    version: str
    runs: int = 0
    first_passed_at: int | None = None
    last_passed_at: int | None = None
    failed_at: int | None = None
    last: dict[str, Any] = field(default_factory=dict)
    inconclusive_streak: int = 0  # inconclusive runs since the last pass or failure

    @property
    def verified(self) -> bool:
        """Passed at least once and never failed."""
        return self.first_passed_at is not None and self.failed_at is None

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "runs": self.runs,
                           "first_passed_at": self.first_passed_at,
                           "last_passed_at": self.last_passed_at, "failed_at": self.failed_at,
                           "last": self.last,
                           "inconclusive_streak": self.inconclusive_streak}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VerificationRecord | None:
        try:
            data = json_loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("version"), str):
            return None

        def stamp(key: str) -> int | None:
            value = data.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        last = data.get("last")
        return cls(data["version"], stamp("runs") or 0, stamp("first_passed_at"),
                   stamp("last_passed_at"), stamp("failed_at"),
                   last if isinstance(last, dict) else {},
                   stamp("inconclusive_streak") or 0)

    def after(self, *, outcome: str, at: int, last: dict[str, Any]) -> VerificationRecord:
        """This record with one more run (``outcome``: pass, fail or inconclusive; an
        inconclusive run neither verifies nor fails the deployment)."""
        if outcome == "pass":
            return replace(self, runs=self.runs + 1, last=last, inconclusive_streak=0,
                           first_passed_at=self.first_passed_at or at, last_passed_at=at)
        if outcome == "inconclusive":
            return replace(self, runs=self.runs + 1, last=last,
                           inconclusive_streak=self.inconclusive_streak + 1)
        return replace(self, runs=self.runs + 1, last=last, inconclusive_streak=0,
                       failed_at=self.failed_at or at)


def deployment_event(events: list[HistoryEvent], version: str | None = None
                     ) -> HistoryEvent | None:
    """The event that put the running (or ``version``'s latest) deployment in place
    (``events`` of one model in one environment, newest first)."""
    for event in events:
        if event.action in LANDING_ACTIONS and (version is None or event.version == version):
            return event
        if version is None and event.action == "disable":
            return None
    return None


def read_verification(repo: GitRepo, event: HistoryEvent) -> VerificationRecord | None:
    text = repo.notes_show(NOTES_REF, event.commit)
    return VerificationRecord.from_json(text) if text else None


def merge_fetched(repo: GitRepo) -> None:
    """Merge the forge's records, fetched with :data:`FETCH_REFSPEC`, into the mirror's
    (merging, never losing)."""
    if repo.ref_sha(TRACKING_NOTES) is None:
        return  # none recorded yet
    if repo.ref_sha(REMOTE_NOTES) is None:
        repo.run("update-ref", REMOTE_NOTES, TRACKING_NOTES)
    else:
        repo.notes_merge(NOTES_REF, TRACKING_NOTES)


def fetch_records(repo: GitRepo, url: str, env: Mapping[str, str]) -> None:
    """Bring the forge's verification records into the mirror."""
    repo.fetch(url, [FETCH_REFSPEC], env=env)
    merge_fetched(repo)


def save_record(repo: GitRepo, url: str, env: Mapping[str, str], event: HistoryEvent,
                record: VerificationRecord) -> None:
    """Attach ``record`` to ``event``'s commit and push the notes (merging on a race)."""
    repo.notes_add(NOTES_REF, event.commit, record.to_json())
    for _attempt in range(_PUSH_ATTEMPTS):
        try:
            repo.push(url, [f"{REMOTE_NOTES}:{REMOTE_NOTES}"], env=env)
            return
        except ConflictError:
            fetch_records(repo, url, env)
            repo.notes_add(NOTES_REF, event.commit, record.to_json())
    raise ConflictError("could not push verification records: the notes ref kept moving")
