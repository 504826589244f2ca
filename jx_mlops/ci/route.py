"""`jx-mlops ci pr` runs one of three checks, chosen here from the CI event and the flags:

- on a merge queue event (``merge_group``, no ``--pr``): the queue entry's check
  (:mod:`jx_mlops.ci.mergequeue`: a status on the queue's head commit, no comment);
- with ``--output DIR``: the fork-safe half of the PR check, which writes the report and
  posts nothing (:mod:`jx_mlops.ci.publish`; ``ci publish DIR`` posts it);
- else the PR check (:mod:`jx_mlops.ci.pr`): train, commit back, comment, status.
"""

from __future__ import annotations

from typing import Literal

from jx_mlops.ci.context import CiContext
from jx_mlops.ci.mergequeue import QueueCheck, run_queue_check
from jx_mlops.ci.pr import PrCheck, PrRequest, run_pr_check
from jx_mlops.ci.publish import PrReport, write_pr_report
from jx_mlops.config.project import ProjectConfig

PrOutcome = PrCheck | PrReport | QueueCheck
CheckKind = Literal["merge-queue", "fork-report", "pull-request"]


def which_check(context: CiContext, request: PrRequest) -> CheckKind:
    """The check ``request`` asks for in ``context``: ``--output`` always writes the
    fork-safe report; a merge queue event checks the queue entry unless ``--pr`` names a
    pull request."""
    if request.output is not None:
        return "fork-report"
    if context.event == "merge_group" and request.number is None:
        return "merge-queue"
    return "pull-request"


def run_ci_pr(config: ProjectConfig, context: CiContext, request: PrRequest) -> PrOutcome:
    """Run the check ``which_check`` chooses; each outcome has a ``comparison``."""
    kind = which_check(context, request)
    if kind == "fork-report":
        assert request.output is not None
        return write_pr_report(config, context, request.output, request)
    if kind == "merge-queue":
        return run_queue_check(config, context, request)
    return run_pr_check(config, request, context)
