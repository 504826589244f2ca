"""Facts the later gates judge: how the version's source pull request was evaluated, how
it compares with the version deployed, and whether the copy to deploy matches its signature.

The evaluation is read from the project's forge: the ``jx-mlops/evaluation`` status of the
merged pull request's head commit (what `ci pr` reported, or a forced merge went past).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from jx_mlops.config.project import EnvironmentConfig, ModelConfig
from jx_mlops.environments.history import HistoryEvent
from jx_mlops.environments.records import DeploymentRecord
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.environments.verification import deployment_event
from jx_mlops.errors import JxMlopsError, NotFoundError
from jx_mlops.forge.base import STATUS_CONTEXT, Forge, evaluated_base
from jx_mlops.oci import verify
from jx_mlops.promote.gates import (
    Action,
    DeployedComparison,
    EvaluationState,
    OciState,
    RequiredState,
    SignatureState,
)
from jx_mlops.promote.pullbody import Side, compare_versions
from jx_mlops.registry.signatures import verify_copy
from jx_mlops.signing import Trust


def source_evaluation(forge: Forge, record: DeploymentRecord) -> EvaluationState:
    """The evaluation of the pull request ``record``'s version was merged from."""
    if record.source_pull is None or not record.source_repo:
        return EvaluationState(None)
    try:
        pull = forge.get_pull(record.source_repo, record.source_pull)
    except NotFoundError:
        return EvaluationState(None)
    status = next((s for s in forge.get_statuses(record.source_repo, pull.head_sha)
                   if s.context == STATUS_CONTEXT), None)
    if status is None:
        return EvaluationState(pull.number)
    base = evaluated_base(status.description)
    return EvaluationState(pull.number, status.state, status.description,
                           other_base=base if base not in (None, pull.base) else None)


def against_deployed(current: DeploymentRecord | None, target: DeploymentRecord,
                     model: ModelConfig | None, environment: str) -> DeployedComparison | None:
    """``target`` against the version serving in ``environment`` (None: nothing serves,
    or it is the same version)."""
    if current is None or not current.serving or current.version == target.version:
        return None
    base = Side(f"{current.version} in {environment}", current.source_commit, current.metrics)
    head = Side(target.version, target.source_commit, target.metrics)
    verdict = compare_versions(target.model, model, base, head).verdict
    return DeployedComparison(current.version, verdict.passed, verdict.line)


def signature_state(env: EnvironmentConfig, target: DeploymentRecord, trust: Trust, *,
                    later: bool, action: Action) -> SignatureState | None:
    """Verify the exact copy a change deploys (None: the gate does not apply: disabling,
    or an unsigned version where no signature is required)."""
    if action == "disable":
        return None
    required = env.signature == "required" or (env.signature is None and later)
    if not target.signature and not required:
        return None
    check = verify_copy(target.serving_uri, target.signature, trust)
    status = "failed" if check.status == "unverified" else check.status
    return SignatureState(status, check.detail, required)


def oci_state(target: DeploymentRecord, action: Action) -> OciState | None:
    """Resolve the OCI artifact ``target`` deploys (its tag's ``artifact.oci``) by digest
    and re-hash its layers (None: disabling, or a version not pushed to a registry)."""
    if action == "disable" or not target.oci:
        return None
    try:
        check = verify(target.oci)
    except JxMlopsError as exc:
        return OciState(False, exc.message)
    return OciState(check.ok, "; ".join((check.detail, *check.notes)))


def artifact_states(env: EnvironmentConfig, target: DeploymentRecord, trust: Trust, *,
                    later: bool, action: Action) -> dict[str, Any]:
    """GateInputs' ``signature`` and ``oci``: the bytes a change deploys, checked."""
    return {"signature": signature_state(env, target, trust, later=later, action=action),
            "oci": oci_state(target, action)}


def verified_state(env_repo: EnvironmentRepo, events: list[HistoryEvent], version: str,
                   state: RequiredState) -> RequiredState:
    """``state`` of a verified environment, with what verification says of ``version``'s
    latest deployment there (the soak gate then counts verified time)."""
    event = deployment_event(events, version)
    record = env_repo.verification(event) if event is not None else None
    if record is None:
        return replace(state, verified=True)
    return replace(state, verified=True, verified_from=record.first_passed_at,
                   verified_until=record.last_passed_at,
                   verification_failed=record.failed_at is not None)
