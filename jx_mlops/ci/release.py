"""`jx-mlops ci release`: after a merge, register each model and promote it onward.

Idempotent: a commit that already carries a version tag reuses it, and an environment
that already runs that version is left alone, so re-running a release changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.config import ProjectConfig
from jx_mlops.evaluate import default_branch_ref
from jx_mlops.forge import open_forge
from jx_mlops.git import GitRepo
from jx_mlops.promote.promotion import PromotionResult, promote_version
from jx_mlops.versions import Registration, register_model


@dataclass(frozen=True)
class ReleaseResult:
    """What a release registered and promoted."""

    commit: str
    registrations: tuple[Registration, ...]
    promotions: tuple[PromotionResult, ...]


def run_release(config: ProjectConfig, *, ref: str | None = None,
                run_url: str | None = None) -> ReleaseResult:
    """Register every model at ``ref`` (default: the remote default branch) and promote
    new versions to the first environment; ``run_url`` (the CI run) goes in the lineage."""
    forge = open_forge(config.forge)
    repo = GitRepo.open(config.root)
    try:
        with console.step("Fetching the merged default branch and registry tags"):
            repo.fetch("origin", tags=True, env=forge.git_env())
        commit = repo.rev_parse(ref or default_branch_ref(repo)[0])
        merged = forge.pulls_for_commit(config.forge.repo, commit)
        source_pull = merged[0].number if merged else None
        registrations = []
        for model in config.models:
            reg = register_model(config, repo, model, commit, source_pull=source_pull,
                                 run_url=run_url, skip_unchanged=True)
            if reg.created:
                repo.push("origin", [f"refs/tags/{reg.version.tag}"], env=forge.git_env())
            registrations.append(reg)
        promotions = []
        first = config.environments[0] if config.environments else None
        for reg in registrations:
            if first is None or reg.unchanged_since is not None:
                continue
            with console.step(f"Promoting {reg.version.tag} to {first.name}"):
                promotions.append(promote_version(forge, first, reg.version))
        return ReleaseResult(commit, tuple(registrations), tuple(promotions))
    finally:
        repo.close()
