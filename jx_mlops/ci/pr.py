"""`jx-mlops ci pr`: train a pull request, compare it with its base, report on the PR.

Steps: check out the PR head, ``dvc repro --pull``, ``dvc push``, commit the reproduced
dvc.lock and git-tracked results back to the PR branch (so the merge carries them), then
post or update THE evaluation comment and set the commit status on the new head.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jx_mlops import console, dvc
from jx_mlops.ci import CHECK_NAME, STATUS_CONTEXT
from jx_mlops.compare.comparison import Comparison
from jx_mlops.compare.cost import RunRecord, StageCost
from jx_mlops.config import ProjectConfig
from jx_mlops.errors import DvcError, ForgeError, GitError, NotFoundError, UsageError
from jx_mlops.evaluation.build import ReportOptions, compare_revisions, write_html
from jx_mlops.evaluation.runrecords import fetch_records, make_record, measured_repro, save_record
from jx_mlops.evaluation.snapshot import snapshot
from jx_mlops.forge import Forge, open_forge, upsert_marked_comment
from jx_mlops.forge.base import Comment, PullRequest
from jx_mlops.git import GitRepo
from jx_mlops.report.markdown import marker, render_comment


@dataclass(frozen=True)
class PrCheck:
    """The outcome of `ci pr`."""

    pull: PullRequest
    comparison: Comparison
    comment: Comment
    comment_created: bool
    head_sha: str
    results_committed: bool


def find_pull(forge: Forge, config: ProjectConfig, repo: GitRepo, number: int | None
              ) -> PullRequest:
    """The PR to check: ``number``, or the open PR whose head is the current branch."""
    if number is not None:
        return forge.get_pull(config.forge.repo, number)
    branch = repo.current_branch()
    if branch is None:
        raise UsageError("not on a branch: pass --pr N to say which pull request to check")
    pulls = forge.list_pulls(config.forge.repo, head=branch)
    if not pulls:
        raise NotFoundError(f"no open pull request for branch {branch!r} in "
                            f"{config.forge.repo}; pass --pr N")
    return pulls[0]


def _checkout_head(repo: GitRepo, forge: Forge, pull: PullRequest) -> None:
    dirty = repo.dirty_paths()
    if dirty:
        raise GitError(f"uncommitted changes in {', '.join(dirty[:3])}; `ci pr` checks out "
                       "the PR head, so commit or stash them first")
    with console.step(f"Fetching PR #{pull.number} ({pull.head} -> {pull.base})"):
        repo.fetch("origin", [f"+refs/heads/{pull.head}:refs/remotes/origin/{pull.head}",
                              f"+refs/heads/{pull.base}:refs/remotes/origin/{pull.base}"],
                   env=forge.git_env())
        repo.checkout(f"origin/{pull.head}", new_branch=pull.head)


def _train(config: ProjectConfig, repo: GitRepo, forge: Forge, pull: PullRequest,
           commit_results: bool) -> tuple[bool, tuple[StageCost, ...]]:
    """Reproduce (measuring each stage), push the DVC data, commit results to the PR branch.

    Returns whether a commit was pushed, and what each stage cost.
    """
    with console.step("Reproducing the pipeline (dvc repro)") as detail:
        stages = measured_repro(config.root, pull=True, on_line=detail)
    with console.step("Pushing data and models to the DVC remote"):
        dvc.push(config.root)
    if not commit_results:
        return False, stages
    repo.add_all()
    if not repo.has_staged_changes():
        return False, stages
    repo.commit(f"ci: reproduce pipeline for PR #{pull.number}\n\n"
                "dvc.lock and the git-tracked results of `dvc repro`, committed by "
                "`jx-mlops ci pr` so the merge carries them.")
    repo.push("origin", [f"HEAD:refs/heads/{pull.head}"], env=forge.git_env())
    return True, stages


def _record_cost(repo: GitRepo, forge: Forge, head_sha: str,
                 stages: tuple[StageCost, ...]) -> RunRecord | None:
    """Attach this run's cost to the head commit, unless nothing ran (a no-op re-run keeps
    the record of the run that trained it)."""
    if not any(s.ran for s in stages):
        return None
    record = make_record(head_sha, stages)
    save_record(repo, record, push=True, env=forge.git_env())
    return record


def _report_check(forge: Forge, repo: str, sha: str, state: Literal["success", "failure"],
                  comparison: Comparison, body: str, run_url: str | None) -> None:
    """The same verdict as a check run, whose page shows the whole report. A token that
    may set statuses but not checks (a personal token on GitHub) only loses the check."""
    try:
        forge.create_check_run(repo, sha, name=CHECK_NAME, status="completed",
                               conclusion=state, title=comparison.verdict.line[:200],
                               summary=body, details_url=run_url)
    except ForgeError as exc:
        console.warn(f"no check run on {sha[:12]}: {exc.message}")


def _fail_status(forge: Forge, config: ProjectConfig, sha: str, message: str,
                 run_url: str | None = None) -> None:
    forge.set_status(config.forge.repo, sha, state="failure", context=STATUS_CONTEXT,
                     description=message, target_url=run_url)


def run_pr_check(config: ProjectConfig, *, number: int | None = None,
                 commit_results: bool = True, report_id: str = "default",
                 html: Path | None = None, options: ReportOptions | None = None,
                 run_url: str | None = None) -> PrCheck:
    """Train the PR, post the evaluation comment, set the commit status; with ``html``, also
    write the full report there (the comment points to it when it has to be shortened).

    ``run_url`` (the CI run) becomes the statuses' link.
    """
    forge = open_forge(config.forge)
    repo = GitRepo.open(config.root)
    try:
        pull = find_pull(forge, config, repo, number)
        if pull.state != "open":
            raise UsageError(f"{config.forge.repo}#{pull.number} is {pull.state}; "
                             "only open pull requests are checked")
        _checkout_head(repo, forge, pull)
        forge.set_status(config.forge.repo, pull.head_sha, state="pending",
                         context=STATUS_CONTEXT, description="training and evaluating",
                         target_url=run_url)
        try:
            committed, stages = _train(config, repo, forge, pull, commit_results)
        except DvcError as exc:
            _fail_status(forge, config, repo.head_sha(), f"training failed: {exc.message}",
                         run_url)
            raise
        head_sha = repo.head_sha()
        fetch_records(repo, forge.git_env())
        record = _record_cost(repo, forge, head_sha, stages) if commit_results else None
        base = snapshot(repo, config.root, f"origin/{pull.base}", pull.base)
        head = snapshot(repo, config.root, None if not commit_results else head_sha,
                        f"PR #{pull.number}")
        comparison = compare_revisions(config, repo, base, head, options, head_record=record)
        if html is not None:
            write_html(html, comparison)
        body = render_comment(comparison, report_id=report_id,
                              artifact=html.name if html else None)
        comment, created = upsert_marked_comment(forge, config.forge.repo, pull.number,
                                                 marker(report_id), body)
        state: Literal["success", "failure"] = \
            "success" if comparison.verdict.passed else "failure"
        forge.set_status(config.forge.repo, head_sha, state=state, context=STATUS_CONTEXT,
                         description=comparison.verdict.line, target_url=run_url)
        _report_check(forge, config.forge.repo, head_sha, state, comparison, body, run_url)
        return PrCheck(pull, comparison, comment, created, head_sha, committed)
    finally:
        repo.close()
