"""`jx-mlops ci chatops`: run the commands of a pull request comment, for those allowed to.

Only users with write, maintain or admin permission on the repository are obeyed: they
get a reaction on their comment, the action, and a reply saying what happened. Anyone
else gets a polite refusal and nothing else happens. Each comment is answered once: the
reply carries a hidden marker naming the comment (honoured only in replies by the forge's
poster, the account jx-mlops comments as), so re-runs (and Jenkins X, which
passes no comment to its jobs and makes us look for the newest unanswered one) never act
twice on the same words.

``/promote ENV`` and ``/rollback ENV`` run the promotion flows (issue 4), so they land in
the environment repositories' history like any promotion; ``record_history`` keeps the log
of every accepted command (``/retrain`` and ``/report`` too).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from jx_mlops import console
from jx_mlops.ci.chatops_commands import ChatCommand, parse_commands
from jx_mlops.ci.context import CiContext
from jx_mlops.config.project import ProjectConfig
from jx_mlops.errors import GitError, JxMlopsError, NotFoundError, PromotionError, UsageError
from jx_mlops.forge.base import Comment, Forge, PullRequest, can_write
from jx_mlops.forge.kinds import kind_named, open_forge
from jx_mlops.fsutil import file_lock, jx_home
from jx_mlops.git.repo import GitRepo
from jx_mlops.promote.promotion import PromotionResult
from jx_mlops.registry.tags import ModelVersion, list_versions
from jx_mlops.report.mdtext import code

REPLY_MARKER = "<!-- jx-mlops:chatops comment={id} -->"
_REPLY = re.compile(r"^<!-- jx-mlops:chatops comment=(\d+) -->")
_OURS = "<!-- jx-mlops:"


@dataclass(frozen=True)
class CommandOutcome:
    """What became of one command."""

    command: str
    accepted: bool
    ok: bool
    message: str


@dataclass(frozen=True)
class HistoryEntry:
    """One accepted command, as the history keeps it."""

    at: str
    repo: str
    pull_request: int
    comment_id: int
    user: str
    permission: str
    command: str
    ok: bool
    outcome: str


@dataclass(frozen=True)
class ChatopsResult:
    """The comment looked at and what was done; ``skipped`` says why nothing was."""

    repo: str
    pull_number: int | None
    comment_id: int | None
    user: str | None
    permission: str | None
    outcomes: tuple[CommandOutcome, ...] = ()
    reply: Comment | None = None
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        return any(o.accepted and not o.ok for o in self.outcomes)


@dataclass(frozen=True)
class _Request:
    pull: PullRequest
    comment_id: int
    user: str
    body: str


# -- finding the comment -------------------------------------------------------------------


def _answered(comments: list[Comment], poster: str) -> set[int]:
    """The comments jx-mlops replied to: only its own replies count (a reader who types
    the marker naming a maintainer's ``/rollback`` must not silence it)."""
    return {int(m.group(1)) for c in comments if c.author == poster and
            (m := _REPLY.match(c.body))}


def _ours(comment: Comment, poster: str) -> bool:
    return comment.author == poster and comment.body.startswith(_OURS)


def _find_request(forge: Forge, repo: str, context: CiContext, number: int | None,
                  comment_id: int | None) -> tuple[_Request | None, str | None]:
    """The comment to act on, or why there is none."""
    event = context.comment
    if event is not None and not event.on_pull_request:
        return None, "the comment is on an issue, not a pull request"
    number = number if number is not None else context.pull_number
    if number is None:
        raise UsageError("which pull request? pass --pr N (or run on an issue_comment event)")
    pull = forge.get_pull(repo, number)
    comments = forge.list_comments(repo, number)
    poster = forge.poster()
    wanted = comment_id or (event.id if event is not None else None)
    if wanted is not None:
        found = [c for c in comments if c.id == wanted]
        if found:
            chosen = found[0]
        elif event is not None and event.id == wanted:  # listing lags behind the event
            chosen = Comment(event.id, event.author, event.body, "", "")
        else:
            raise NotFoundError(f"comment {wanted} not found on {repo}#{number}")
    else:  # Jenkins X: the newest comment with a command
        candidates = [c for c in comments if not _ours(c, poster) and parse_commands(c.body)]
        if not candidates:
            return None, f"no jx-mlops command in the comments of #{number}"
        chosen = max(candidates, key=lambda c: c.id)
    if chosen.id in _answered(comments, poster):
        return None, f"comment {chosen.id} was already answered"
    if _ours(chosen, poster):
        return None, "the comment is jx-mlops's own"
    return _Request(pull, chosen.id, chosen.author, chosen.body), None


# -- the commands --------------------------------------------------------------------------


def _registered_from(repo: GitRepo, model: str, pull: PullRequest) -> ModelVersion:
    """The version of ``model`` that merging ``pull`` registered."""
    if pull.state != "merged":
        raise PromotionError(f"#{pull.number} is not merged yet, so no version was "
                             "registered from it (merge it; the release registers one)")
    for version in reversed(list_versions(repo, model)):
        if version.metadata.get("source_pull") == pull.number or \
                version.commit == pull.merge_commit_sha:
            return version
    raise PromotionError(f"no version of {model} was registered from #{pull.number} "
                         "(its merge did not change the model, or the release has not run)")


def _promote(config: ProjectConfig, forge: Forge, pull: PullRequest, env_name: str) -> str:
    from jx_mlops.promote.actions import project_context
    from jx_mlops.promote.promotion import PromotionRequest, run_promotion
    from jx_mlops.promote.tagcheck import default_branch_tip, refuse_unreleased

    env = config.environment(env_name)
    lines = []
    with project_context(config, forge) as ctx:
        assert ctx.registry is not None
        ctx.registry.fetch("origin", tags=True, env=forge.git_env())
        versions = [_registered_from(ctx.registry, m.name, pull) for m in config.models]
        tip = default_branch_tip(ctx.registry, forge, config.forge.repo)
        for version in versions:
            refuse_unreleased(ctx.registry, version, *tip)
            result = run_promotion(ctx, PromotionRequest(version.name, env, "promote",
                                                         version))
            lines.append(_promotion_line(result, env.repo))
    return "; ".join(lines)


def _promotion_line(result: PromotionResult, repo: str) -> str:
    if result.already_deployed:
        return f"{result.model} {result.version} already runs in {result.environment}"
    waiting_for = [g.gate for g in result.gates if g.status != "pass"]
    state = "merged" if result.merged else "waiting for review" \
        if waiting_for == ["approvals"] else f"waiting ({', '.join(waiting_for)})"
    number = f"#{result.pull.number} " if result.pull else ""
    change = f"{result.previous} -> {result.version} in {result.environment}" \
        if result.action == "rollback" else f"{result.version} -> {result.environment}"
    return f"{result.model} {change}: {repo}{number}{state}"


def rollback_environment(config: ProjectConfig, forge: Forge, env_name: str) -> str:
    """Roll each model of the project back to its previous version in ``env_name`` through
    the promotion pull-request path (``jx-mlops rollback``); returns what was done."""
    from jx_mlops.promote.actions import project_context, run_rollback

    env = config.environment(env_name)
    with project_context(config, forge) as ctx:  # the environment's repository, read once
        results = [run_rollback(ctx, config, model.name, env) for model in config.models]
    return "; ".join(_promotion_line(result, env.repo) for result in results)


def _refresh_report(config: ProjectConfig, forge: Forge, pull: PullRequest) -> str:
    """Re-post the evaluation comment from the results committed on the PR (no training)."""
    from jx_mlops.ci.holdoutscore import score_revision_holdout
    from jx_mlops.evaluation.snapshot import snapshot
    from jx_mlops.evaluation.trusted import compare_trusted
    from jx_mlops.forge.comments import upsert_marked_comment
    from jx_mlops.report.markdown import marker, render_comment

    repo = GitRepo.open(config.root)
    try:
        repo.fetch("origin", [f"+refs/heads/{pull.base}:refs/remotes/origin/{pull.base}"],
                   env=forge.git_env())
        if not _head_is_a_branch_here(repo, forge, pull):
            # The base's trusted stage would load this PR's model (a pickle) with this
            # job's credentials; a fork's is scored from its ONNX export by `ci publish`.
            raise JxMlopsError(
                f"not refreshed: the head of #{pull.number} ({pull.head_sha[:12]}) is not a "
                f"branch of {config.forge.repo} (a fork's): /report never loads a fork's "
                "model in this job; re-run the PR's workflow (`ci publish` scores its ONNX "
                "export)")
        # Scored again by the base's trusted stage, if any: a refresh must not turn the
        # comment back into the PR's own account of itself.
        base = snapshot(repo, config.root, f"origin/{pull.base}", pull.base)
        head = snapshot(repo, config.root, pull.head_sha, f"PR #{pull.number}")
        comparison = compare_trusted(config, repo, base, head)
        # And on the sealed holdout, if the base has one: the refreshed comment must not
        # lose the rows `ci pr` judged the PR by.
        comparison = score_revision_holdout(config, base, head, comparison)
    finally:
        repo.close()
    upsert_marked_comment(forge, config.forge.repo, pull.number, marker(),
                          render_comment(comparison))
    return f"evaluation comment refreshed: {comparison.verdict.line}"


def _head_is_a_branch_here(repo: GitRepo, forge: Forge, pull: PullRequest) -> bool:
    """Fetch the PR's head; whether it is the tip of its branch in this repository (pushed
    by someone who can write here), rather than a fork's commit the forge keeps."""
    try:
        repo.fetch("origin", [f"+refs/heads/{pull.head}:refs/remotes/origin/{pull.head}"],
                   env=forge.git_env())
        if repo.try_rev_parse(f"refs/remotes/origin/{pull.head}") == pull.head_sha:
            return True
    except GitError:
        pass
    kept = kind_named(forge.kind).PULL_HEAD_REF
    if kept is None:
        raise JxMlopsError(f"the head of #{pull.number} ({pull.head_sha[:12]}) is not on "
                             f"branch {pull.head} of the repository")
    # A fork's branch is not in this repository; the forge keeps every PR head here.
    repo.fetch("origin", [f"+{kept.format(number=pull.number)}:refs/remotes/origin/pr/"
                          f"{pull.number}"], env=forge.git_env())
    return False


def _retrain(config: ProjectConfig, pull: PullRequest, context: CiContext) -> str:
    from jx_mlops.ci.pr import PrRequest, run_pr_check

    check = run_pr_check(config, PrRequest(number=pull.number), context)
    return (f"trained {check.head_sha[:12]}: {check.comparison.verdict.line} (evaluation "
            "comment updated)")


def _run(command: ChatCommand, config: ProjectConfig, forge: Forge, pull: PullRequest,
         context: CiContext) -> str:
    if command.name == "retrain":
        return _retrain(config, pull, context)
    if command.name == "report":
        return _refresh_report(config, forge, pull)
    if command.name == "promote":
        return _promote(config, forge, pull, command.args[0])
    return rollback_environment(config, forge, command.args[0])


# -- history and replies -------------------------------------------------------------------


def record_history(entries: list[HistoryEntry]) -> None:
    """SEAM (issue 4): write accepted commands to the promotion history.

    Provisional: appends them as JSON lines to ``$JX_MLOPS_HOME/history/chatops.jsonl``;
    the durable record on the forge is the hidden JSON in the reply comment. The lead
    points this at the promotions history at merge time.
    """
    path = jx_home() / "history" / "chatops.jsonl"
    with file_lock(path.with_suffix(".lock")), path.open("a", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(asdict(entry), sort_keys=True) + "\n")


def _refusal(user: str, repo: str, permission: str, commands: list[ChatCommand]) -> str:
    texts = ", ".join(code(c.text) for c in commands)
    return (f"Thanks @{_login(user)}. {texts} can only be run by people with write access to "
            f"{code(repo)}, and you have {permission} access, so nothing was done. "
            "A maintainer can run it for you.")


def _login(user: str) -> str:
    """A login safe to mention: GitHub logins are letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9-]", "", user) or "there"


def _reply_body(request: _Request, outcomes: list[CommandOutcome], refused: str | None,
                history: list[HistoryEntry]) -> str:
    lines = [REPLY_MARKER.format(id=request.comment_id)]
    if refused is not None:
        lines.append(refused)
    else:
        lines.append(f"@{_login(request.user)}:")
        lines += [f"- {'✅' if o.ok else '❌'} {code(o.command)}: {code(o.message)}"
                  for o in outcomes]
    if history:
        data = json.dumps([asdict(e) for e in history]).replace("--", "\\u002d\\u002d")
        lines += ["", f"<!-- jx-mlops:history {data} -->"]
    return "\n".join(lines) + "\n"


# -- the flow ------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unique_commands(commands: list[ChatCommand]) -> list[ChatCommand]:
    """Each command once, in first-seen order: ten ``/retrain`` lines are one training."""
    seen: set[str] = set()
    unique = []
    for command in commands:
        if command.text not in seen:
            seen.add(command.text)
            unique.append(command)
    return unique


def run_chatops(config: ProjectConfig, context: CiContext, *, number: int | None = None,
                comment_id: int | None = None) -> ChatopsResult:
    """Act on the comment of the event (or the newest unanswered one on PR ``number``)."""
    forge = open_forge(config.forge)
    repo = config.forge.repo
    request, skipped = _find_request(forge, repo, context, number, comment_id)
    if request is None:
        return ChatopsResult(repo, number or context.pull_number, comment_id, None, None,
                             skipped=skipped)
    commands = unique_commands(parse_commands(request.body))
    base = ChatopsResult(repo, request.pull.number, request.comment_id, request.user, None)
    if not commands:
        return _skip(base, f"no jx-mlops command in comment {request.comment_id}")
    permission = forge.get_permission(repo, request.user)
    if not can_write(permission):
        refusal = _refusal(request.user, repo, permission, commands)
        reply = forge.create_comment(repo, request.pull.number,
                                     _reply_body(request, [], refusal, []))
        refused = tuple(CommandOutcome(c.text, False, False, "refused") for c in commands)
        return _done(base, permission, refused, reply)
    forge.add_reaction(repo, request.comment_id, "+1")
    outcomes = [_execute(c, config, forge, request.pull, context) for c in commands]
    history = [HistoryEntry(_now(), repo, request.pull.number, request.comment_id,
                            request.user, permission, o.command, o.ok, o.message)
               for o in outcomes]
    record_history(history)
    if not any(o.ok for o in outcomes):
        forge.add_reaction(repo, request.comment_id, "confused")
    reply = forge.create_comment(repo, request.pull.number,
                                 _reply_body(request, outcomes, None, history))
    return _done(base, permission, tuple(outcomes), reply)


def _execute(command: ChatCommand, config: ProjectConfig, forge: Forge, pull: PullRequest,
             context: CiContext) -> CommandOutcome:
    if command.problem:
        return CommandOutcome(command.text, True, False, command.problem)
    console.info(f"Running {command.text} for #{pull.number}")
    try:
        return CommandOutcome(command.text, True, True,
                              _run(command, config, forge, pull, context))
    except JxMlopsError as exc:
        return CommandOutcome(command.text, True, False, exc.user_message())


def _skip(base: ChatopsResult, why: str) -> ChatopsResult:
    return ChatopsResult(base.repo, base.pull_number, base.comment_id, base.user, None,
                         skipped=why)


def _done(base: ChatopsResult, permission: str, outcomes: tuple[CommandOutcome, ...],
          reply: Comment) -> ChatopsResult:
    return ChatopsResult(base.repo, base.pull_number, base.comment_id, base.user, permission,
                         outcomes, reply)
