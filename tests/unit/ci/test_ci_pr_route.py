"""Which check `ci pr` runs (ci/route.py): the merge queue's, the fork-safe report, or
the pull request check, from the CI event and the flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.ci.context import CiContext, detect_context
from jx_mlops.ci.pr import PrRequest
from jx_mlops.ci.route import CheckKind, which_check

QUEUE = CiContext("github-actions", event="merge_group")
PULL = CiContext("github-actions", event="pull_request", pull_number=7)
JENKINS_X = CiContext("jenkins-x", event="presubmit", pull_number=7)
TERMINAL = detect_context({})


@pytest.mark.parametrize(("context", "request_", "expected"), [
    (QUEUE, PrRequest(), "merge-queue"),
    (QUEUE, PrRequest(number=3), "pull-request"),  # --pr names a pull request
    (QUEUE, PrRequest(output=Path("out")), "fork-report"),
    (PULL, PrRequest(), "pull-request"),
    (PULL, PrRequest(output=Path("out")), "fork-report"),
    (JENKINS_X, PrRequest(), "pull-request"),
    (TERMINAL, PrRequest(), "pull-request"),
    (TERMINAL, PrRequest(number=2, output=Path("out")), "fork-report"),
])
def test_which_check(context: CiContext, request_: PrRequest, expected: CheckKind) -> None:
    assert which_check(context, request_) == expected


def test_a_request_defaults_to_the_event_s_pull_request_and_posting() -> None:
    request = PrRequest()
    assert (request.number, request.output, request.commit_results, request.report_id) == \
        (None, None, True, "default")
