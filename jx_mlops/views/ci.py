"""How the `ci` commands show their results: the PR check, the merge queue check, the
fork-safe report and its publication, ChatOps and the refresh of stale verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jx_mlops.console import out_console
from jx_mlops.views.common import print_json

if TYPE_CHECKING:
    from jx_mlops.ci.chatops import ChatopsResult
    from jx_mlops.ci.mergequeue import QueueCheck
    from jx_mlops.ci.pr import PrCheck
    from jx_mlops.ci.publish import PrReport, Publication
    from jx_mlops.ci.refresh import RefreshResult
    from jx_mlops.ci.route import PrOutcome


def show_ci_pr(outcome: PrOutcome, *, as_json: bool) -> None:
    """`ci pr`'s result, whichever of its three checks ran."""
    from jx_mlops.ci.mergequeue import QueueCheck
    from jx_mlops.ci.publish import PrReport

    if isinstance(outcome, QueueCheck):
        show_queue_check(outcome, as_json=as_json)
    elif isinstance(outcome, PrReport):
        show_pr_report(outcome, as_json=as_json)
    else:
        show_pr_check(outcome, as_json=as_json)


def show_queue_check(check: QueueCheck, *, as_json: bool) -> None:
    verdict = check.comparison.verdict
    if as_json:
        from jx_mlops.report.jsonout import comparison_to_json

        print_json({"merge_group": {"head_sha": check.head_sha, "head_ref": check.head_ref,
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


def show_refresh(result: RefreshResult, *, as_json: bool) -> None:
    if as_json:
        print_json({"base": result.base, "base_sha": result.base_sha, "stale": list(result.stale),
               "kept": [{"pull_request": n, "reason": r} for n, r in result.kept]})
        return
    out = out_console()
    moved = f"{result.base} is at {result.base_sha[:12]}"
    if not result.stale:
        out.print(f"{moved}: no open pull request's evaluation went stale", markup=False)
    for number in result.stale:
        out.print(f"PR #{number}: evaluation marked stale (pending until `ci pr` re-runs)",
                  markup=False)
    for number, reason in result.kept:
        out.print(f"PR #{number}: kept ({reason})", markup=False)


def show_pr_check(check: PrCheck, *, as_json: bool) -> None:
    if as_json:
        from jx_mlops.report.jsonout import comparison_to_json

        print_json({"pull_request": check.pull.number, "head_sha": check.head_sha,
               "comment_id": check.comment.id, "comment_created": check.comment_created,
               "results_committed": check.results_committed,
               **comparison_to_json(check.comparison)})
        return
    action = "posted" if check.comment_created else "updated"
    verdict = check.comparison.verdict
    out = out_console()
    out.print(f"PR #{check.pull.number}: evaluation comment {action} "
              f"(comment {check.comment.id}); status "
              f"{'success' if verdict.passed else 'failure'} on {check.head_sha[:12]}",
              markup=False)
    out.print(verdict.line, style="bold green" if verdict.passed else "bold red", markup=False)


def show_pr_report(report: PrReport, *, as_json: bool) -> None:
    from jx_mlops.ci.fork_report import COMMENT_FILE, HTML_FILE, REPORT_FILE

    if as_json:
        from jx_mlops.report.jsonout import comparison_to_json

        print_json({"pull_request": report.pull_number, "head_sha": report.head_sha,
               "base_sha": report.base_sha, "directory": str(report.directory),
               **comparison_to_json(report.comparison)})
        return
    verdict = report.comparison.verdict
    out = out_console()
    out.print(f"PR #{report.pull_number}: report written to {report.directory} "
              f"({REPORT_FILE}, {COMMENT_FILE}, {HTML_FILE}); nothing posted", markup=False)
    out.print(verdict.line, style="bold green" if verdict.passed else "bold red", markup=False)


def show_publication(published: Publication, *, as_json: bool) -> None:
    if as_json:
        print_json({"repo": published.repo, "pull_request": published.pull_number,
               "head_sha": published.head_sha, "comment_id": published.comment.id,
               "comment_created": published.comment_created,
               "status": published.status.state, "check_run_id": published.check_run.id,
               "verdict": published.comparison.verdict.word})
        return
    action = "posted" if published.comment_created else "updated"
    out_console().print(
        f"{published.repo}#{published.pull_number}: evaluation comment {action} (comment "
        f"{published.comment.id}); status {published.status.state} and check run on "
        f"{published.head_sha[:12]}", markup=False)


def show_chatops(result: ChatopsResult, *, as_json: bool) -> None:
    if as_json:
        from dataclasses import asdict

        print_json({"repo": result.repo, "pull_request": result.pull_number,
               "comment_id": result.comment_id, "user": result.user,
               "permission": result.permission, "skipped": result.skipped,
               "reply_id": result.reply.id if result.reply else None,
               "commands": [asdict(o) for o in result.outcomes]})
        return
    out = out_console()
    if result.skipped:
        out.print(f"nothing to do: {result.skipped}", markup=False)
        return
    where = f"{result.repo}#{result.pull_number} comment {result.comment_id}"
    for outcome in result.outcomes:
        if not outcome.accepted:
            out.print(f"{where}: refused {outcome.command} from {result.user} "
                      f"({result.permission} access)", markup=False)
        else:
            mark = "done" if outcome.ok else "failed"
            out.print(f"{where}: {outcome.command} {mark}: {outcome.message}", markup=False)
