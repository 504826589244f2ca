"""Promotion: a pull request on an environment repository that changes one record.

The change is a commit on a branch named after what it does
(``promote/ENV/MODEL-VERSION``), so re-running a promotion finds and reuses the same
branch and pull request instead of opening another. ``auto`` environments merge it at
once; ``manual`` ones leave it for a reviewer; ``never`` refuses.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jx_mlops import console
from jx_mlops.config import EnvironmentConfig
from jx_mlops.errors import PromotionError
from jx_mlops.forge.base import Forge, PullRequest
from jx_mlops.git import GitRepo
from jx_mlops.promote.envrepo import DeploymentRecord, read_record, record_path
from jx_mlops.registry import ModelVersion


@dataclass(frozen=True)
class PromotionResult:
    """What a promotion did: the pull request, and whether it is merged (live) already."""

    environment: str
    model: str
    version: str
    pull: PullRequest | None
    merged: bool
    already_deployed: bool = False


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_record(version: ModelVersion, environment: str, *, by: str, action: str = "promote",
                 forced: bool = False) -> DeploymentRecord:
    """The deployment record for ``version`` from its registry metadata."""
    meta = version.metadata
    artifact = meta.get("artifact", {})
    return DeploymentRecord(
        model=version.model, environment=environment, version=version.version,
        source_repo=str(meta.get("source_repo", "")), source_commit=version.commit,
        tag=version.tag, source_pull=meta.get("source_pull"),
        artifact_path=str(artifact.get("path", "")), artifact_md5=artifact.get("md5"),
        artifact_size=artifact.get("size"), storage=artifact.get("storage"),
        storage_uri=artifact.get("uri"), metrics=dict(meta.get("metrics", {})),
        promoted_by=by, promoted_at=_now(), action=action, forced=forced,
    )


def _title(model: str, version: str, environment: str) -> str:
    return f"chore: promote {model} to {version} in {environment}"


def _body(record: DeploymentRecord, current: DeploymentRecord | None) -> str:
    now = f"`{current.version}`" if current else "nothing"
    lines = [f"Promotes **{record.model}** to `{record.version}` in **{record.environment}** "
             f"(now running: {now}).", "",
             f"- source: `{record.source_repo}` @ `{record.source_commit[:12]}` "
             f"(tag `{record.tag}`)",
             f"- artifact: `{record.artifact_path}` md5 `{record.artifact_md5}`"]
    if record.metrics:
        lines += ["", "| Metric | Value |", "|:--|--:|"]
        for path, values in record.metrics.items():
            for name, value in values.items() if isinstance(values, dict) else []:
                lines.append(f"| {path}: {name} | {value} |")
    return "\n".join(lines) + "\n"


def _commit_record(work: GitRepo, record: DeploymentRecord, branch: str, base: str) -> None:
    """Write the record on ``branch`` (rebuilt from the base tip) and commit it."""
    work.checkout(f"origin/{base}", new_branch=branch)
    path = Path(work.path) / record_path(record.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(record.to_yaml(), encoding="utf-8")
    work.add([record_path(record.model)])
    work.commit(_title(record.model, record.version, record.environment))


def promote_version(forge: Forge, env: EnvironmentConfig, version: ModelVersion, *,
                    action: str = "promote", force: bool = False) -> PromotionResult:
    """Open (or reuse) the promotion pull request and merge it when the strategy is auto."""
    if env.strategy == "never":
        raise PromotionError(f"environment {env.name} has strategy 'never': nothing is promoted "
                             "there (change mlops.yaml to allow it)")
    repo = forge.get_repo(env.repo)
    branch = f"promote/{env.name}/{version.model}-{version.version}"
    with tempfile.TemporaryDirectory(prefix="jx-promote-") as tmp:
        work = GitRepo.clone(repo.clone_url, Path(tmp) / "env", env=forge.git_env())
        try:
            current = read_record(work, f"origin/{repo.default_branch}", version.model, env.name)
            if current and current.version == version.version and current.state == "serving" \
                    and action != "disable":
                return PromotionResult(env.name, version.model, version.version, None,
                                       merged=True, already_deployed=True)
            record = build_record(version, env.name, by=forge.user(), action=action,
                                  forced=force)
            pull = _open_pull(forge, work, env, record, current, branch, repo.default_branch)
        finally:
            work.close()
    if env.strategy == "auto":
        pull = forge.merge_pull(env.repo, pull.number)
    return PromotionResult(env.name, version.model, version.version, pull,
                           merged=pull.state == "merged")


def _open_pull(forge: Forge, work: GitRepo, env: EnvironmentConfig, record: DeploymentRecord,
               current: DeploymentRecord | None, branch: str, base: str) -> PullRequest:
    existing = forge.list_pulls(env.repo, head=branch, base=base)
    if existing:
        console.info(f"Reusing open promotion PR #{existing[0].number} on {env.repo}")
        return existing[0]
    _commit_record(work, record, branch, base)
    # The branch belongs to this promotion alone: a stale copy from a killed run is replaced.
    work.push("origin", [f"+{branch}:refs/heads/{branch}"], env=forge.git_env())
    pull = forge.create_pull(env.repo, title=_title(record.model, record.version, env.name),
                             body=_body(record, current), head=branch, base=base)
    forge.add_labels(env.repo, pull.number, [f"env/{env.name}", f"model/{record.model}"])
    return forge.get_pull(env.repo, pull.number)
