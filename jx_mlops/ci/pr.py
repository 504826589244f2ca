"""`jx-mlops ci pr`: train a pull request, compare it with its base, report on the PR.

Steps: check out the PR head; bring it up to date with its base when the base moved (see
:mod:`jx_mlops.ci.update`); ``dvc repro --pull`` (stages are restored from DVC's run cache
only when the base's mlops.yaml says ``ci.run_cache: pull``: a writer of the DVC remote
could plant entries, see config/ci.py); ``dvc push --run-cache``; commit the
reproduced dvc.lock and git-tracked results back to the PR branch (so the merge carries
them), then post or update THE evaluation comment and set the commit status on the new
head. A failed stage gets the comment in its failed form (stage, command, end of output).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rich.markup import escape

from jx_mlops import console
from jx_mlops.ci.context import CiContext
from jx_mlops.ci.failure import TrainingFailure, parse_failure, render_failure
from jx_mlops.ci.handoff import EngineFailedError, Handoff, run_on_engine
from jx_mlops.ci.holdoutscore import check_pr_holdout, score_pr_holdout
from jx_mlops.ci.update import BranchUpdate, MergeConflictError, bring_up_to_date
from jx_mlops.ci.verdict import ReportTarget
from jx_mlops.compare.comparison import Comparison
from jx_mlops.compare.cost import RunRecord, StageCost
from jx_mlops.compute.ray import check_address
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.commands import checkout as dvc_checkout
from jx_mlops.dvc.commands import pull as dvc_pull
from jx_mlops.dvc.commands import push as dvc_push
from jx_mlops.errors import ConfigError, DvcError, GitError, NotFoundError, UsageError
from jx_mlops.evaluation.build import ReportOptions, write_html
from jx_mlops.evaluation.runrecords import fetch_records, make_record, measured_repro, save_record
from jx_mlops.evaluation.snapshot import snapshot
from jx_mlops.evaluation.trusted import compare_trusted, run_cache_allowed
from jx_mlops.forge.base import Comment, Forge, PullRequest
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.report.markdown import render_comment


@dataclass(frozen=True)
class PrRequest:
    """What `ci pr` is asked to do: the command line's flags, or a ChatOps ``/retrain``."""

    number: int | None = None  # None: the CI event's pull request, else the branch's
    commit_results: bool = True  # commit dvc.lock and git-tracked results to the PR branch
    report_id: str = "default"  # which report this is: one comment per PR and report id
    html: Path | None = None  # also write the full report there
    options: ReportOptions | None = None
    output: Path | None = None  # write the report there instead of posting it (fork-safe)
    base: str | None = None  # with ``output``: the base revision


@dataclass(frozen=True)
class PrRun:
    """One check of a pull request: the project and its checkout, the forge and the PR
    (its head as checked out), and where the report goes: the comment marked with
    ``report_id``, statuses linking to ``run_url`` (the CI run)."""

    config: ProjectConfig
    repo: GitRepo
    forge: Forge
    pull: PullRequest
    report_id: str = "default"
    run_url: str | None = None

    @property
    def target(self) -> ReportTarget:
        return ReportTarget(self.forge, self.config.forge.repo, self.report_id, self.run_url,
                            self.pull.base)

    def fail(self, message: str, sha: str | None = None) -> None:
        """The evaluation status on the PR's head (or ``sha``): failure, saying why."""
        self.target.status(sha or self.pull.head_sha, "failure", message)


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


def reproduce(config: ProjectConfig, holdout: str | None = None, *,
              run_cache: bool = False, handoff: Handoff | None = None
              ) -> tuple[StageCost, ...]:
    """Pull the data (and the run cache, when the base allows it: ``run_cache``),
    reproduce (measuring each stage); a failure is read back. The sealed holdout
    (``holdout``, the base's) is not pulled: the PR's code runs here. With ``handoff``,
    ``compute.stages`` run on the compute engine first (see :mod:`jx_mlops.ci.handoff`)."""
    with console.step("Pulling DVC's run cache and data" if run_cache else
                      "Pulling data (not DVC's run cache: ci.run_cache is not pull)"):
        dvc_pull(config.root, run_cache=run_cache,
                 exclude=(f"{holdout}.dvc",) if holdout else ())
    output: list[str] = []
    try:
        remote = run_on_engine(handoff) if handoff is not None else ()
        with console.step("Reproducing the pipeline (dvc repro)") as detail:
            def line(text: str) -> None:
                output.append(text)
                detail(text)

            try:
                local = measured_repro(config.root, pull=True, run_cache=run_cache,
                                       on_line=line)
            except DvcError:  # inside the step, so it shows as failed
                raise TrainingFailedError(parse_failure("\n".join(output))) from None
    except EngineFailedError as exc:
        for text in exc.failure.tail[-10:]:
            console.info(f"[dim]  {escape(text)}[/dim]")
        raise TrainingFailedError(exc.failure) from None
    except TrainingFailedError as exc:
        for text in exc.failure.tail[-10:]:
            console.info(f"[dim]  {escape(text)}[/dim]")
        raise
    done = {cost.name: cost for cost in remote}
    return tuple(done.pop(c.name, c) if not c.ran else c for c in local) + tuple(done.values())


def _train(run: PrRun, commit_results: bool, update: BranchUpdate, holdout: str | None
           ) -> tuple[bool, tuple[StageCost, ...]]:
    """Reproduce, push the DVC data and run cache, commit results to the PR branch.

    Returns whether a commit was pushed, and what each stage cost.
    """
    config, repo, head = run.config, run.repo, run.pull.head
    run_cache = run_cache_allowed(config, repo, f"origin/{run.pull.base}")
    handoff = Handoff(config, repo, f"{config.forge.repo}#{run.pull.number}", run_cache,
                      holdout) if config.compute.remote else None
    stages = reproduce(config, holdout, run_cache=run_cache, handoff=handoff)
    with console.step("Pushing data, models and the run cache to the DVC remote"):
        dvc_push(config.root, run_cache=True,
                 exclude=(f"{holdout}.dvc",) if holdout else ())
    if not commit_results:
        return False, stages
    repo.add_all()
    if not repo.has_staged_changes():
        if update.commits:
            repo.push("origin", [f"HEAD:refs/heads/{head}"], env=run.forge.git_env())
        return bool(update.commits), stages
    repo.commit(f"ci: reproduce pipeline for PR #{run.pull.number}\n\n"
                "dvc.lock and the git-tracked results of `dvc repro`, committed by "
                "`jx-mlops ci pr` so the merge carries them.")
    repo.push("origin", [f"HEAD:refs/heads/{head}"], env=run.forge.git_env())
    return True, stages


def _train_reported(run: PrRun, commit_results: bool, update: BranchUpdate,
                    holdout: str | None) -> tuple[bool, tuple[StageCost, ...]]:
    """``_train``; a failure is reported on the PR (the comment shows a failed stage)."""
    try:
        return _train(run, commit_results, update, holdout)
    except TrainingFailedError as exc:
        body = render_failure(exc.failure, marker=run.target.marker, pull_number=run.pull.number,
                              branch=run.pull.head, sha=run.pull.head_sha)
        run.target.comment(run.pull.number, body)
        run.fail(exc.failure.status)
        raise
    except DvcError as exc:
        run.fail(f"training failed: {exc.message}")
        raise


def _record_cost(run: PrRun, head_sha: str, stages: tuple[StageCost, ...]) -> RunRecord | None:
    """Attach this run's cost to the head commit, unless nothing ran (a no-op re-run keeps
    the record of the run that trained it)."""
    if not any(s.ran for s in stages):
        return None
    record = make_record(head_sha, stages)
    save_record(run.repo, record, push=True, env=run.forge.git_env())
    return record


def _conflict_body(exc: MergeConflictError, pull: PullRequest, marker_line: str) -> str:
    files = "\n".join(f"- `{item}`" for item in exc.conflicts)
    return (f"{marker_line}\n## jx-mlops evaluation: ❌ behind {pull.base}, with conflicts\n\n"
            f"{pull.base} moved since this PR branched, and both changed:\n\n{files}\n\n"
            f"Nothing was merged or trained. Merge {pull.base} into `{pull.head}` and resolve "
            "these by hand (conflicts in dvc.lock and stage outputs need no care: `ci pr` "
            "re-runs the pipeline), then push.\n")


def _update(run: PrRun) -> BranchUpdate:
    """Merge the moved base in; a conflict a person must resolve is reported on the PR."""
    pull = run.pull
    if run.repo.is_ancestor(f"origin/{pull.base}", "HEAD"):
        return BranchUpdate(pull.base, 0)
    try:
        with console.step(f"Bringing the PR up to date with {pull.base}"):
            return bring_up_to_date(run.repo, pull.base, f"origin/{pull.base}")
    except MergeConflictError as exc:
        run.target.comment(pull.number, _conflict_body(exc, pull, run.target.marker))
        run.fail(f"conflicts with {pull.base}: {', '.join(exc.conflicts)}")
        raise


def _with_update_line(body: str, update: BranchUpdate) -> str:
    """The comment with "Brought up to date with main (N commits)." under its heading."""
    if not update.line:
        return body
    lines = body.split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("#")), 1)
    return "\n".join([*lines[:at], "", f"_{update.line}_", *lines[at:]])


def run_pr_check(config: ProjectConfig, request: PrRequest | None = None,
                 context: CiContext | None = None) -> PrCheck:
    """Train the PR, post the evaluation comment, set the commit status; with
    ``request.html``, also write the full report there (the comment points to it when it
    has to be shortened).

    ``context`` (the CI event) names the PR when ``request.number`` does not, gives the
    statuses' link (the CI run), and may already describe the PR, which then is not
    fetched.
    """
    request = request or PrRequest()
    if config.compute.remote:  # an unreachable engine fails before anything is written
        check_address(config.compute.address)
    forge = open_forge(config.forge)
    repo = GitRepo.open(config.root)
    start = repo.current_branch()
    pull: PullRequest | None = None
    failed = True
    try:
        run, holdout = _start(config, repo, forge, request, context)
        pull = run.pull
        update = _update(run)
        committed, stages = _train_reported(run, request.commit_results, update, holdout)
        check = _evaluate(run, request, committed, stages, update)
        failed = False
        return check
    finally:
        try:
            if pull is not None:
                _back_to(repo, config.root, start, pull, failed=failed)
        finally:
            repo.close()


def _back_to(repo: GitRepo, root: Path, start: str | None, pull: PullRequest, *,
             failed: bool) -> None:
    """Leave the work tree as `ci pr` found it: on the branch it started on, with that
    branch's DVC outputs (not the PR's model); or say where it is left: a detached start
    (as CI checks out), uncommitted results, or a failure to look at."""
    if repo.current_branch() != pull.head or start == pull.head:
        return  # nothing was checked out, or the PR's branch is where it started
    back = f"`git checkout {start} && dvc checkout` goes back"
    if start is None:
        console.info(f"The work tree is left on {pull.head}, the head of PR #{pull.number}")
    elif failed:
        # `ci pr` starts clean, so what is changed now is the failed run's (a stage removes
        # its outputs before running): --force drops it, or plain checkout would refuse.
        if repo.dirty_paths():
            back = (f"`git checkout --force {start} && dvc checkout` goes back (dropping what "
                    "the failed run changed)")
        console.warn(f"left on {pull.head}, the head of PR #{pull.number}, to look at the "
                     f"failure; {back}")
    elif repo.dirty_paths():
        console.warn(f"left on {pull.head}, the head of PR #{pull.number}, with uncommitted "
                     f"results; {back}")
    else:
        try:
            with console.step(f"Back to {start} (its commit and DVC outputs)"):
                repo.checkout(start)
                dvc_checkout(root, [])
        except DvcError as exc:
            console.warn(f"on {start} again, but not all its DVC outputs are here "
                         f"({exc.message}); `dvc pull` fetches them")


def _start(config: ProjectConfig, repo: GitRepo, forge: Forge, request: PrRequest,
           context: CiContext | None) -> tuple[PrRun, str | None]:
    """Find the open PR, check out its head, set the pending status: the run, and the path
    of the base's sealed holdout (checked before anything is pushed)."""
    number = request.number if request.number is not None else \
        context.pull_number if context is not None else None
    pull = find_pull(forge, config, repo, number, context)
    if pull.state != "open":
        raise UsageError(f"{config.forge.repo}#{pull.number} is {pull.state}; "
                         "only open pull requests are checked")
    _checkout_head(repo, forge, pull)
    holdout = check_pr_holdout(config, repo, f"origin/{pull.base}")
    # Statuses go on what was fetched: the branch may have moved since the event.
    run = PrRun(config, repo, forge, replace(pull, head_sha=repo.head_sha()),
                request.report_id, context.run_url if context is not None else None)
    run.target.status(run.pull.head_sha, "pending", "training and evaluating")
    return run, holdout


def _evaluate(run: PrRun, request: PrRequest, committed: bool, stages: tuple[StageCost, ...],
              update: BranchUpdate) -> PrCheck:
    """Compare the trained head with the merge base, comment and set the status."""
    config, repo, pull = run.config, run.repo, run.pull
    head_sha = repo.head_sha()
    fetch_records(repo, run.forge.git_env())
    record = _record_cost(run, head_sha, stages) if request.commit_results else None
    # The PR's own changes: from where it meets its base (the base's tip once up to date).
    merge_base = repo.merge_base(f"origin/{pull.base}", head_sha) or f"origin/{pull.base}"
    base = snapshot(repo, config.root, merge_base, pull.base)
    head = snapshot(repo, config.root, head_sha if request.commit_results else None,
                    f"PR #{pull.number}")
    comparison = compare_trusted(config, repo, base, head, request.options,
                                 head_record=record)
    try:
        comparison = score_pr_holdout(config, base, comparison)
    except (ConfigError, DvcError) as exc:  # an unreadable holdout: no pending status left
        run.fail(f"sealed holdout: {exc.message}", head_sha)
        raise
    if request.html is not None:
        write_html(request.html, comparison)
    body = _with_update_line(render_comment(comparison, report_id=run.report_id, artifact=(
        request.html.name if request.html else None)), update)
    comment, created = run.target.comment(pull.number, body)
    run.target.verdict(head_sha, comparison, body)
    return PrCheck(pull, comparison, comment, created, head_sha, committed, update)
