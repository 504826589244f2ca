"""Metric and param comparison between two revisions: pure logic, no I/O.

A metric's status comes from its policy (see ``config.MetricPolicy``):

- ``improved`` / ``regressed``: moved the better / worse way, by more than the tolerance;
- ``within_tolerance``: moved the worse way, but no more than the tolerance forgives;
- ``within_noise``: moved the worse way beyond the tolerance, but the paired bootstrap
  interval of the change includes zero (see ``significance.noise_aware``);
- ``unchanged``: identical values;
- ``changed``: different, but the metric has no direction, so better/worse is unknown;
- ``new`` / ``removed``: present on one side only;
- ``unreadable``: the file holding it could not be read on one side (the reason is that
  side's problem): neither better nor worse, never ``regressed`` or ``improved``;
- ``failed_threshold``: the head value is outside the policy's ``min``/``max``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.values import ValueKind, kind_of

MetricStatus = Literal["improved", "regressed", "within_tolerance", "within_noise",
                       "unchanged", "changed", "new", "removed", "failed_threshold",
                       "unreadable"]
FAILING: frozenset[str] = frozenset({"regressed", "failed_threshold"})
PolicyLookup = Callable[[str, str], MetricPolicy]
_ORDERED = ("number", "inf")


@dataclass(frozen=True)
class MetricDelta:
    """One metric compared between base and head."""

    path: str
    name: str
    base: Any
    head: Any
    delta: float | None
    rel_delta: float | None
    status: MetricStatus
    policy: MetricPolicy
    base_kind: ValueKind | None
    head_kind: ValueKind | None
    # The base's file when the metric moved to another one (matched by its key path).
    base_path: str | None = None

    @property
    def failing(self) -> bool:
        return self.status in FAILING

    @property
    def allowed(self) -> float:
        """How far the worse way this metric may move before it counts as a regression."""
        base = abs(self.base) if self.base_kind == "number" else 0.0
        return max(self.policy.tolerance, self.policy.rel_tolerance * base)


@dataclass(frozen=True)
class ParamChange:
    """One parameter compared between base and head."""

    path: str
    name: str
    base: Any
    head: Any
    status: Literal["changed", "added", "removed", "unchanged"]


def _numeric_status(base: float, head: float, policy: MetricPolicy) -> MetricStatus:
    if base == head:
        return "unchanged"
    delta = head - base
    if delta == 0:
        return "unchanged"
    if policy.direction is None:
        return "changed"
    worse_by = -delta if policy.direction == "higher" else delta
    if worse_by <= 0:
        return "improved"
    allowed = max(policy.tolerance, policy.rel_tolerance * abs(base))
    return "within_tolerance" if worse_by <= allowed else "regressed"


def _outside_threshold(head: Any, head_kind: ValueKind | None, policy: MetricPolicy) -> bool:
    if policy.min is None and policy.max is None:
        return False
    if head_kind != "number":
        # A floor or ceiling is a promise about a number: NaN or text cannot keep it.
        return policy.min is not None or policy.max is not None
    return (policy.min is not None and head < policy.min) or (
        policy.max is not None and head > policy.max)


def _bounded(policy: MetricPolicy) -> bool:
    return policy.min is not None or policy.max is not None


def judged(policy: MetricPolicy) -> bool:
    """Whether the verdict judges a metric under ``policy``: a direction or a floor/ceiling."""
    return policy.direction is not None or _bounded(policy)


def _unjudgeable(head_kind: ValueKind | None, policy: MetricPolicy) -> bool:
    """A directed or bounded metric whose head value is absent or not a finite number."""
    return head_kind != "number" and judged(policy)


def head_problem(delta: MetricDelta) -> str | None:
    """Why the head value of a directed or bounded metric cannot be judged, if it cannot."""
    if not _unjudgeable(delta.head_kind, delta.policy):
        return None
    if delta.head_kind is None:
        return "missing at the head"
    if delta.head_kind == "nan":
        return "NaN at the head (not a finite number)"
    if delta.head_kind == "inf":
        return f"{'+' if delta.head > 0 else '-'}inf at the head (not a finite number)"
    return f"{delta.head!r} at the head (a {delta.head_kind}, not a number)"


def unmatched_policy_keys(policy_keys: Iterable[str],
                          deltas: Iterable[MetricDelta]) -> list[tuple[str, list[str]]]:
    """Policy keys that name no metric on either side, each with the closest names."""
    bare = {d.name for d in deltas}
    qualified = {f"{d.path}:{d.name}" for d in deltas}
    return [(key, _closest(key, qualified if ":" in key else bare))
            for key in policy_keys if key not in bare | qualified]


def _closest(key: str, names: set[str]) -> list[str]:
    """Up to three names like ``key``: similar spelling, or one inside the other
    (``accuracy`` for ``acc``)."""
    import difflib

    def score(name: str) -> float:
        ratio = difflib.SequenceMatcher(None, key, name).ratio()
        return max(ratio, 0.6) if key in name or name in key else ratio

    ranked = sorted(names, key=lambda n: (-score(n), n))
    return [n for n in ranked if score(n) >= 0.6][:3]


def _same(a: Any, b: Any) -> bool:
    if kind_of(a) == "nan" and kind_of(b) == "nan":
        return True
    return bool(type(a) is type(b) and a == b) or (
        kind_of(a) == kind_of(b) == "number" and a == b)


def compare_metric(path: str, name: str, base: Any, head: Any, present: tuple[bool, bool],
                   policy: MetricPolicy) -> MetricDelta:
    """Compare one metric; ``present`` says whether base and head have it at all."""
    in_base, in_head = present
    base_kind = kind_of(base) if in_base else None
    head_kind = kind_of(head) if in_head else None
    delta = rel = None
    status: MetricStatus
    if not in_head:
        status = "removed"
    elif not in_base:
        status = "new"
    elif base_kind in _ORDERED and head_kind in _ORDERED:
        delta = head - base
        if not math.isfinite(delta):
            delta = None if base_kind == head_kind == "inf" else delta
        rel = delta / abs(base) if delta is not None and base_kind == "number" and base != 0 \
            else None
        status = _numeric_status(base, head, policy)
    elif head_kind == "nan" and base_kind == "number" and policy.direction is not None:
        status = "regressed"  # a directed metric that stops being a number got no better
    else:
        status = "unchanged" if _same(base, head) else "changed"
    if in_head and _outside_threshold(head, head_kind, policy):
        status = "failed_threshold"
    elif _unjudgeable(head_kind, policy):
        # A promise about a number (a direction, a floor) cannot be kept by a value that is
        # missing, text, null, a list or not finite: the verdict must not wave it through.
        status = "failed_threshold" if _bounded(policy) else "regressed"
    return MetricDelta(path, name, base if in_base else None, head if in_head else None,
                       delta, rel, status, policy, base_kind, head_kind)


def unreadable_metric(path: str, name: str, base: Any, head: Any,
                      present: tuple[bool, bool], policy: MetricPolicy) -> MetricDelta:
    """A metric whose file one side could not read: its other side's value, no verdict."""
    in_base, in_head = present
    return MetricDelta(path, name, base if in_base else None, head if in_head else None,
                       None, None, "unreadable", policy,
                       kind_of(base) if in_base else None, kind_of(head) if in_head else None)


def compare_metrics(path: str, base: Mapping[str, Any] | None, head: Mapping[str, Any] | None,
                    policy_for: PolicyLookup,
                    unreadable: tuple[bool, bool] = (False, False)) -> list[MetricDelta]:
    """Compare flat metric maps of one file; ``None`` means the file is absent on that side;
    ``unreadable`` says a side could not be read (its rows are ``unreadable``).

    Rows come out in a stable order: the file's metrics sorted by name.
    """
    base = base or {}
    head = head or {}
    compare = unreadable_metric if any(unreadable) else compare_metric
    return [compare(path, name, base.get(name), head.get(name),
                    (name in base, name in head), policy_for(path, name))
            for name in sorted(set(base) | set(head))]


def match_moved(deltas: list[MetricDelta], gone_files: Iterable[str],
                new_files: Iterable[str]) -> tuple[list[MetricDelta], list[str]]:
    """Metrics that moved to another file: a ``removed`` row of a file gone at the head
    and the one ``new`` row with the same key path in a file new at the head become one
    row of the head's file, compared; notes say which moved. Ambiguous names stay apart."""
    gone_set, new_set = set(gone_files), set(new_files)
    gone = [d for d in deltas if d.head_kind is None and d.path in gone_set]
    came = [d for d in deltas if d.base_kind is None and d.path in new_set]
    pairs = []
    for old in gone:
        olds = [d for d in gone if d.name == old.name]
        news = [d for d in came if d.name == old.name and d.path != old.path]
        if len(olds) == 1 and len(news) == 1:
            pairs.append((old, news[0]))
    if not pairs:
        return deltas, []
    merged = {id(old): _moved(old, new) for old, new in pairs}
    dropped = {id(new) for _old, new in pairs}
    moves = sorted({(old.path, new.path) for old, new in pairs})
    notes = [f"{new} has the metrics of {old}, gone at the head: matched by key path"
             for old, new in moves]
    return [merged.get(id(d), d) for d in deltas if id(d) not in dropped], notes


def _moved(old: MetricDelta, new: MetricDelta) -> MetricDelta:
    moved = compare_metric(new.path, new.name, old.base, new.head, (True, True), new.policy)
    return MetricDelta(moved.path, moved.name, moved.base, moved.head, moved.delta,
                       moved.rel_delta, moved.status, moved.policy, moved.base_kind,
                       moved.head_kind, base_path=old.path)


def compare_params(path: str, base: Mapping[str, Any] | None,
                   head: Mapping[str, Any] | None) -> list[ParamChange]:
    """Compare flat param maps of one file, sorted by name."""
    base = base or {}
    head = head or {}
    changes = []
    for name in sorted(set(base) | set(head)):
        status: Literal["changed", "added", "removed", "unchanged"]
        if name not in base:
            status = "added"
        elif name not in head:
            status = "removed"
        else:
            status = "unchanged" if _same(base[name], head[name]) else "changed"
        changes.append(ParamChange(path, name, base.get(name), head.get(name), status))
    return changes
