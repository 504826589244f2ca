"""One change to an environment repository, composed as data (pure).

A promotion, rollback or disable of one model in one environment is: a branch name, a
title, a deployment record, and the files it writes (the record, the model card and the
serving manifest of the environment's layout). Everything here is a function of the
registry version, the record it replaces and the environment's configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone

from jx_mlops.config.project import EnvironmentConfig, ModelConfig
from jx_mlops.environments.history import trailers
from jx_mlops.environments.records import DeploymentRecord, GateOutcome, card_path, record_path
from jx_mlops.promote.gates import Action, GateResult
from jx_mlops.promote.manifests import serving_changes
from jx_mlops.promote.modelcard import render_card
from jx_mlops.registry.tags import ModelVersion

HOLD_LABEL = "do-not-merge/hold"


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def branch_name(action: Action, environment: str, model: str, version: str) -> str:
    """``promote/ENV/MODEL-VERSION`` (``rollback/...``, ``disable/...``): one branch, hence
    one pull request, per change, so re-runs find and reuse it."""
    return f"{action}/{environment}/{model}-{version}"


def title(action: Action, model: str, version: str, environment: str) -> str:
    if action == "rollback":
        return f"chore: roll back {model} to {version} in {environment}"
    if action == "disable":
        return f"chore: disable {model} {version} in {environment}"
    return f"chore: promote {model} to {version} in {environment}"


def labels(action: Action, model: str, environment: str) -> list[str]:
    extra = [] if action == "promote" else [action]
    return [f"env/{environment}", f"model/{model}", *extra]


def record_from_version(version: ModelVersion, env: EnvironmentConfig, *, by: str,
                        action: Action = "promote") -> DeploymentRecord:
    """The deployment record of ``version`` from its registry metadata."""
    meta = version.metadata
    artifact = meta.get("artifact") or {}
    return DeploymentRecord(
        model=version.name, environment=env.name, version=version.version,
        source_repo=str(meta.get("source_repo", "")), source_commit=version.commit,
        tag=version.tag, tag_object=version.tag_object or None, registry_name=version.model,
        project_path=str(meta.get("project_path") or ""), run_url=meta.get("run_url"),
        source_pull=meta.get("source_pull"), artifact_path=str(artifact.get("path", "")),
        artifact_md5=artifact.get("md5"), artifact_size=artifact.get("size"),
        storage=artifact.get("storage"), storage_uri=artifact.get("uri"),
        serving_uri=artifact.get("serving_uri"),
        metrics=dict(meta.get("metrics") or {}), data=tuple(meta.get("data") or ()),
        promoted_by=by, promoted_at=now_iso(), action=action, layout=env.layout,
        namespace=env.namespace, artifact_sha256=artifact.get("sha256"),
        signature=dict(meta.get("signature") or {}),
        oci=dict(artifact.get("oci") or {}),
    )


def disabled_record(current: DeploymentRecord, env: EnvironmentConfig, *, by: str,
                    reason: str | None) -> DeploymentRecord:
    """``current`` cut out of serving: still recorded, no longer deployed."""
    return replace(current, state="disabled", action="disable", promoted_by=by,
                   promoted_at=now_iso(), forced=False, forced_gates=(), reason=reason,
                   previous_version=current.version, approved_by=(), gates=(),
                   layout=env.layout, namespace=env.namespace, pull_request=None)


def finalize(record: DeploymentRecord, *, current: DeploymentRecord | None, pull: int | None,
             gates: Sequence[GateResult], approved_by: Sequence[str], forced: bool,
             ) -> DeploymentRecord:
    """The record as it lands: what it replaces, its PR, approvals and gate results."""
    forced_gates = tuple(g.gate for g in gates if g.status != "pass") if forced else ()
    previous = record.previous_version if record.action == "disable" else (
        current.version if current is not None else None)
    stable = (record.rollout or (current.rollout if current is not None else {})).get(
        "stable_version")
    if record.action == "promote" and current is not None and current.version == \
            record.version and isinstance(stable, str):
        previous = stable  # a canary's next step replaces its stable, not itself
    return replace(record, previous_version=previous, pull_request=pull,
                   approved_by=tuple(approved_by), forced=bool(forced_gates),
                   forced_gates=forced_gates, promoted_at=now_iso(),
                   gates=tuple(GateOutcome(g.gate, g.status, g.detail) for g in gates))


def commit_message(record: DeploymentRecord) -> str:
    """Title plus the trailers ``history`` reads back."""
    action: Action = record.action  # type: ignore[assignment]
    fields = {
        "Action": record.action, "Model": record.model, "Environment": record.environment,
        "Version": record.version, "Previous-Version": record.previous_version,
        "By": record.promoted_by, "Approved-By": ", ".join(record.approved_by),
        "Forced": "true" if record.forced else "false",
        "Forced-Gates": ", ".join(record.forced_gates),
        "Pull-Request": str(record.pull_request) if record.pull_request else None,
        "Source": f"{record.source_repo}@{record.source_commit}", "Tag": record.tag,
        "Reason": record.reason,
        "Canary-Percent": None if record.canary_percent is None else str(record.canary_percent),
    }
    return f"{title(action, record.model, record.version, record.environment)}\n\n" \
           f"{trailers(fields)}\n"


def files_for(record: DeploymentRecord, env: EnvironmentConfig, model: ModelConfig | None,
              serving_now: Mapping[str, bytes | None]) -> dict[str, bytes | None]:
    """Every file the change writes: record, model card, serving manifest(s)."""
    return {
        record_path(record.model): record.to_yaml().encode("utf-8"),
        card_path(record.model): render_card(record, model, env).encode("utf-8"),
        **serving_changes(record, env, serving_now),
    }
