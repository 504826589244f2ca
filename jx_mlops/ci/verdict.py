"""Where a check's verdict goes on the forge: the evaluation status and check run on a
commit, and the marked evaluation comment on a pull request.

``ci pr``, ``ci pr`` on a merge queue and ``ci publish`` all report through a
:class:`ReportTarget`, so a fork's published result lands where a branch's would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jx_mlops import console
from jx_mlops.compare.comparison import Comparison
from jx_mlops.errors import ForgeError
from jx_mlops.forge.base import (
    CHECK_NAME,
    STATUS_CONTEXT,
    CheckRun,
    Comment,
    CommitStatus,
    Forge,
    StatusState,
    status_description,
    with_base,
)
from jx_mlops.forge.comments import upsert_marked_comment
from jx_mlops.report.markdown import marker
from jx_mlops.yamlio import shorten

Verdict = Literal["success", "failure"]


def verdict_state(comparison: Comparison) -> Verdict:
    return "success" if comparison.verdict.passed else "failure"


@dataclass(frozen=True)
class ReportTarget:
    """``repo`` on ``forge``: its statuses (linking to ``run_url``, the CI run; saying the
    ``base`` they were computed against) and check runs, and the comment marked with
    ``report_id`` (one comment per PR and report id)."""

    forge: Forge
    repo: str
    report_id: str = "default"
    run_url: str | None = None
    base: str | None = None  # the branch the PR was compared with, ended each status with

    @property
    def marker(self) -> str:
        return marker(self.report_id)

    def comment(self, number: int, body: str) -> tuple[Comment, bool]:
        """Post or update the marked comment on PR ``number``; (comment, created)."""
        return upsert_marked_comment(self.forge, self.repo, number, self.marker, body)

    def status(self, sha: str, state: StatusState, description: str) -> CommitStatus:
        text = with_base(description, self.base) if self.base else status_description(description)
        return self.forge.set_status(self.repo, sha, state=state, context=STATUS_CONTEXT,
                                     description=text, target_url=self.run_url)

    def check_run(self, sha: str, comparison: Comparison, summary: str) -> CheckRun:
        """The verdict as a completed check run, whose page shows ``summary`` whole."""
        return self.forge.create_check_run(
            self.repo, sha, name=CHECK_NAME, status="completed",
            conclusion=verdict_state(comparison), title=shorten(comparison.verdict.line, 200),
            summary=summary, details_url=self.run_url)

    def verdict(self, sha: str, comparison: Comparison, summary: str) -> CommitStatus:
        """The status and the check run of ``comparison``'s verdict on ``sha``. A token
        that may set statuses but not checks (a personal token on GitHub) only loses the
        check run."""
        status = self.status(sha, verdict_state(comparison), comparison.verdict.line)
        try:
            self.check_run(sha, comparison, summary)
        except ForgeError as exc:
            console.warn(f"no check run on {sha[:12]}: {exc.message}")
        return status
