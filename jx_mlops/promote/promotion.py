"""Promotion: a pull request on an environment repository that changes one model.

The change is one commit on a branch named after what it does
(``promote/ENV/MODEL-VERSION``), built in a cached bare mirror of the environment
repository without a work tree (its cost does not grow with the repository's history);
re-running a promotion finds and reuses the same branch and pull request.

Landing is crash- and concurrency-safe: the branch is rebuilt on the environment's latest
tip (record, model card and manifests recomputed from the change, not replayed as a
patch), force-pushed, and merged by the forge with a compare-and-swap of the default
branch; a conflict (another promotion landed first) is retried from a fresh tip. The
default branch therefore only ever moves by whole merges: a process killed at any point
leaves it consistent, and running the command again completes the job.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import cast

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig, ModelConfig
from jx_mlops.environments.history import served_window
from jx_mlops.environments.locks import recovered_locks, serialized
from jx_mlops.environments.records import DeploymentRecord, Hold, card_path, record_path, with_hold
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.errors import ConflictError, GitError, PromotionError
from jx_mlops.failpoints import failpoint
from jx_mlops.forge.base import Forge, PullRequest, StatusState, can_write
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import commit_identity
from jx_mlops.promote import change, stage_tags
from jx_mlops.promote.canary import canary_suffix, canary_target
from jx_mlops.promote.freezes import through_freeze
from jx_mlops.promote.gate_facts import (
    against_deployed,
    artifact_states,
    source_evaluation,
    verified_state,
)
from jx_mlops.promote.gates import (
    Action,
    Approvals,
    GateInputs,
    GateResult,
    RequiredState,
    commenters,
    evaluate_gates,
    overall,
    tally_approvals,
)
from jx_mlops.promote.holds import refuse_held
from jx_mlops.promote.manifests import serving_changes, serving_inputs
from jx_mlops.promote.pullbody import Side, compare_versions, render_body, requester_of
from jx_mlops.registry.tags import ModelVersion, find_version
from jx_mlops.signing import Trust

GATES_CONTEXT = "jx-mlops/gates"
_LAND_ATTEMPTS = 25


@dataclass(frozen=True)
class PromotionContext:
    """What a promotion needs besides the request: the forge, the project's environments
    and models, and its registry (for the params of the version deployed now)."""

    forge: Forge
    environments: tuple[EnvironmentConfig, ...]
    models: Mapping[str, ModelConfig] = field(default_factory=dict)
    registry: GitRepo | None = None
    gto_stages: bool = True  # mirror what lands as GTO stage tags in the registry
    trust: Trust = field(default_factory=Trust)  # whose model signatures are accepted
    # The environment repositories this command opened, by name: each is fetched once
    # for reading, whatever the number of models and flows that read it.
    environment_repos: dict[str, EnvironmentRepo] = field(default_factory=dict)

    def environment_repo(self, env: EnvironmentConfig, *, verification: bool = False
                         ) -> EnvironmentRepo:
        """The command's one :class:`EnvironmentRepo` of ``env``'s repository
        (``verification``: its verification notes will be read)."""
        found = self.environment_repos.get(env.repo)
        if found is None:
            found = self.environment_repos[env.repo] = EnvironmentRepo(self.forge, env.repo)
        if verification:
            found.expect_verification()
        return found

    def close(self) -> None:
        for repo in self.environment_repos.values():
            repo.close()


@dataclass(frozen=True)
class PromotionRequest:
    """Promote/roll back ``version`` of ``model`` in ``environment``, or disable it."""

    model: str
    environment: EnvironmentConfig
    action: Action = "promote"
    version: ModelVersion | None = None
    force: bool = False
    reason: str | None = None
    # Failed verification's rollback: no approvals (gates still stop it); PR, history say so.
    emergency: bool = False
    step: int | None = None  # a canary's next step, asked by verify (approved at the first)
    hold: Hold | None = None  # verify's: the failed version held in the same commit


@dataclass(frozen=True)
class PromotionResult:
    """What a promotion did: the pull request, and whether it is merged (live) already."""

    environment: str
    model: str
    version: str
    pull: PullRequest | None
    merged: bool
    already_deployed: bool = False
    action: str = "promote"
    gates: tuple[GateResult, ...] = ()
    forced: bool = False
    previous: str | None = None  # what ran there before (None: nothing)

    @property
    def waiting(self) -> bool:
        return self.pull is not None and not self.merged


def run_promotion(ctx: PromotionContext, request: PromotionRequest) -> PromotionResult:
    """Open (or reuse) the change's pull request, and merge it when its gates pass."""
    env = request.environment
    if env.strategy == "never" and request.action != "disable":
        raise PromotionError(f"environment {env.name} has strategy 'never': nothing is promoted "
                             "there (change mlops.yaml to allow it)")
    with serialized(ctx.forge, env.repo, request.model):
        env_repo = ctx.environment_repo(env)
        if env_repo.create_if_missing(env.name):
            console.info(f"Created environment repository {env.repo}")
        # Fetched again, under the lock, even if this command read the repository before:
        # a concurrent run of this change that finished meanwhile must be found (deployed
        # already, or its pull request open), not redone on an older tip.
        env_repo.latest()
        result = _Promotion(ctx, request, env_repo).run()
        record_gto_stage(ctx, request, result)
    return result


def record_gto_stage(ctx: PromotionContext, request: PromotionRequest,
                     result: PromotionResult) -> None:
    """Write the GTO stage tag for a change that landed (see ``stage_tags``)."""
    if not (ctx.gto_stages and result.merged and ctx.registry is not None):
        return
    env, git_env = request.environment.name, ctx.forge.git_env()
    details: dict[str, object] = {"environment": env, "action": request.action,
                                  "environment_repo": request.environment.repo}
    if result.pull is not None:
        details["pull_request"] = result.pull.number
    if request.action == "disable":
        for name in stage_tags.registry_names(ctx.registry, request.model):
            stage_tags.unassign_stage(ctx.registry, name, env, git_env=git_env,
                                     details=details)
    elif request.version is not None:
        stage_tags.assign_stage(ctx.registry, request.version, env, git_env=git_env,
                               details=details)


class _Promotion:
    """One run of one change; each method is one step of it."""

    def __init__(self, ctx: PromotionContext, request: PromotionRequest,
                 env_repo: EnvironmentRepo) -> None:
        self.ctx, self.request, self.env_repo = ctx, request, env_repo
        self.base_branch = env_repo.branch
        self.env = request.environment
        self.forge = ctx.forge
        self.previous: str | None = None

    # -- the flow -------------------------------------------------------------------------

    def run(self) -> PromotionResult:
        self._check_authorized()
        current = self.env_repo.record(self.request.model, self.env.name)
        self.previous = current.version if current is not None and current.serving else None
        target = canary_target(self.env, current, self._target(current), self.request.step)
        self.branch = change.branch_name(self.request.action, self.env.name, target.model,
                                         target.version + canary_suffix(target))
        if self._already_done(current, target):
            return self._finish_leftover(target)
        if self.request.action != "disable":
            refuse_held(self.env_repo, self.env.name, target.model, target.version)
            target = through_freeze(self.env_repo, target, emergency=self.request.emergency)
        pull = self._open_pull()
        if pull is not None:  # whoever lands it, the promotion is its requester's
            target = replace(target, promoted_by=requester_of(pull, self.forge.poster()))
        gates = self._gates(target, pull)
        status = overall(gates)
        forced = self.request.force and status != "pass"
        if status == "fail" and not forced:
            self._report(pull, target, current, gates, "failure")
            raise PromotionError(
                f"{self._what(target)} blocked by gates: "
                + "; ".join(f"{g.gate}: {g.detail}" for g in gates if g.status == "fail"),
                hint="fix the cause, or re-run with --force (recorded in the record and "
                     "the history)")
        if forced:
            self._check_can_write("force a promotion past its gates")
        if pull is None:
            pull = self._create_pull(target, current, gates)
        ready = status == "pass" or forced or self.request.action == "disable" or (
            self.request.emergency and status == "pending")
        self._report(pull, target, current, gates, "success" if ready else "pending")
        if not ready:
            self.forge.add_labels(self.env.repo, pull.number, [change.HOLD_LABEL])
            return self._result(target, self.forge.get_pull(self.env.repo, pull.number), gates,
                                merged=False)
        return self._land(target, pull, gates, forced)

    def _what(self, target: DeploymentRecord) -> str:
        verb = {"promote": "promotion", "rollback": "rollback", "disable": "disabling"}
        return f"{verb[self.request.action]} of {target.model} {target.version} in {self.env.name}"

    def _result(self, target: DeploymentRecord, pull: PullRequest | None,
                gates: tuple[GateResult, ...], *, merged: bool, already: bool = False,
                forced: bool = False) -> PromotionResult:
        return PromotionResult(self.env.name, target.model, target.version, pull, merged,
                               already_deployed=already, action=self.request.action,
                               gates=gates, forced=forced, previous=self.previous)

    # -- what the change is ---------------------------------------------------------------

    def _target(self, current: DeploymentRecord | None) -> DeploymentRecord:
        request, user = self.request, self.forge.user()
        if request.action == "disable":
            if current is None:
                raise PromotionError(f"{request.model} is not deployed in {self.env.name}; "
                                     "nothing to disable")
            self._check_can_write("disable a model")
            return change.disabled_record(current, self.env, by=user, reason=request.reason)
        assert request.version is not None
        target = change.record_from_version(request.version, self.env, by=user,
                                            action=request.action)
        if request.reason:
            target = replace(target, reason=request.reason)
        if current is not None and (current.source_repo, current.registry_name or current.model) \
                != (target.source_repo, target.registry_name):
            raise PromotionError(
                f"models/{current.model}.yaml in {self.env.name} belongs to "
                f"{current.registry_name or current.model} of {current.source_repo}; model "
                "names must be unique within an environment")
        return target

    def _already_done(self, current: DeploymentRecord | None, target: DeploymentRecord) -> bool:
        if current is None:
            return False
        if target.action == "disable":
            return not current.serving
        return current.serving and (current.version, current.rollout) == (target.version,
                                                                          target.rollout)

    def _finish_leftover(self, target: DeploymentRecord) -> PromotionResult:
        """Nothing to change; an open PR for this change is one a killed run left behind
        after its merge landed (or another run did the job): settle it."""
        leftover = self._find_pull()
        if leftover is not None:
            console.info(f"Settling {self.env.repo}#{leftover.number}: its change is live")
            try:
                leftover = self.forge.merge_pull(self.env.repo, leftover.number)
            except ConflictError:
                leftover = self.forge.update_pull(self.env.repo, leftover.number, state="closed")
        return self._result(target, leftover, (), merged=True, already=True)

    # -- gates --------------------------------------------------------------------------

    def _gates(self, target: DeploymentRecord, pull: PullRequest | None
               ) -> tuple[GateResult, ...]:
        approvals = self._approvals(pull) if pull is not None else Approvals()
        # The evaluation gate guards every environment after the first (the first is where
        # each merge lands: its PR check already was the gate).
        later = self.env.name != self.ctx.environments[0].name
        evaluation = source_evaluation(self.forge, target) if later else None
        deployed = against_deployed(
            self.env_repo.record(target.model, self.env.name), target,
            self.ctx.models.get(target.model), self.env.name) if later else None
        env = self.env if self.request.step is None else replace(self.env, approvals=0)
        inputs = GateInputs(env=env, action=self.request.action, version=target.version,
                            metrics=target.metrics, required=self._required_state(target),
                            approvals=approvals, now=time.time(), evaluation=evaluation,
                            against_deployed=deployed, **artifact_states(
                                self.env, target, self.ctx.trust, later=later,
                                action=self.request.action))
        return evaluate_gates(inputs)

    def _approvals(self, pull: PullRequest) -> Approvals:
        comments = [(c.author, c.body) for c in self.forge.list_comments(self.env.repo,
                                                                         pull.number)]
        permissions = {login: str(self.forge.get_permission(self.env.repo, login))
                       for login in commenters(comments)}
        return tally_approvals(comments, requester_of(pull, self.forge.poster()),
                               permissions, self.env.approvers)

    def _required_state(self, target: DeploymentRecord) -> RequiredState | None:
        required = self.env.requires
        if required is None or self.request.action != "promote":
            return None
        env = next(e for e in self.ctx.environments if e.name == required)
        env_repo = self.ctx.environment_repo(env, verification=env.verify is not None)
        if not env_repo.exists:
            return RequiredState(required, None)
        record = env_repo.record(target.model, env.name)
        running = record.version if record is not None and record.serving else None
        events = env_repo.events(model=target.model, environment=env.name)
        start, end = served_window(events, target.version)
        if running == target.version and record is not None:
            start, end = _epoch(record.promoted_at), None
        state = RequiredState(required, running, start, end)
        if env.verify is not None:
            state = verified_state(env_repo, events, target.version, state)
        return state

    def _check_authorized(self) -> None:
        """Every change of an environment needs write on its repository, whatever the
        strategy: an auto environment merges by itself, so this is the only check."""
        verb = {"promote": "promote", "rollback": "roll back", "disable": "disable"}
        self._check_can_write(f"{verb[self.request.action]} {self.request.model}")

    def _check_can_write(self, what: str) -> None:
        user = self.forge.user()
        permission = self.forge.get_permission(self.env.repo, user)
        if not can_write(permission):
            raise PromotionError(f"{user} cannot {what} in {self.env.name}: needs write "
                                 f"permission on {self.env.repo} (has {permission})")

    # -- the pull request ---------------------------------------------------------------

    def _find_pull(self) -> PullRequest | None:
        pulls = self.forge.list_pulls(self.env.repo, head=self.branch, base=self.base_branch)
        return pulls[0] if pulls else None

    def _open_pull(self) -> PullRequest | None:
        pull = self._find_pull()
        if pull is not None:
            console.info(f"Reusing open pull request {self.env.repo}#{pull.number}")
        return pull

    def _build(self, target: DeploymentRecord, current: DeploymentRecord | None,
               pull: int | None, gates: tuple[GateResult, ...], approved_by: tuple[str, ...],
               forced: bool) -> tuple[str, DeploymentRecord]:
        """The change as a commit on the current tip; returns (commit, final record)."""
        repo = self.env_repo.git
        base = repo.rev_parse(self.base_branch)
        record = change.finalize(target, current=current, pull=pull, gates=gates,
                                 approved_by=approved_by, forced=forced)
        serving_now = repo.read_blobs(base, serving_inputs(record.model, self.env))
        files = change.files_for(record, self.env, self.ctx.models.get(record.model),
                                 serving_now)
        files.update(with_hold(repo, base, self.request.hold) if self.request.hold else {})
        return repo.commit_files(base, files, change.commit_message(record),
                                 env=commit_identity(self.forge.user())), record

    def _push(self, commit: str) -> None:
        # The branch belongs to this change alone: a stale copy from a killed run is replaced.
        refspec = f"+{commit}:refs/heads/{self.branch}"
        try:
            self.env_repo.push([refspec])
        except GitError:
            if not recovered_locks(self.forge, self.env.repo):
                raise
            self.env_repo.push([refspec])

    def _create_pull(self, target: DeploymentRecord, current: DeploymentRecord | None,
                     gates: tuple[GateResult, ...]) -> PullRequest:
        commit, record = self._build(target, current, None, gates, (), False)
        self._push(commit)
        failpoint("pushed")
        try:
            pull = self.forge.create_pull(
                self.env.repo, title=change.title(self.request.action, record.model,
                                                  record.version, self.env.name),
                body=self._body(record, current, gates), head=self.branch,
                base=self.base_branch)
        except ConflictError:  # a concurrent run opened it first: use theirs
            found = self._find_pull()
            if found is None:
                raise
            return found
        failpoint("pull-created")
        return pull

    def _body(self, record: DeploymentRecord, current: DeploymentRecord | None,
              gates: tuple[GateResult, ...]) -> str:
        serving_now = self.env_repo.git.read_blobs(self.base_branch,
                                           serving_inputs(record.model, self.env))
        files = sorted([record_path(record.model), card_path(record.model),
                        *serving_changes(record, self.env, serving_now)])
        comparison = None
        if record.action != "disable":
            base = None
            if current is not None:
                base = Side(f"{current.version} in {self.env.name}", current.source_commit,
                            current.metrics, self._params(current.registry_name or
                                                          current.model, current.version))
            head_params = self.request.version.metadata.get("params") \
                if self.request.version else None
            head = Side(record.version, record.source_commit, record.metrics, head_params)
            comparison = compare_versions(record.model, self.ctx.models.get(record.model),
                                          base, head)
        return render_body(record, current, comparison, gates, forced=self.request.force,
                           files=files)

    def _params(self, name: str, version: str) -> dict[str, dict[str, object]] | None:
        if self.ctx.registry is None:
            return None
        found = find_version(self.ctx.registry, name, version)
        params = found.metadata.get("params") if found else None
        return params if isinstance(params, dict) else None

    def _report(self, pull: PullRequest | None, target: DeploymentRecord,
                current: DeploymentRecord | None, gates: tuple[GateResult, ...],
                state: str) -> None:
        """Labels, body and the gates' commit status of an existing PR, kept current."""
        if pull is None:
            return
        self.forge.add_labels(self.env.repo, pull.number,
                              change.labels(self.request.action, target.model, self.env.name))
        body = self._body(target, current, gates)
        if pull.body != body:
            self.forge.update_pull(self.env.repo, pull.number, body=body)
        self.forge.set_status(self.env.repo, pull.head_sha, state=cast(StatusState, state),
                              context=GATES_CONTEXT, description=_describe(gates, False))
        failpoint("reported")

    # -- landing ------------------------------------------------------------------------

    def _land(self, target: DeploymentRecord, pull: PullRequest,
              gates: tuple[GateResult, ...], forced: bool) -> PromotionResult:
        approved = self._approvals(pull).approved_by if self.env.strategy == "manual" else ()
        for attempt in range(_LAND_ATTEMPTS):
            if attempt:
                self._refresh()
            current = self.env_repo.record(target.model, self.env.name)
            if attempt and self._already_done(current, target):
                return self._finish_leftover(target)
            commit, _record = self._build(target, current, pull.number, gates, approved, forced)
            self._push(commit)
            failpoint("rebuilt")
            # On the commit that merges: branch protection requiring the check sees it.
            self.forge.set_status(self.env.repo, commit, state="success", context=GATES_CONTEXT,
                                  description=_describe(gates, forced))
            if change.HOLD_LABEL in pull.labels:
                self.forge.remove_label(self.env.repo, pull.number, change.HOLD_LABEL)
                pull = self.forge.get_pull(self.env.repo, pull.number)
            try:
                merged = self.forge.merge_pull(self.env.repo, pull.number)
            except ConflictError:
                state = self.forge.get_pull(self.env.repo, pull.number).state
                if state != "open":
                    return self._after_conflict(target, pull, state, gates)
                console.info(f"{self.env.repo} moved on; rebuilding #{pull.number} on its new "
                             "tip")
                time.sleep(random.uniform(0.02, 0.1) * min(attempt + 1, 8))
                continue
            failpoint("merged")
            self._delete_branch()
            return self._result(target, merged, gates, merged=True, forced=forced)
        raise PromotionError(f"{self._what(target)}: the environment kept moving "
                             f"({_LAND_ATTEMPTS} attempts)", hint="run the command again")

    def _after_conflict(self, target: DeploymentRecord, pull: PullRequest, state: str,
                        gates: tuple[GateResult, ...]) -> PromotionResult:
        if state == "merged":  # a concurrent run of the same change merged it
            return self._result(target, self.forge.get_pull(self.env.repo, pull.number),
                                gates, merged=True)
        raise PromotionError(f"{self.env.repo}#{pull.number} was closed without merging; "
                             "re-run to open a new one")

    def _refresh(self) -> None:
        # The forge refused the merge: another change landed. Rebuild on its new tip.
        self.env_repo.latest()

    def _delete_branch(self) -> None:
        try:  # best effort, as GitHub's "automatically delete head branches"
            self.env_repo.push([f":refs/heads/{self.branch}"])
        except Exception as exc:  # the merge is done; a leftover branch is harmless
            console.warn(f"could not delete branch {self.branch} of {self.env.repo}: {exc}")


def _describe(gates: tuple[GateResult, ...], forced: bool) -> str:
    failing = [g for g in gates if g.status != "pass"]
    text = "; ".join(f"{g.gate}: {g.status}" for g in failing) or "all gates pass"
    return f"forced past {text}" if forced and failing else text


def _epoch(iso_time: str) -> float:
    return datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()
