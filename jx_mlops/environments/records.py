"""The files of an environment repository: deployment records and holds.

An environment repository (``OWNER/environment-staging``...) is shared by every model of
every project that deploys there, as a Jenkins X cluster repository holds many apps. Its
layout is documented in docs/environments.md; ``models/MODEL.yaml`` is the deployment
record, ``models/MODEL.md`` the model card next to it, ``holds/MODEL.yaml`` the
versions of the model that may not come back (see ``promote/holds.py``), and
``freeze.yaml`` a freeze of the whole environment (see ``promote/freezes.py``). This module reads
and writes their formats; :mod:`jx_mlops.environments.repo` fetches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from jx_mlops.errors import JxMlopsError, PromotionError
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import safe_load, shorten

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
    # A canary step: {"percent": 10, "stable_version": "v0.0.1", "stable_uri": URI}
    # (empty: the version takes all traffic).
    rollout: dict[str, Any] = field(default_factory=dict)
    # The version as an OCI artifact (the tag's artifact.oci: reference, digest, layers);
    # empty where mlops.yaml sets no registry.oci.
    oci: dict[str, Any] = field(default_factory=dict)

    @property
    def canary_percent(self) -> int | None:
        percent = self.rollout.get("percent")
        return percent if isinstance(percent, int) else None

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
                         "sha256": self.artifact_sha256,
                         **({"oci": dict(self.oci)} if self.oci else {})},
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
            **({"rollout": dict(self.rollout)} if self.rollout else {}),
        }

    def to_yaml(self) -> str:
        return RECORD_HEADER + dump_yaml(self.to_data())

    @classmethod
    def from_yaml(cls, text: str | bytes, where: str) -> DeploymentRecord:
        try:
            return cls._from_data(safe_load(text))
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
            rollout=dict(data.get("rollout") or {}),
            oci=dict(artifact.get("oci") or {}),
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


@dataclass(frozen=True)
class Hold:
    """One held version of one model in one environment."""

    model: str
    environment: str
    version: str
    reason: str
    by: str
    at: str


def _read_yaml(repo: GitRepo, rev: str, path: str, what: str) -> Any:
    """``path`` at ``rev`` parsed (None: no file); PromotionError "PATH in ``what``"."""
    raw = repo.read_blob(rev, path)
    try:
        return safe_load(raw) if raw else None
    except (yaml.YAMLError, ValueError, JxMlopsError) as exc:
        raise PromotionError(f"{path} in {what} "
                             f"({shorten(str(exc).splitlines()[0], 120)})") from None


def hold_path(model: str) -> str:
    return f"holds/{model}.yaml"


def read_holds(repo: GitRepo, rev: str, model: str, environment: str) -> dict[str, Hold]:
    """The held versions of ``model`` at ``rev`` of an environment repository."""
    data = _read_yaml(repo, rev, hold_path(model), f"{environment}: unreadable holds file")
    entries = data.get("holds") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    holds = {}
    for version, entry in entries.items():
        info = entry if isinstance(entry, dict) else {}
        holds[str(version)] = Hold(model, environment, str(version),
                                   str(info.get("reason", "")), str(info.get("by", "")),
                                   str(info.get("at", "")))
    return holds


def holds_content(holds: dict[str, Hold]) -> bytes | None:
    """``holds/MODEL.yaml`` holding ``holds`` (None: no file, nothing is held)."""
    if not holds:
        return None
    return dump_yaml({"holds": {v: {"reason": h.reason, "by": h.by, "at": h.at}
                                for v, h in sorted(holds.items())}}).encode()


def with_hold(repo: GitRepo, rev: str, hold: Hold) -> dict[str, bytes | None]:
    """The holds file of ``hold.model`` at ``rev`` with ``hold`` added, by path."""
    holds = read_holds(repo, rev, hold.model, hold.environment)
    holds[hold.version] = hold
    return {hold_path(hold.model): holds_content(holds)}


FREEZE_PATH = "freeze.yaml"


@dataclass(frozen=True)
class Freeze:
    """The environment accepts no promotion (until ``until``, ISO 8601 UTC, when given)."""

    environment: str
    reason: str
    by: str
    at: str
    until: str | None = None


def read_freeze(repo: GitRepo, rev: str, environment: str) -> Freeze | None:
    """The freeze recorded at ``rev`` of an environment repository (None: not frozen)."""
    data = _read_yaml(repo, rev, FREEZE_PATH, f"{environment}: unreadable freeze file")
    entry = data.get("freeze") if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        return None
    until = entry.get("until")
    return Freeze(environment, str(entry.get("reason", "")), str(entry.get("by", "")),
                  str(entry.get("at", "")), None if until is None else str(until))


def freeze_content(freeze: Freeze | None) -> bytes | None:
    """``freeze.yaml`` recording ``freeze`` (None: no file, not frozen)."""
    if freeze is None:
        return None
    return dump_yaml({"freeze": {"reason": freeze.reason, "by": freeze.by, "at": freeze.at,
                                 "until": freeze.until}}).encode()
