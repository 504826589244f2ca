"""Environment repositories: deployment records in git, one file per model.

An environment repository (``OWNER/environment-staging``...) is shared by every model of
every project that deploys there, as a Jenkins X cluster repository holds many apps. Its
layout is documented in docs/environments.md; ``models/MODEL.yaml`` is the deployment
record this module reads and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jx_mlops.config import jx_home
from jx_mlops.errors import ForgeError, PromotionError
from jx_mlops.forge.base import Forge
from jx_mlops.fsutil import file_lock
from jx_mlops.git import GitRepo

RECORD_DIR = "models"
API_VERSION = "jx-mlops.dev/v1"
RECORD_HEADER = (
    "# Managed by jx-mlops: change it with `jx-mlops promote`, `rollback` or `disable`.\n"
    "# Hand edits are caught by `jx-mlops audit`.\n"
)


def record_path(model: str) -> str:
    return f"{RECORD_DIR}/{model}.yaml"


@dataclass(frozen=True)
class DeploymentRecord:
    """What runs in one environment for one model, and how it got there."""

    model: str
    environment: str
    version: str
    source_repo: str
    source_commit: str
    tag: str
    artifact_path: str
    artifact_md5: str | None
    promoted_by: str
    promoted_at: str
    state: str = "serving"
    action: str = "promote"
    forced: bool = False
    source_pull: int | None = None
    artifact_size: int | None = None
    storage: str | None = None
    storage_uri: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_yaml(self) -> str:
        data = {
            "apiVersion": API_VERSION,
            "kind": "ModelDeployment",
            "model": self.model,
            "environment": self.environment,
            "version": self.version,
            "state": self.state,
            "source": {"repo": self.source_repo, "commit": self.source_commit,
                       "tag": self.tag, "pull_request": self.source_pull},
            "artifact": {"path": self.artifact_path, "md5": self.artifact_md5,
                         "size": self.artifact_size, "storage": self.storage,
                         "uri": self.storage_uri},
            "metrics": self.metrics,
            "promotion": {"action": self.action, "by": self.promoted_by,
                          "at": self.promoted_at, "forced": self.forced},
        }
        return RECORD_HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)

    @classmethod
    def from_yaml(cls, text: str, where: str) -> DeploymentRecord:
        try:
            data = yaml.safe_load(text)
            source, artifact, promotion = data["source"], data["artifact"], data["promotion"]
            return cls(
                model=data["model"], environment=data["environment"],
                version=data["version"], state=data.get("state", "serving"),
                source_repo=source["repo"], source_commit=source["commit"], tag=source["tag"],
                source_pull=source.get("pull_request"), artifact_path=artifact["path"],
                artifact_md5=artifact.get("md5"), artifact_size=artifact.get("size"),
                storage=artifact.get("storage"), storage_uri=artifact.get("uri"),
                metrics=dict(data.get("metrics") or {}), promoted_by=promotion["by"],
                promoted_at=str(promotion["at"]), action=promotion.get("action", "promote"),
                forced=bool(promotion.get("forced", False)),
            )
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise PromotionError(f"{where}: not a valid deployment record ({exc})") from None


def read_records(repo: GitRepo, rev: str, environment: str) -> list[DeploymentRecord]:
    """Every deployment record of ``rev`` in an environment repository, sorted by model."""
    records = []
    for name in sorted(repo.list_tree(rev, RECORD_DIR)):
        if not name.endswith(".yaml"):
            continue
        data = repo.read_blob(rev, f"{RECORD_DIR}/{name}")
        if data is not None:
            where = f"{environment}:{RECORD_DIR}/{name}"
            records.append(DeploymentRecord.from_yaml(data.decode("utf-8"), where))
    return records


def read_record(repo: GitRepo, rev: str, model: str, environment: str) -> DeploymentRecord | None:
    data = repo.read_blob(rev, record_path(model))
    if data is None:
        return None
    return DeploymentRecord.from_yaml(data.decode("utf-8"), f"{environment}:{record_path(model)}")


def mirror(forge: Forge, repo_name: str) -> tuple[GitRepo, str]:
    """A cached bare mirror of a forge repository, freshly fetched; returns (repo, branch).

    Reading records from a local mirror costs one incremental fetch, however long the
    environment's history is.
    """
    remote = forge.get_repo(repo_name)
    path = jx_home() / "cache" / "mirrors" / forge.kind / f"{repo_name}.git"
    with file_lock(path.with_suffix(".lock")):
        repo = GitRepo.open(path) if (path / "HEAD").is_file() else GitRepo.init(path, bare=True)
        repo.set_remote("origin", remote.clone_url)
        try:
            repo.fetch("origin", ["+refs/heads/*:refs/heads/*"], prune=True, env=forge.git_env())
        except Exception as exc:
            raise ForgeError(f"cannot fetch environment repository {repo_name}: {exc}") from None
    return repo, remote.default_branch


def ensure_environment_repo(forge: Forge, repo_name: str, environment: str) -> bool:
    """Create the environment repository if the forge does not have it; True if created."""
    if forge.find_repo(repo_name) is not None:
        return False
    forge.create_repo(repo_name, auto_init=True,
                      description=f"jx-mlops environment repository: {environment}. "
                                  f"{RECORD_DIR}/MODEL.yaml records what is deployed.")
    return True


def workdir(name: str) -> Path:
    """A scratch directory for clones of environment repositories."""
    path = jx_home() / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path / name
