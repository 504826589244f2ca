"""`jx-mlops ci pr`: train a pull request, compare it with its base, report on the PR.

Steps: check out the PR head; bring it up to date with its base when the base moved (see
:mod:`jx_mlops.ci.update`); pull DVC's run cache and ``dvc repro --pull`` (a stage whose
inputs ran before, anywhere, is restored, not re-run); ``dvc push --run-cache``; commit the
reproduced dvc.lock and git-tracked results back to the PR branch (so the merge carries
them), then post or update THE evaluation comment and set the commit status on the new
head. A failed stage gets the comment in its failed form (stage, command, end of output).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from rich.markup import escape

from jx_mlops import console
from jx_mlops.ci.context import CiContext
from jx_mlops.ci.failure import TrainingFailure, parse_failure, render_failure
from jx_mlops.ci.holdoutscore import check_pr_holdout, score_pr_holdout
from jx_mlops.ci.update import BranchUpdate, MergeConflictError, bring_up_to_date
from jx_mlops.compare.comparison import Comparison
from jx_mlops.compare.cost import RunRecord, StageCost
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.commands import pull as dvc_pull
from jx_mlops.dvc.commands import push as dvc_push
from jx_mlops.errors import ConfigError, DvcError, ForgeError, GitError, NotFoundError, UsageError
from jx_mlops.evaluation.build import ReportOptions, write_html
from jx_mlops.evaluation.runrecords import fetch_records, make_record, measured_repro, save_record
from jx_mlops.evaluation.snapshot import snapshot
from jx_mlops.evaluation.trusted import compare_trusted
from jx_mlops.forge.base import CHECK_NAME, STATUS_CONTEXT, Comment, Forge, PullRequest
from jx_mlops.forge.comments import upsert_marked_comment
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
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
    update: BranchUpdate | None = None


def event_pull(context: CiContext | None, repo: str, number: int | None
               ) -> PullRequest | None:
    """PR ``number`` of ``repo`` as the CI event payload describes it, when it describes
    that PR fully; saves a request per run (its head sha may be stale: the caller uses the
    checked-out head)."""
    if context is None or number is None or context.pull_number != number:
        return None
    if (context.repo or "").lower() != repo.lower():
        return None
    if not (context.head_ref and context.base_ref and context.head_sha
            and context.pull_state in ("open", "closed")):
        return None
    return PullRequest(number=number, title="", body="", base=context.base_ref,
                       head=context.head_ref, head_sha=context.head_sha,
                       state="open" if context.pull_state == "open" else "closed",
                       draft=False, author="", created_at="", updated_at="", url="")


def find_pull(forge: Forge, config: ProjectConfig, repo: GitRepo, number: int | None,
              context: CiContext | None = None) -> PullRequest:
    """The PR to check: ``number``, or the open PR whose head is the current branch."""
    known = event_pull(context, config.forge.repo, number)
    if known is not None:
        return known
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


class TrainingFailedError(DvcError):
    """`dvc repro` failed; ``failure`` says where and shows the end of the output."""

    def __init__(self, failure: TrainingFailure) -> None:
        super().__init__(failure.headline, hint="the PR comment shows the stage's output")
        self.failure = failure


def _repro(config: ProjectConfig, holdout: str | None = None) -> tuple[StageCost, ...]:
    """Pull the run cache, reproduce (measuring each stage); a failure is read back. The
    sealed holdout (``holdout``, the base's) is not pulled: the PR's code runs here."""
    with console.step("Pulling DVC's run cache and data"):
        dvc_pull(config.root, run_cache=True,
                 exclude=(f"{holdout}.dvc",) if holdout else ())
    output: list[str] = []
    with console.step("Reproducing the pipeline (dvc repro)") as detail:
        def line(text: str) -> None:
            output.append(text)
            detail(text)

        try:
            return measured_repro(config.root, pull=True, on_line=line)
        except DvcError:
            failure = parse_failure("\n".join(output))
    for text in failure.tail[-10:]:
        console.info(f"[dim]  {escape(text)}[/dim]")
    raise TrainingFailedError(failure)


def _train(config: ProjectConfig, repo: GitRepo, forge: Forge, pull: PullRequest,
           commit_results: bool, update: BranchUpdate, holdout: str | None = None
           ) -> tuple[bool, tuple[StageCost, ...]]:
    """Reproduce, push the DVC data and run cache, commit results to the PR branch.

    Returns whether a commit was pushed, and what each stage cost.
    """
    stages = _repro(config, holdout)
    with console.step("Pushing data, models and the run cache to the DVC remote"):
        dvc_push(config.root, run_cache=True,
                 exclude=(f"{holdout}.dvc",) if holdout else ())
    if not commit_results:
        return False, stages
    repo.add_all()
    if not repo.has_staged_changes():
        if update.commits:
            repo.push("origin", [f"HEAD:refs/heads/{pull.head}"], env=forge.git_env())
        return bool(update.commits), stages
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
                     description=message[:140], target_url=run_url)


def _conflict_body(exc: MergeConflictError, pull: PullRequest, marker_line: str) -> str:
    files = "\n".join(f"- `{item}`" for item in exc.conflicts)
    return (f"{marker_line}\n## jx-mlops evaluation: ❌ behind {pull.base}, with conflicts\n\n"
            f"{pull.base} moved since this PR branched, and both changed:\n\n{files}\n\n"
            f"Nothing was merged or trained. Merge {pull.base} into `{pull.head}` and resolve "
            "these by hand (conflicts in dvc.lock and stage outputs need no care: `ci pr` "
            "re-runs the pipeline), then push.\n")


def _update(config: ProjectConfig, repo: GitRepo, forge: Forge, pull: PullRequest,
            report_id: str, run_url: str | None) -> BranchUpdate:
    """Merge the moved base in; a conflict a person must resolve is reported on the PR."""
    if repo.is_ancestor(f"origin/{pull.base}", "HEAD"):
        return BranchUpdate(pull.base, 0)
    try:
        with console.step(f"Bringing the PR up to date with {pull.base}"):
            return bring_up_to_date(repo, pull.base, f"origin/{pull.base}")
    except MergeConflictError as exc:
        upsert_marked_comment(forge, config.forge.repo, pull.number, marker(report_id),
                              _conflict_body(exc, pull, marker(report_id)))
        _fail_status(forge, config, pull.head_sha,
                     f"conflicts with {pull.base}: {', '.join(exc.conflicts)}", run_url)
        raise


def _report_failure(config: ProjectConfig, forge: Forge, pull: PullRequest, sha: str,
                    exc: TrainingFailedError, report_id: str, run_url: str | None) -> None:
    body = render_failure(exc.failure, marker=marker(report_id), pull_number=pull.number,
                          branch=pull.head, sha=sha)
    upsert_marked_comment(forge, config.forge.repo, pull.number, marker(report_id), body)
    _fail_status(forge, config, sha, exc.failure.status, run_url)


def _with_update_line(body: str, update: BranchUpdate) -> str:
    """The comment with "Brought up to date with main (N commits)." under its heading."""
    if not update.line:
        return body
    lines = body.split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("#")), 1)
    return "\n".join([*lines[:at], "", f"_{update.line}_", *lines[at:]])


def run_pr_check(config: ProjectConfig, *, number: int | None = None,
                 commit_results: bool = True, report_id: str = "default",
                 html: Path | None = None, options: ReportOptions | None = None,
                 run_url: str | None = None, context: CiContext | None = None) -> PrCheck:
    """Train the PR, post the evaluation comment, set the commit status; with ``html``, also
    write the full report there (the comment points to it when it has to be shortened).

    ``run_url`` (the CI run) becomes the statuses' link; ``context`` (the CI event) may
    already describe the PR, which then is not fetched.
    """
    forge = open_forge(config.forge)
    repo = GitRepo.open(config.root)
    try:
        pull = find_pull(forge, config, repo, number, context)
        if pull.state != "open":
            raise UsageError(f"{config.forge.repo}#{pull.number} is {pull.state}; "
                             "only open pull requests are checked")
        _checkout_head(repo, forge, pull)
        holdout = check_pr_holdout(config, repo, f"origin/{pull.base}")
        # Statuses go on what was fetched: the branch may have moved since the event.
        pull = replace(pull, head_sha=repo.head_sha())
        forge.set_status(config.forge.repo, pull.head_sha, state="pending",
                         context=STATUS_CONTEXT, description="training and evaluating",
                         target_url=run_url)
        update = _update(config, repo, forge, pull, report_id, run_url)
        try:
            committed, stages = _train(config, repo, forge, pull, commit_results, update,
                                       holdout)
        except TrainingFailedError as exc:
            _report_failure(config, forge, pull, pull.head_sha, exc, report_id, run_url)
            raise
        except DvcError as exc:
            _fail_status(forge, config, pull.head_sha, f"training failed: {exc.message}",
                         run_url)
            raise
        return _evaluate(config, repo, forge, pull, committed, stages, update,
                         commit_results=commit_results, report_id=report_id, html=html,
                         options=options, run_url=run_url)
    finally:
        repo.close()


def _evaluate(config: ProjectConfig, repo: GitRepo, forge: Forge, pull: PullRequest,
              committed: bool, stages: tuple[StageCost, ...], update: BranchUpdate, *,
              commit_results: bool, report_id: str, html: Path | None,
              options: ReportOptions | None, run_url: str | None) -> PrCheck:
    """Compare the trained head with the merge base, comment and set the status."""
    head_sha = repo.head_sha()
    fetch_records(repo, forge.git_env())
    record = _record_cost(repo, forge, head_sha, stages) if commit_results else None
    # The PR's own changes: from where it meets its base (the base's tip once up to date).
    merge_base = repo.merge_base(f"origin/{pull.base}", head_sha) or f"origin/{pull.base}"
    base = snapshot(repo, config.root, merge_base, pull.base)
    head = snapshot(repo, config.root, None if not commit_results else head_sha,
                    f"PR #{pull.number}")
    comparison = compare_trusted(config, repo, base, head, options, head_record=record)
    try:
        comparison = score_pr_holdout(config, base, comparison)
    except (ConfigError, DvcError) as exc:  # an unreadable holdout: no pending status left
        _fail_status(forge, config, head_sha, f"sealed holdout: {exc.message}", run_url)
        raise
    if html is not None:
        write_html(html, comparison)
    body = _with_update_line(render_comment(comparison, report_id=report_id,
                                            artifact=html.name if html else None), update)
    comment, created = upsert_marked_comment(forge, config.forge.repo, pull.number,
                                             marker(report_id), body)
    state: Literal["success", "failure"] = \
        "success" if comparison.verdict.passed else "failure"
    forge.set_status(config.forge.repo, head_sha, state=state, context=STATUS_CONTEXT,
                     description=comparison.verdict.line[:140], target_url=run_url)
    _report_check(forge, config.forge.repo, head_sha, state, comparison, body, run_url)
    return PrCheck(pull, comparison, comment, created, head_sha, committed, update)
