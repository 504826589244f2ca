"""``${score_reference}`` in verify's checks: a version's evaluation-time score distribution.

The evaluate stage records each test row's positive-class score (``y_score`` of the model's
``predictions`` file, committed with the version). A score-drift check compares the served
scores' histogram with it: jx-mlops reads the file at the version's registered commit and
fills ``${score_reference}`` with a PromQL vector of the fraction of evaluation scores at or
below each bucket edge, labelled ``le`` as prometheus_client labels a histogram's buckets
(``0.1`` ... ``0.9``, ``1.0``, ``+Inf``; the quickstarts' service observes its scores on those
edges). Where there is nothing to compare with (no predictions file, no ``y_score``
column: a regressor, scores outside 0..1) the check is inconclusive and says why.
"""

from __future__ import annotations

from collections.abc import Sequence

from jx_mlops.config.project import ProjectConfig
from jx_mlops.evaluation.predictions import read_predictions
from jx_mlops.evaluation.snapshot import Snapshot
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.registration import model_name, project_directory
from jx_mlops.registry.tags import find_version

PLACEHOLDER = "${score_reference}"
EDGES = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0")


def fractions(scores: Sequence[float]) -> list[tuple[str, float]]:
    """The fraction of ``scores`` at or below each edge, then ``+Inf`` (1)."""
    total = len(scores)
    return [(le, sum(1 for s in scores if s <= float(le)) / total) for le in EDGES] + \
        [("+Inf", 1.0)]


def promql_vector(cumulative: Sequence[tuple[str, float]]) -> str:
    """A vector literal of one sample per ``le`` (Prometheus has no other literal form)."""
    return "(" + " or ".join(f'label_replace(vector({value:.4f}), "le", "{le}", "", "")'
                             for le, value in cumulative) + ")"


def score_reference(config: ProjectConfig, registry: GitRepo | None, model: str,
                    version: str) -> tuple[str | None, str]:
    """The PromQL vector of ``model@version``'s evaluation-time scores, or None and why
    there is none."""
    found_model = next((m for m in config.models if m.name == model), None)
    path = found_model.predictions if found_model is not None else None
    if path is None:
        return None, (f"{model} has no predictions file (models.{model}.predictions in "
                      "mlops.yaml): no evaluation-time scores to compare with")
    if registry is None:
        return None, "no registry to read the version's evaluation from"
    found = find_version(registry, model_name(config, registry, model), version)
    if found is None:
        return None, f"{model}@{version} is not registered here: its evaluation is unknown"
    snap = Snapshot(registry, config.root, found.commit, found.tag,
                    prefix=project_directory(config, registry))
    predictions, reason = read_predictions(snap, path)
    if predictions is None:
        return None, reason or f"{path} is unreadable at {snap.where}"
    scores = predictions.y_score
    if scores is None:
        return None, (f"{path} at {found.tag} has no y_score column (a regressor has no "
                      "score): score drift cannot be checked")
    if not len(scores) or min(scores) < 0 or max(scores) > 1:
        return None, f"{path} at {found.tag}: y_score is not a probability (0..1) per row"
    return promql_vector(fractions([float(s) for s in scores])), ""
