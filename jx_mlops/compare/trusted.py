"""Trusted evaluation's part of a comparison: scores from the base's stage, the PR's own
scores beside them, every difference flagged (pure logic, no I/O).

A pull request controls its own training, so its own evaluation is self-reported. When
mlops.yaml names a trusted stage, the verdict is built from what the *base's* version of
that stage measured on the PR's model; the PR's own numbers are kept only to show them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from jx_mlops.compare.comparison import Comparison, ModelComparison, Verdict, decide
from jx_mlops.compare.metrics import MetricDelta, PolicyLookup, compare_metric
from jx_mlops.compare.scoring import SelfReported, TrustedEvaluation


def self_reported_rows(trusted: Sequence[ModelComparison], own: Sequence[ModelComparison],
                       is_trusted_file: Callable[[str], bool]) -> tuple[SelfReported, ...]:
    """Pair each metric of the trusted stage's files (``is_trusted_file(path)``) as the
    trusted run measured it with the PR's own value, in the trusted table's order."""
    rows: list[SelfReported] = []
    for model in trusted:
        mine = next((m for m in own if m.model == model.model), None)
        reported = {(d.path, d.name): d for d in (mine.metrics if mine else ())}
        measured = {(d.path, d.name): d for d in model.metrics}
        keys = [k for k in measured if is_trusted_file(k[0])]
        keys += [k for k in reported if is_trusted_file(k[0]) and k not in measured]
        for key in keys:
            rows.append(SelfReported(model.model, key[0], key[1],
                                     _head(measured.get(key)), _head(reported.get(key))))
    return tuple(rows)


def _head(delta: MetricDelta | None) -> Any:
    return None if delta is None else delta.head


def with_trusted(comparison: Comparison, trusted: TrustedEvaluation) -> Comparison:
    """The comparison under trusted evaluation: a base stage that could not score the PR
    fails it (``enforced``) or is a note (``advisory``); differences are in the verdict
    line, so the status a reviewer sees first says the PR's numbers were not its own."""
    models, notes = comparison.models, comparison.notes
    if trusted.on_mismatch == "fail":
        models = tuple(replace(m, head_problems=(*m.head_problems, *_mismatches(m.model,
                                                                                 trusted)))
                       for m in models)
    if not trusted.scored:
        reason = (f"trusted evaluation: {trusted.base}'s `{trusted.stage}` could not score "
                  f"this PR's model: {trusted.problem}")
        if trusted.mode == "enforced":
            models = tuple(replace(m, head_problems=(*m.head_problems, reason))
                           for m in models)
        else:
            notes = (*notes, f"{reason} (advisory: the PR's own scores decide)")
    return replace(comparison, models=models, notes=notes,
                   verdict=_decide(models, trusted), trusted=trusted)


def _mismatches(model: str, trusted: TrustedEvaluation) -> tuple[str, ...]:
    """``evaluation.on_mismatch: fail``: each of ``model``'s self-reported values that
    differs from the trusted one is a problem."""
    return tuple(f"self-reported {r.path}: {r.name} ({r.reported}) differs from trusted "
                 f"evaluation ({r.trusted}; evaluation.on_mismatch: fail)"
                 for r in trusted.differences if r.model == model)


def _decide(models: Sequence[ModelComparison], trusted: TrustedEvaluation | None) -> Verdict:
    verdict = decide(models)
    if trusted is not None and trusted.differences:
        count = len(trusted.differences)
        differ = "value differs" if count == 1 else "values differ"
        verdict = replace(verdict, line=f"{verdict.line}; {count} self-reported {differ} "
                                        "from trusted evaluation")
    return verdict


def with_holdout(comparison: Comparison, rows: Mapping[str, Sequence[MetricDelta]],
                 problems: Mapping[str, Sequence[str]], note: str) -> Comparison:
    """The comparison with each model's holdout ``rows`` (scored by jx-mlops itself) and
    the ``problems`` that kept a model from being scored (which fail it), decided again."""
    models = tuple(replace(m, metrics=(*m.metrics, *rows.get(m.model, ())),
                           head_problems=(*m.head_problems, *problems.get(m.model, ())))
                   for m in comparison.models)
    return replace(comparison, models=models, notes=(*comparison.notes, note),
                   verdict=_decide(models, comparison.trusted))


def judged_by(comparison: Comparison, policies: Mapping[str, PolicyLookup],
              missing: Callable[[str], str]) -> Comparison:
    """``comparison`` (an untrusted artifact's) judged by the trusted side: its models are
    exactly ``policies``' (each model's metric policy), every metric's status derived
    again from its values under that policy, a model the artifact does not report failed
    with ``missing(model)``, a model it adds dropped; then decided again."""
    reported = {m.model: m for m in comparison.models}
    models = []
    for name, policy_for in policies.items():
        found = reported.get(name)
        if found is None:
            models.append(ModelComparison(name, (), head_problems=(missing(name),)))
            continue
        metrics = tuple(compare_metric(d.path, d.name, d.base, d.head,
                                       (d.base_kind is not None, d.head_kind is not None),
                                       policy_for(d.path, d.name)) for d in found.metrics)
        models.append(replace(found, metrics=metrics))
    return replace(comparison, models=tuple(models), verdict=_decide(models, comparison.trusted))
