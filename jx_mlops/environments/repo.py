"""Environment repositories: deployment records in git, one file per model.

An environment repository (``OWNER/environment-staging``...) is shared by every model of
every project that deploys there, as a Jenkins X cluster repository holds many apps. Its
layout is documented in docs/environments.md; ``models/MODEL.yaml`` is the deployment
record this module reads and writes, ``models/MODEL.md`` the model card next to it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from jx_mlops.errors import ForgeError, GitError, PromotionError
from jx_mlops.forge.base import Forge
from jx_mlops.fsutil import file_lock, jx_home
from jx_mlops.git.locks import clear_stale_locks
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import safe_load

T = TypeVar("T")
RECORD_DIR = "models"
API_VERSION = "jx-mlops.dev/v1"
RECORD_HEADER = (
    "# Managed by jx-mlops: change it with `jx-mlops promote`, `rollback` or `disable`.\n"
    "# Hand edits are caught by `jx-mlops audit`.\n"
)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def record_path(model: str) -> str:
    return f"{RECORD_DIR}/{model}.yaml"


def card_path(model: str) -> str:
    return f"{RECORD_DIR}/{model}.md"


def load_yaml(text: str | bytes) -> Any:
    """Parse YAML with the fastest safe loader available, within yamlio's limits."""
    return safe_load(text)


def dump_yaml(data: Any) -> str:
    """YAML in the order given, block style."""
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True))


@dataclass(frozen=True)
class GateOutcome:
    """A gate's result as recorded (see promote.gates.GateResult)."""

    gate: str
    status: str
    detail: str


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
    # The named copy serving runtimes load (None in records made before it existed).
    serving_uri: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    # Added with promotion PRs, gates and audit (absent in the skeleton's records).
    tag_object: str | None = None
    registry_name: str | None = None
    project_path: str = ""
    run_url: str | None = None
    data: tuple[dict[str, Any], ...] = ()
    previous_version: str | None = None
    pull_request: int | None = None
    approved_by: tuple[str, ...] = ()
    forced_gates: tuple[str, ...] = ()
    reason: str | None = None
    gates: tuple[GateOutcome, ...] = ()
    layout: str | None = None
    namespace: str | None = None
    # Added with signed versions: the artifact's sha256 and the tag's ``signature``
    # (bundle URI and sha256, method, key or identity); empty for unsigned versions.
    artifact_sha256: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)

    @property
    def serving(self) -> bool:
        return self.state == "serving"

    def to_data(self) -> dict[str, Any]:
        """The record as plain data, in the order it is written."""
        return {
            "apiVersion": API_VERSION,
            "kind": "ModelDeployment",
            "model": self.model,
            "environment": self.environment,
            "version": self.version,
            "state": self.state,
            "source": {"repo": self.source_repo, "commit": self.source_commit,
                       "tag": self.tag, "tag_object": self.tag_object,
                       "registry_name": self.registry_name or self.model,
                       "project_path": self.project_path,
                       "pull_request": self.source_pull, "run_url": self.run_url},
            "artifact": {"path": self.artifact_path, "md5": self.artifact_md5,
                         "size": self.artifact_size, "storage": self.storage,
                         "uri": self.storage_uri, "serving_uri": self.serving_uri,
                         "sha256": self.artifact_sha256},
            "signature": dict(self.signature) or None,
            "serving": {"layout": self.layout, "namespace": self.namespace},
            "metrics": self.metrics,
            "data": [dict(d) for d in self.data],
            "promotion": {"action": self.action, "by": self.promoted_by,
                          "at": self.promoted_at, "forced": self.forced,
                          "forced_gates": list(self.forced_gates),
                          "previous_version": self.previous_version,
                          "pull_request": self.pull_request,
                          "approved_by": list(self.approved_by), "reason": self.reason},
            "gates": [{"gate": g.gate, "status": g.status, "detail": g.detail}
                      for g in self.gates],
        }

    def to_yaml(self) -> str:
        return RECORD_HEADER + dump_yaml(self.to_data())

    @classmethod
    def from_yaml(cls, text: str | bytes, where: str) -> DeploymentRecord:
        try:
            return cls._from_data(load_yaml(text))
        except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            raise PromotionError(f"{where}: not a valid deployment record ({exc})") from None

    @classmethod
    def _from_data(cls, data: dict[str, Any]) -> DeploymentRecord:
        source, artifact, promotion = data["source"], data["artifact"], data["promotion"]
        serving = data.get("serving") or {}
        return cls(
            model=data["model"], environment=data["environment"],
            version=data["version"], state=data.get("state", "serving"),
            source_repo=source["repo"], source_commit=source["commit"], tag=source["tag"],
            source_pull=source.get("pull_request"), tag_object=source.get("tag_object"),
            registry_name=source.get("registry_name"),
            project_path=source.get("project_path") or "", run_url=source.get("run_url"),
            artifact_path=artifact["path"], artifact_md5=_text(artifact.get("md5")),
            artifact_size=artifact.get("size"), storage=artifact.get("storage"),
            storage_uri=artifact.get("uri"), serving_uri=artifact.get("serving_uri"),
            metrics=dict(data.get("metrics") or {}),
            data=tuple(data.get("data") or ()),
            promoted_by=promotion["by"], promoted_at=str(promotion["at"]),
            action=promotion.get("action", "promote"),
            forced=bool(promotion.get("forced", False)),
            forced_gates=tuple(promotion.get("forced_gates") or ()),
            previous_version=promotion.get("previous_version"),
            pull_request=promotion.get("pull_request"),
            approved_by=tuple(promotion.get("approved_by") or ()),
            reason=promotion.get("reason"),
            gates=tuple(GateOutcome(str(g["gate"]), str(g["status"]), str(g["detail"]))
                        for g in data.get("gates") or ()),
            layout=serving.get("layout"), namespace=serving.get("namespace"),
            artifact_sha256=_text(artifact.get("sha256")),
            signature=dict(data.get("signature") or {}),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def record_names(repo: GitRepo, rev: str) -> list[str]:
    """Models with a record at ``rev``, sorted."""
    return sorted(name[:-5] for name in repo.list_tree(rev, RECORD_DIR)
                  if name.endswith(".yaml"))


def read_records(repo: GitRepo, rev: str, environment: str,
                 models: Sequence[str] | None = None) -> list[DeploymentRecord]:
    """The deployment records of ``rev`` (of ``models``, or all), sorted by model.

    One ``git cat-file`` process reads them all, whatever the history length.
    """
    names = record_names(repo, rev) if models is None else sorted(models)
    blobs = repo.read_blobs(rev, [record_path(n) for n in names])
    records = []
    for path, data in blobs.items():
        if data is not None:
            records.append(DeploymentRecord.from_yaml(data, f"{environment}:{path}"))
    return records


def read_record(repo: GitRepo, rev: str, model: str, environment: str) -> DeploymentRecord | None:
    """The record of ``model`` at ``rev``, or None."""
    found = read_records(repo, rev, environment, [model])
    return found[0] if found else None


def mirror_path(forge: Forge, repo_name: str) -> Path:
    return jx_home() / "cache" / "mirrors" / forge.kind / f"{repo_name}.git"


def mirror(forge: Forge, repo_name: str, *, tags: bool = False) -> tuple[GitRepo, str]:
    """A cached bare mirror of a forge repository, freshly fetched; returns (repo, branch).

    Only the default branch (and, with ``tags``, the tags) is fetched: promotion branches
    come and go, and reading records costs one incremental fetch however long the history.
    """
    remote = forge.get_repo(repo_name)
    path = mirror_path(forge, repo_name)
    branch = remote.default_branch
    refspecs = [f"+refs/heads/{branch}:refs/heads/{branch}"]
    if tags:
        refspecs.append("+refs/tags/*:refs/tags/*")
    with file_lock(path.with_suffix(".lock")):
        repo = _open_mirror(path, remote.clone_url)
        try:
            # By URL, not by remote name: one git process per read, the URL always current.
            _fetch(repo, remote.clone_url, refspecs, forge.git_env())
        except Exception as exc:
            raise ForgeError(f"cannot fetch repository {repo_name}: {exc}") from None
    return repo, branch


def _open_mirror(path: Path, url: str) -> GitRepo:
    """The mirror at ``path``, made or repaired: it is a cache, so one that a killed run
    left unreadable (mid-``init``) is made anew."""
    repo = None
    if (path / "HEAD").is_file():
        clear_stale_locks(path)  # a fetch killed mid-way must not wedge every later one
        with contextlib.suppress(GitError):
            repo = GitRepo.open(path)
    if repo is None:
        shutil.rmtree(path, ignore_errors=True)
        repo = GitRepo.init(path, bare=True)
    if repo.remote_url("origin") != url:
        # Pushes go to "origin" (also after a kill between `init` and here). Its URL only:
        # with no fetch refspec, the pushes of concurrent promotions write no
        # refs/remotes/origin/* here for each other's fetches to trip over.
        repo.run("config", "remote.origin.url", url)
        repo.run("config", "--unset-all", "remote.origin.fetch", check=False)
    return repo


def _fetch(repo: GitRepo, url: str, refspecs: list[str], env: dict[str, str]) -> None:
    """Fetch; a local ref naming an object the mirror lacks (a concurrent run's leftover)
    is dropped and the fetch tried once more: nothing in a mirror is kept but main."""
    try:
        repo.fetch(url, refspecs, env=env)
    except GitError as exc:
        bad = re.search(r"bad object (refs/\S+)", exc.message)
        if bad is None:
            raise
        repo.run("update-ref", "-d", bad.group(1), check=False)
        repo.fetch(url, refspecs, env=env)


def in_parallel(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent reads (one per environment) at once; results in call order.

    Each is mostly a git process, so threads overlap the waiting.
    """
    if len(calls) < 2:
        return [call() for call in calls]
    from concurrent.futures import ThreadPoolExecutor

    from jx_mlops.git.env import sanitize_environment

    sanitize_environment()  # edits os.environ once: not from several threads at a time

    with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
        return list(pool.map(lambda call: call(), calls))


def ensure_environment_repo(forge: Forge, repo_name: str, environment: str) -> bool:
    """Create the environment repository if the forge does not have it; True if created."""
    if forge.find_repo(repo_name) is not None:
        return False
    forge.create_repo(repo_name, auto_init=True,
                      description=f"jx-mlops environment repository: {environment}. "
                                  f"{RECORD_DIR}/MODEL.yaml records what is deployed.")
    return True

