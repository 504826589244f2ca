"""How `ci pr` on a merge queue entry shows its result (kept out of ``views``, which is
past its size)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jx_mlops.console import out_console
from jx_mlops.views import _json

if TYPE_CHECKING:
    from jx_mlops.ci.mergequeue import QueueCheck


def show_queue_check(check: QueueCheck, *, as_json: bool) -> None:
    verdict = check.comparison.verdict
    if as_json:
        from jx_mlops.report.jsonout import comparison_to_json

        _json({"merge_group": {"head_sha": check.head_sha, "head_ref": check.head_ref,
                               "base_sha": check.base_sha, "base_ref": check.base_ref},
               "pull_request": check.pull_number, "head_sha": check.head_sha,
               "comment_id": None, **comparison_to_json(check.comparison)})
        return
    out = out_console()
    out.print(f"merge queue {check.head_ref}: status "
              f"{'success' if verdict.passed else 'failure'} on {check.head_sha[:12]} "
              f"(compared with {check.base_ref} at {check.base_sha[:12]}; no PR comment: a "
              "queue entry is not one pull request)", markup=False)
    out.print(verdict.line, style="bold green" if verdict.passed else "bold red", markup=False)
