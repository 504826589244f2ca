"""`jx-mlops ci release`: after a merge, register each model and promote it onward.

Idempotent: a commit that already carries a version tag reuses it, and an environment
that already runs that version is left alone, so re-running a release changes nothing.
Crash-safe: tags are pushed whether or not this run created them (a run killed between
tagging and pushing is completed by the next), and promotions complete as
``jx-mlops promote`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.config.project import ProjectConfig
from jx_mlops.errors import PromotionError, UsageError
from jx_mlops.evaluation.snapshot import default_branch_ref
from jx_mlops.forge.base import Forge
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.promote.actions import project_context
from jx_mlops.promote.ocipush import oci_publisher
from jx_mlops.promote.promotion import (
    PromotionContext,
    PromotionRequest,
    PromotionResult,
    run_promotion,
)
from jx_mlops.registry.registration import Registration, register_model


@dataclass(frozen=True)
class BlockedPromotion:
    """A promotion the release could not make, and why."""

    tag: str
    environment: str
    reason: str


@dataclass(frozen=True)
class ReleaseResult:
    """What a release registered and promoted."""

    commit: str
    registrations: tuple[Registration, ...]
    promotions: tuple[PromotionResult, ...]
    blocked: tuple[BlockedPromotion, ...] = ()


def _register_all(config: ProjectConfig, repo: GitRepo, commit: str, source_pull: int | None,
                  run_url: str | None, git_env: dict[str, str]) -> list[Registration]:
    registrations = []
    oci = oci_publisher(config)
    for model in config.models:
        reg = register_model(config, repo, model, commit, source_pull=source_pull,
                             run_url=run_url, skip_unchanged=True, oci=oci)
        if reg.unchanged_since is None:
            # Pushed even when it already existed here: completes a run killed before this.
            repo.push("origin", [f"refs/tags/{reg.version.tag}"], env=git_env)
        registrations.append(reg)
    return registrations


def _released_commit(repo: GitRepo, ref: str | None) -> str:
    """The commit to release: the default branch's tip, or ``ref`` if it is on that branch.

    A release registers and deploys; only reviewed code gets there, so an unmerged branch
    (or any commit the default branch does not contain) is refused before anything is made.
    """
    default, label = default_branch_ref(repo)
    commit = repo.rev_parse(ref or default)
    if ref and not repo.is_ancestor(commit, repo.rev_parse(default)):
        raise UsageError(f"--ref {ref}: commit {commit[:12]} is not on {label}; a release "
                         "registers and deploys only what was merged",
                         hint="merge its pull request first")
    return commit


def run_release(config: ProjectConfig, *, ref: str | None = None,
                run_url: str | None = None) -> ReleaseResult:
    """Register every model at ``ref`` (default: the remote default branch) and promote
    new versions to the first environment; ``run_url`` (the CI run) goes in the lineage."""
    forge = open_forge(config.forge)
    with project_context(config, forge) as ctx:
        repo = ctx.registry
        assert repo is not None
        commit, registrations = _register_merged(config, forge, repo, ref, run_url)
        promotions, blocked = _promote_new(config, ctx, registrations)
    return ReleaseResult(commit, tuple(registrations), tuple(promotions), tuple(blocked))


def _register_merged(config: ProjectConfig, forge: Forge, repo: GitRepo, ref: str | None,
                     run_url: str | None) -> tuple[str, list[Registration]]:
    with console.step("Fetching the merged default branch and registry tags"):
        repo.fetch("origin", tags=True, env=forge.git_env())
    commit = _released_commit(repo, ref)
    merged = forge.pulls_for_commit(config.forge.repo, commit)
    source_pull = merged[0].number if merged else None
    return commit, _register_all(config, repo, commit, source_pull, run_url, forge.git_env())


def _promote_new(config: ProjectConfig, ctx: PromotionContext,
                 registrations: list[Registration]
                 ) -> tuple[list[PromotionResult], list[BlockedPromotion]]:
    """Promote each new version to the first environment (its repository read once)."""
    promotions: list[PromotionResult] = []
    blocked: list[BlockedPromotion] = []
    first = config.environments[0] if config.environments else None
    for reg in registrations:
        if first is None or reg.unchanged_since is not None:
            continue
        request = PromotionRequest(reg.version.name, first, "promote", reg.version)
        try:
            with console.step(f"Promoting {reg.version.tag} to {first.name}"):
                promotions.append(run_promotion(ctx, request))
        except PromotionError as exc:
            blocked.append(BlockedPromotion(reg.version.tag, first.name, exc.user_message()))
    return promotions, blocked
