"""`ci pr --output DIR` and `ci publish DIR`: the fork-safe split of the PR check.

A pull request from a fork must never reach a secret, so on GitHub the check runs in two
workflows (docs/security.md):

1. ``mlops-pr.yml`` (``pull_request``, read-only token, no secrets) trains the PR as
   checked out and writes the report to a directory (``write_pr_report``), uploaded as
   an artifact. Nothing is posted and nothing is pushed.
2. ``mlops-comment.yml`` (``workflow_run``, may write, never checks out the PR) reads that
   artifact as *untrusted data* (``publish_pr_report``): it checks every field, re-renders
   the comment itself (so the PR's code cannot put arbitrary markdown in a bot comment),
   and posts it only on the pull request whose head is the commit the run was for.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jx_mlops import console
from jx_mlops.ci.context import CiContext
from jx_mlops.ci.fork_report import (
    COMMENT_FILE,
    FORK_TRUSTED_NOTE,
    HTML_FILE,
    REPORT_FILE,
    REPORT_SCHEMA,
    read_pr_report,
)
from jx_mlops.ci.holdoutscore import score_fork_holdout, write_exports
from jx_mlops.ci.pr import PrRequest
from jx_mlops.ci.verdict import ReportTarget, verdict_state
from jx_mlops.compare.comparison import Comparison, Revision
from jx_mlops.compare.trusted import judged_by
from jx_mlops.config.project import ProjectConfig
from jx_mlops.errors import ForgeError, GitError, UsageError
from jx_mlops.evaluation.build import write_html
from jx_mlops.evaluation.runrecords import fetch_records, make_record, measured_repro
from jx_mlops.evaluation.snapshot import default_branch_ref, snapshot
from jx_mlops.evaluation.trusted import compare_trusted, run_cache_allowed
from jx_mlops.forge.base import CheckRun, Comment, CommitStatus, Forge, PullRequest
from jx_mlops.forge.kinds import git_credentials
from jx_mlops.git.repo import GitRepo
from jx_mlops.report.jsonout import comparison_to_json
from jx_mlops.report.markdown import render_comment


@dataclass(frozen=True)
class PrReport:
    """A PR's evaluation, computed where nothing may be posted."""

    repo: str
    pull_number: int
    head_sha: str
    base_sha: str
    comparison: Comparison
    directory: Path


@dataclass(frozen=True)
class Publication:
    """What ``ci publish`` posted."""

    repo: str
    pull_number: int
    head_sha: str
    comment: Comment
    comment_created: bool
    status: CommitStatus
    check_run: CheckRun
    comparison: Comparison


# -- 1. train and write (untrusted side, no credentials needed) -----------------------------


def ensure_commit(repo: GitRepo, sha: str | None, ref: str | None,
                  env: dict[str, str]) -> str:
    """The base commit, fetched when a shallow clone lacks it; returns its sha."""
    resolved = repo.try_rev_parse(sha) if sha else None
    if resolved:
        return resolved  # a sha, never the name it was given ("origin/main")
    if sha:
        try:  # GitHub and git >= 2.5 servers serve any reachable commit by its sha
            repo.fetch("origin", [sha], depth=1, env=env)
            return repo.rev_parse(sha)
        except GitError:
            pass
    if not ref:
        raise GitError(f"base commit {sha} is not in this clone and no base branch is known")
    try:
        with console.step(f"Fetching the base branch {ref}"):
            repo.fetch("origin", [f"+refs/heads/{ref}:refs/remotes/origin/{ref}"], depth=1,
                       env=env)
    except GitError as exc:
        hint = None if env else "set GITHUB_TOKEN (the job's read-only token is enough)"
        raise GitError(f"the base ({ref}) is not in this clone and fetching it failed: "
                       f"{exc.message}", hint=hint) from None
    return repo.rev_parse(f"origin/{ref}")


def write_pr_report(config: ProjectConfig, context: CiContext, output: Path,
                    request: PrRequest | None = None) -> PrReport:
    """Reproduce the checked-out PR and write its report to ``output`` (posts nothing):
    the JSON ``ci publish`` reads, the comment as it would look, the full HTML report.
    ``request.base`` overrides the event's base; git fetches it with the forge's
    credentials when they are at hand (a fork's run may have none)."""
    request = request or PrRequest()
    number = request.number if request.number is not None else context.pull_number
    if number is None:
        raise UsageError("which pull request? pass --pr N (or run in a pull_request event)")
    git_env = git_credentials(config.forge)
    repo = GitRepo.open(config.root)
    try:
        head_sha = repo.head_sha()
        base, base_ref = request.base, context.base_ref
        if base is None and context.base_sha is None and base_ref is None:
            base, base_ref = default_branch_ref(repo)
        base_sha = ensure_commit(repo, base or context.base_sha, base_ref, git_env)
        if config.compute.remote:  # a fork's code never goes to the team's cluster
            console.warn(f"compute: {', '.join(config.compute.stages)} not handed to "
                         f"{config.compute.backend} for the fork-safe report (it would run "
                         "untrusted code on your cluster): every stage runs here")
        with console.step("Reproducing the pipeline (dvc repro)") as detail:
            stages = measured_repro(config.root, pull=True, on_line=detail,
                                    run_cache=run_cache_allowed(config, repo, base_sha))
        # The cost of this run travels in the artifact (nothing may be pushed from here);
        # the base's comes from the run records already on the remote, if it shares them.
        with contextlib.suppress(GitError):
            fetch_records(repo, git_env)
        record = make_record(head_sha, stages) if any(s.ran for s in stages) else None
        comparison = compare_trusted(
            config, repo, snapshot(repo, config.root, base_sha, base_ref or base_sha[:7]),
            snapshot(repo, config.root, None, f"PR #{number}"), request.options,
            head_record=record)
    finally:
        repo.close()
    comparison = replace(comparison, head=Revision(f"PR #{number}", head_sha))
    if comparison.trusted is not None:  # the comment as `ci publish` will post it
        comparison = replace(comparison, trusted=replace(comparison.trusted,
                                                         where=FORK_TRUSTED_NOTE))
    report = PrReport(context.repo or config.forge.repo, number, head_sha, base_sha,
                      comparison, output)
    _write(report, context.run_url)
    write_exports(config, output)  # for `ci publish` to score on the sealed holdout
    return report


def _write(report: PrReport, run_url: str | None) -> None:
    report.directory.mkdir(parents=True, exist_ok=True)
    data = {"schema": REPORT_SCHEMA, "repo": report.repo, "pull_request": report.pull_number,
            "head_sha": report.head_sha, "base_sha": report.base_sha, "run_url": run_url,
            "comparison": comparison_to_json(report.comparison, every_test=False)}
    (report.directory / REPORT_FILE).write_text(json.dumps(data, indent=2) + "\n",
                                                encoding="utf-8")
    (report.directory / COMMENT_FILE).write_text(render_comment(report.comparison),
                                                 encoding="utf-8")
    write_html(report.directory / HTML_FILE, report.comparison)


# -- 3. publish (trusted side) -------------------------------------------------------------


def _trusted_target(forge: Forge, repo: str, context: CiContext, report: dict[str, Any]
                    ) -> tuple[int, str]:
    """(PR number, head sha) from the event, never from the artifact alone."""
    run = context.workflow_run
    claimed = (report["pull_request"], report["head_sha"])
    if run is None:
        return claimed  # run by hand: the person running it vouches for the directory
    if run.head_sha != report["head_sha"]:
        raise ForgeError(f"the report is for commit {report['head_sha'][:12]} but the "
                         f"workflow run was for {run.head_sha[:12]}: not publishing it")
    # workflow_run lists no pull requests for forks: ask the forge which PR heads there.
    numbers = set(run.pull_numbers) or {
        p.number for p in forge.pulls_for_commit(repo, run.head_sha)
        if p.head_sha == run.head_sha and p.state == "open"} or {
        p.number for p in forge.list_pulls(repo) if p.head_sha == run.head_sha}
    if report["pull_request"] not in numbers:
        raise ForgeError(f"the report claims pull request #{report['pull_request']}, but "
                         f"commit {run.head_sha[:12]} heads "
                         f"{', '.join(f'#{n}' for n in sorted(numbers)) or 'no open pull request'}"
                         ": not publishing it")
    return claimed


def publish_from_directory(directory: Path, context: CiContext, *, repo: str | None = None,
                           config: ProjectConfig | None = None) -> Publication:
    """`ci publish`: the project's forge, or (outside a project) the forge the CI run's
    event names (GitHub Actions: GitHub)."""
    from jx_mlops.forge.base import ForgeConfig
    from jx_mlops.forge.kinds import FORGES, kind_of_provider, open_forge

    kind = kind_of_provider(context.provider)
    if config is not None:
        forge_config = config.forge
    elif kind is not None and context.repo:
        forge_config = ForgeConfig(kind=kind.NAME, repo=context.repo, url=context.api_url)
    else:
        providers = sorted(p for k in FORGES.values() for p in k.CI_PROVIDERS)
        raise UsageError("ci publish runs in a project directory or in a CI run on a forge "
                         f"({', '.join(providers)})")
    name = repo or context.repo or forge_config.repo
    return publish_pr_report(open_forge(forge_config), name, context, directory,
                             config=config)


def _relayed(report: dict[str, Any], pull: PullRequest, head_sha: str) -> Comparison:
    """The artifact's comparison, named after the PR and said to be relayed."""
    comparison: Comparison = replace(report["comparison"],
                                     base=Revision(pull.base, report["base_sha"]),
                                     head=Revision(f"PR #{pull.number}", head_sha))
    if comparison.trusted is not None:  # say where it ran: here we can only relay it
        comparison = replace(comparison, trusted=replace(
            comparison.trusted, where=FORK_TRUSTED_NOTE))
    return comparison


def _run_url(context: CiContext, repo: str) -> str | None:
    """The run that wrote the artifact (the ``workflow_run``), for the statuses' link."""
    if context.workflow_run is None or not context.server_url:
        return None
    return f"{context.server_url}/{repo}/actions/runs/{context.workflow_run.id}"


def publish_pr_report(forge: Forge, repo: str, context: CiContext, directory: Path, *,
                      config: ProjectConfig | None = None) -> Publication:
    """Post the comment, commit status and check run of a report written by the PR run;
    with ``config`` (a checkout of the base), judge the artifact by the base's model list
    and policies (a configured model it lacks fails), and with the base's sealed holdout,
    score the artifact's ONNX exports on it first."""
    report = read_pr_report(directory)
    number, head_sha = _trusted_target(forge, repo, context, report)
    pull = forge.get_pull(repo, number)
    comparison = _relayed(report, pull, head_sha)
    if config is not None:  # a checkout of the base: its mlops.yaml judges the artifact
        comparison = judged_by(comparison, {m.name: m.policy_for for m in config.models},
                               lambda model: f"not in the report artifact, though "
                                             f"{pull.base}'s mlops.yaml configures it")
    if config is not None and config.evaluation.holdout is not None:
        comparison = score_fork_holdout(config, comparison, directory, pull.base)
    target = ReportTarget(forge, repo, run_url=_run_url(context, repo), base=pull.base)
    body = render_comment(comparison, report_id=target.report_id, artifact=HTML_FILE)
    comment, created = target.comment(number, body)
    status = target.status(head_sha, verdict_state(comparison), comparison.verdict.line)
    check = target.check_run(head_sha, comparison, body)
    return Publication(repo, number, head_sha, comment, created, status, check, comparison)
