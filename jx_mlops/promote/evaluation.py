"""The fact the evaluation gate judges: how the version's source pull request was evaluated.

Read from the project's forge: the ``jx-mlops/evaluation`` status of the merged pull
request's head commit (what `ci pr` reported, or a forced merge went past).
"""

from __future__ import annotations

from jx_mlops.ci import STATUS_CONTEXT
from jx_mlops.config import ModelConfig
from jx_mlops.errors import NotFoundError
from jx_mlops.forge.base import Forge
from jx_mlops.promote.envrepo import DeploymentRecord
from jx_mlops.promote.gates import DeployedComparison, EvaluationState
from jx_mlops.promote.pullbody import Side, compare_versions


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
    return EvaluationState(pull.number, status.state, status.description)


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
