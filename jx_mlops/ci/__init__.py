"""What CI runs: the pull-request check, the release, ChatOps, publishing fork reports."""

from __future__ import annotations

# Names the forge shows for a PR's evaluation, shared by `ci pr` and `ci publish` so a
# fork's published result lands where a branch's would.
STATUS_CONTEXT = "jx-mlops/evaluation"
CHECK_NAME = "jx-mlops report"
