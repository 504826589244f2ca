"""The promotion commands as flows: promote, rollback, disable, approve.

Each resolves what the user named (a model of the project, an environment of its
mlops.yaml, a registered version) and runs one change through
:func:`jx_mlops.promote.promotion.run_promotion`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from jx_mlops import console
from jx_mlops.config.project import EnvironmentConfig, ProjectConfig
from jx_mlops.environments.history import LANDING_ACTIONS
from jx_mlops.environments.records import DeploymentRecord, Hold
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.errors import PromotionError
from jx_mlops.forge.base import Forge, PullRequest, can_write
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.promote.gates import Action
from jx_mlops.promote.landing import require_writer
from jx_mlops.promote.promotion import (
    PromotionContext,
    PromotionRequest,
    PromotionResult,
    run_promotion,
)
from jx_mlops.promote.pullbody import requester_of
from jx_mlops.promote.tagcheck import default_branch_tip, refuse_unreleased
from jx_mlops.registry.registration import model_name, resolve_version
from jx_mlops.registry.signatures import project_trust
from jx_mlops.registry.tags import ModelVersion, list_versions, version_key

_ACTIONS: tuple[Action, ...] = ("promote", "rollback")


@contextlib.contextmanager
def project_context(config: ProjectConfig, forge: Forge | None = None
                    ) -> Iterator[PromotionContext]:
    """A promotion context for the project: its forge, environments, models, registry;
    the environment repositories the command opens through it are closed at the end."""
    forge = forge or open_forge(config.forge)
    repo = GitRepo.open(config.root)
    ctx = PromotionContext(forge=forge, environments=config.environments,
                           models={m.name: m for m in config.models}, registry=repo,
                           gto_stages=config.gto_stages, trust=project_trust(config))
    try:
        yield ctx
    finally:
        ctx.close()
        repo.close()


def _registered_version(ctx: PromotionContext, config: ProjectConfig, model: str,
                       version: str) -> ModelVersion:
    """``model``'s registered ``version`` (vX.Y.Z or latest) in the project's registry;
    when this clone does not know it, the forge's tags are fetched once and it is looked
    up again."""
    registry = ctx.registry
    assert registry is not None

    def fetch_tags() -> None:
        with console.step("Fetching registry tags"):
            registry.fetch("origin", tags=True, env=ctx.forge.git_env())

    return resolve_version(config, registry, model, version, fetch=fetch_tags)


def _version(ctx: PromotionContext, config: ProjectConfig, model: str,
             version: str) -> ModelVersion:
    found = _registered_version(ctx, config, model, version)
    assert ctx.registry is not None
    refuse_unreleased(ctx.registry, found,
                      *default_branch_tip(ctx.registry, ctx.forge, config.forge.repo))
    # A record must point at a tag everyone can see (audit checks it on the forge): push it
    # if only this clone has it. A different tag of the same name there is refused by git.
    ctx.registry.push("origin", [f"refs/tags/{found.tag}"], env=ctx.forge.git_env())
    return found


def promote_model(config: ProjectConfig, model: str, version: str, environment: str, *,
                  force: bool = False, forge: Forge | None = None) -> PromotionResult:
    """`jx-mlops promote MODEL --version V --to ENV`."""
    config.model(model)
    env = config.environment(environment)
    with project_context(config, forge) as ctx:
        check_can_change(ctx.environment_repo(env), env, f"promote {model}")
        registered = _version(ctx, config, model, version)
        return run_promotion(ctx, PromotionRequest(model, env, "promote", registered, force))


def run_step(ctx: PromotionContext, config: ProjectConfig, model: str,
             env: EnvironmentConfig, version: str, step: int) -> PromotionResult:
    """Move ``version``'s canary in ``env`` to ``step`` percent (what ``verify`` asks once
    a step has held): a pull request of its own, without asking for approvals again."""
    registered = _version(ctx, config, model, version)
    return run_promotion(ctx, PromotionRequest(model, env, "promote", registered, step=step))


def check_can_change(env_repo: EnvironmentRepo, env: EnvironmentConfig, what: str) -> None:
    """Refuse, before anything is fetched or pushed, a user without write on ``env``'s
    repository: promotion, rollback and disable need it whatever the strategy."""
    require_writer(env_repo.forge, env, f"{what} in {env.name}",
                   repo_exists=env_repo.exists)


def _current(env_repo: EnvironmentRepo, env: EnvironmentConfig, model: str
             ) -> tuple[DeploymentRecord | None, list[str]]:
    """The record of ``model`` in ``env`` and the versions it ran there, newest first."""
    if not env_repo.exists:
        return None, []
    record = env_repo.record(model, env.name)
    events = env_repo.events(model=model, environment=env.name)
    return record, [e.version for e in events if e.action in LANDING_ACTIONS]


def rollback_target(record: DeploymentRecord | None, ran: list[str], registered: list[str],
                    model: str, environment: str) -> str:
    """The version to go back to: the one the record says it replaced, else the newest other
    version the history shows there, else the registered version just below the current
    one."""
    if record is None:
        raise PromotionError(f"{model} was never deployed in {environment}; nothing to roll "
                             "back")
    if record.previous_version and record.previous_version != record.version:
        return record.previous_version
    for version in ran:
        if version != record.version:
            return version
    older = [v for v in registered if version_key(v) < version_key(record.version)]
    if older:
        return max(older, key=version_key)
    raise PromotionError(f"no version of {model} older than {record.version} to roll back "
                         f"to in {environment}", hint="name one with --to vX.Y.Z")


def rollback_model(config: ProjectConfig, model: str, environment: str, *,
                   to: str | None = None, force: bool = False, forge: Forge | None = None,
                   reason: str | None = None, emergency: bool = False) -> PromotionResult:
    """`jx-mlops rollback MODEL --env ENV [--to V]`: promote the previous (or given) version
    through the same pull-request path (``emergency``: without waiting for approvals)."""
    config.model(model)
    env = config.environment(environment)
    with project_context(config, forge) as ctx:
        return run_rollback(ctx, config, model, env, to=to, force=force, reason=reason,
                            emergency=emergency)


def run_rollback(ctx: PromotionContext, config: ProjectConfig, model: str,
                 env: EnvironmentConfig, *, to: str | None = None, force: bool = False,
                 reason: str | None = None, emergency: bool = False,
                 hold: Hold | None = None) -> PromotionResult:
    """Roll ``model`` back in ``env`` within a command's context (what ``verify`` and
    ``/rollback`` do, reading the environment repository the command already read);
    ``hold`` is written in the same commit (verify holds what it rolls back)."""
    env_repo = ctx.environment_repo(env)
    check_can_change(env_repo, env, f"roll back {model}")
    if to is None:
        record, ran = _current(env_repo, env, model)
        known = [v.version for v in list_versions(
            ctx.registry, model_name(config, ctx.registry, model))] if ctx.registry else []
        to = rollback_target(record, ran, known, model, env.name)
    registered = _version(ctx, config, model, to)
    return run_promotion(ctx, PromotionRequest(model, env, "rollback", registered, force,
                                               reason=reason, emergency=emergency,
                                               hold=hold))


def disable_model(config: ProjectConfig, model: str, environment: str, *,
                  reason: str | None = None, forge: Forge | None = None) -> PromotionResult:
    """`jx-mlops disable MODEL --env ENV`: the emergency cut-out. Merged at once whatever the
    strategy (by a user with write permission), still recorded."""
    config.model(model)
    env = config.environment(environment)
    with project_context(config, forge) as ctx:
        check_can_change(ctx.environment_repo(env), env, f"disable {model}")
        return run_promotion(ctx, PromotionRequest(model, env, "disable", reason=reason))


def _open_promotions(forge: Forge, env: EnvironmentConfig, model: str,
                     version: str | None) -> list[PullRequest]:
    if version is not None:
        found = []
        for action in _ACTIONS:
            found += forge.list_pulls(env.repo, head=f"{action}/{env.name}/{model}-{version}")
        return found
    prefixes = tuple(f"{a}/{env.name}/{model}-v" for a in _ACTIONS)
    return [p for p in forge.list_pulls(env.repo) if p.head.startswith(prefixes)]


def _parse_branch(head: str, model: str) -> tuple[Action, str]:
    action, _env, rest = head.split("/", 2)
    return ("rollback" if action == "rollback" else "promote"), rest[len(model) + 1:]


def approve_promotion(config: ProjectConfig, model: str, environment: str, *,
                      version: str | None = None, cancel: bool = False) -> PromotionResult:
    """`jx-mlops approve MODEL --env ENV`: comment ``/approve`` on the open promotion PR as
    the current user, then merge it if its gates now pass."""
    config.model(model)
    env = config.environment(environment)
    with project_context(config) as ctx:
        forge = ctx.forge
        if version is not None:  # a version never registered has no promotion to approve
            version = _registered_version(ctx, config, model, version).version
        pulls = _open_promotions(forge, env, model, version)
        if not pulls:
            raise PromotionError(f"no open promotion of {model} in {env.name}"
                                 + (f" for {version}" if version else ""))
        if len(pulls) > 1:
            heads = ", ".join(f"#{p.number} ({p.head})" for p in pulls)
            raise PromotionError(f"several open promotions of {model} in {env.name}: {heads}",
                                 hint="pass --version")
        pull = pulls[0]
        action, wanted = _parse_branch(pull.head, model)
        _registered_version(ctx, config, model, wanted)  # refused before /approve is posted
        _comment_approval(forge, env, pull, cancel)
        registered = _version(ctx, config, model, wanted)
        return run_promotion(ctx, PromotionRequest(model, env, action, registered))


def _comment_approval(forge: Forge, env: EnvironmentConfig, pull: PullRequest,
                      cancel: bool) -> None:
    user = forge.user()
    permission = forge.get_permission(env.repo, user)
    if not can_write(permission):
        raise PromotionError(f"{user} cannot approve {env.repo}#{pull.number}: needs write "
                             f"permission (has {permission})")
    if user == requester_of(pull, forge.poster()) and not cancel:
        who = ("another user with write permission approves (on the local forge, act as "
               "one: JX_MLOPS_USER=NAME jx-mlops approve ...)" if forge.kind == "local" else
               "another user with write permission approves")
        raise PromotionError(f"{user} requested {env.repo}#{pull.number} and cannot approve "
                             "it", hint=who)
    if env.approvers and user not in env.approvers and not cancel:
        raise PromotionError(f"{user} is not among the approvers of {env.name} "
                             f"({', '.join(env.approvers)})")
    forge.create_comment(env.repo, pull.number, "/approve cancel" if cancel else "/approve")
