"""`jx-mlops ci pr` on a GitHub merge queue (``merge_group``) event.

GitHub builds each queue entry as a temporary branch, ``gh-readonly-queue/main/pr-N-SHA``:
the base (main, or the entry ahead in the queue) with the queued pull request merged in.
A required status must pass on that commit before GitHub merges it, so the check is the
PR check run on the queue's head: train the head commit, compare it with ``base_sha``, and
set the evaluation status (and check run) on ``head_sha``.

What differs from a pull request: nothing is committed back (the queue branch is GitHub's
and read-only; the PR run already committed dvc.lock and the results the merge carries),
and no comment is posted, because a queue entry is not one pull request: it may batch
several, and GitHub discards the branch once the entry merges or leaves the queue. The
verdict lives on the status, the check run and the CI log; the PRs keep their own
evaluation comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.ci.context import CiContext
from jx_mlops.ci.pr import PrRequest, TrainingFailedError, reproduce
from jx_mlops.ci.verdict import ReportTarget
from jx_mlops.compare.comparison import Comparison
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.commands import push as dvc_push
from jx_mlops.errors import DvcError, GitError, UsageError
from jx_mlops.evaluation.build import write_html
from jx_mlops.evaluation.snapshot import snapshot
from jx_mlops.evaluation.trusted import compare_trusted, run_cache_allowed
from jx_mlops.forge.base import Forge
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.report.markdown import render_comment

# gh-readonly-queue/<base branch>/pr-<number>-<head sha of the PR>
_QUEUE_REF = re.compile(r"^(?:refs/heads/)?gh-readonly-queue/(?P<base>.+)/pr-(?P<pr>\d+)-"
                        r"(?P<sha>[0-9a-f]{40})$")


@dataclass(frozen=True)
class QueueCheck:
    """The outcome of `ci pr` on a merge queue entry."""

    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str
    pull_number: int | None
    comparison: Comparison


def queued_pull(head_ref: str) -> int | None:
    """The pull request a queue branch was built for (the newest one of a batch)."""
    found = _QUEUE_REF.match(head_ref)
    return int(found.group("pr")) if found else None


def _queue_refs(context: CiContext) -> tuple[str, str, str, str]:
    head_sha, base_sha = context.head_sha, context.base_sha
    head_ref, base_ref = context.head_ref, context.base_ref
    if not (head_sha and base_sha and head_ref and base_ref):
        raise UsageError("GITHUB_EVENT_PATH: merge_group: expected head_sha, head_ref, "
                         "base_sha and base_ref in the event payload")
    return head_sha, _branch(head_ref), base_sha, _branch(base_ref)


def _branch(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def _checkout(repo: GitRepo, forge: Forge, head_ref: str, head_sha: str, base_sha: str
              ) -> None:
    """The queue's head commit, with its base present (a shallow checkout may lack it)."""
    dirty = repo.dirty_paths()
    if dirty:
        raise GitError(f"uncommitted changes in {', '.join(dirty[:3])}; `ci pr` checks out "
                       "the merge queue's head commit, so commit or stash them first")
    with console.step(f"Fetching the merge queue's {head_ref}"):
        # Fetched under refs/remotes so it never becomes a local branch that could be pushed.
        repo.fetch("origin", [f"+refs/heads/{head_ref}:refs/remotes/origin/{head_ref}"],
                   env=forge.git_env())
        if repo.try_rev_parse(base_sha) is None:
            repo.fetch("origin", [base_sha], env=forge.git_env())
        repo.checkout(head_sha)


def _train(config: ProjectConfig, target: ReportTarget, head_sha: str, run_cache: bool
           ) -> None:
    """The PR check's training (run cache pulled when the base allows it, stages measured,
    a failure read back), then the DVC push; a failure is the status of ``head_sha``."""
    if config.compute.remote:
        console.warn(f"the merge queue runs every stage here: compute.stages go to "
                     f"{config.compute.backend} from `ci pr` only")
    try:
        reproduce(config, run_cache=run_cache)
        with console.step("Pushing data, models and the run cache to the DVC remote"):
            dvc_push(config.root, run_cache=True)
    except (TrainingFailedError, DvcError) as exc:
        message = exc.failure.status if isinstance(exc, TrainingFailedError) else \
            f"training failed: {exc.message}"
        target.status(head_sha, "failure", message)
        raise


def run_queue_check(config: ProjectConfig, context: CiContext,
                    request: PrRequest | None = None) -> QueueCheck:
    """Train the merge queue's head commit, compare it with the queue's base, set the
    evaluation status on the head commit (``request``: where the HTML report goes, the
    trend's length). No comment: see the module's docstring."""
    request = request or PrRequest()
    head_sha, head_ref, base_sha, base_ref = _queue_refs(context)
    forge = open_forge(config.forge)
    target = ReportTarget(forge, config.forge.repo, "merge-queue", context.run_url)
    repo = GitRepo.open(config.root)
    try:
        _checkout(repo, forge, head_ref, head_sha, base_sha)
        target.status(head_sha, "pending", "training and evaluating (merge queue)")
        _train(config, target, head_sha, run_cache_allowed(config, repo, base_sha))
        base = snapshot(repo, config.root, base_sha, base_ref)
        pull = queued_pull(head_ref)
        head = snapshot(repo, config.root, None,
                        f"merge queue (PR #{pull})" if pull else "merge queue")
        # Scored by the base's trusted stage, as the PR check is: the queue must not
        # take the queued code's word for its own metrics either.
        comparison = compare_trusted(config, repo, base, head, request.options)
        if request.html is not None:
            write_html(request.html, comparison)
        target.verdict(head_sha, comparison, render_comment(
            comparison, report_id=target.report_id,
            artifact=request.html.name if request.html else None))
        return QueueCheck(head_sha, head_ref, base_sha, base_ref, pull, comparison)
    finally:
        repo.close()
