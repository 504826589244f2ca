"""How slices are formed: each feature's values become levels, and a slice is one level of
one feature or one level of each of two (pure numpy).

A numeric column with more than ``bins`` distinct values is cut at the quantiles of the
rows both sides scored (or at the edges mlops.yaml gives), so its levels are bands:
``age < 33``, ``33 ≤ age < 45``, ``age ≥ 58``. Any other column's distinct values are its
levels (``region = west``); past ``MAX_LEVELS`` the rarest are lumped together. An empty
cell, ``NA``, ``NaN``, ``null`` (any case) or a value that is not finite is missing, which is
a level of its own (``income is missing``). A slice must hold ``min_rows`` rows on each
side, and is skipped when it holds every row or the same rows as a one-feature slice it
refines (nothing new to say).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jx_mlops.compare.slices.policy import SlicePolicy

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Codes = NDArray[np.int64]

MAX_LEVELS = 20
MISSING = ("", "na", "n/a", "nan", "null", "none")
Column = Sequence[str] | Sequence[float]


@dataclass(frozen=True)
class Feature:
    """One slicing column: the condition that each level code stands for."""

    name: str
    labels: tuple[str, ...]
    banded: bool = False
    lumped: int = 0  # how many rare values share the last level
    problem: str = ""  # what the search should say about how the column was read

    @property
    def levels(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Slice:
    """Rows meeting every condition: ``cell`` of ``partition`` (one feature or a pair)."""

    conditions: tuple[str, ...]
    partition: int
    cell: int
    rows: tuple[int, int]  # on the base's side and on the head's

    @property
    def name(self) -> str:
        return " and ".join(self.conditions)

    @property
    def depth(self) -> int:
        return len(self.conditions)


@dataclass(frozen=True)
class SliceSpace:
    """The features' levels, the partitions (one feature, or two) and the slices kept.

    ``codes`` holds one (rows x features) level matrix per side; they are the same object
    when both sides scored the same rows.
    """

    features: tuple[Feature, ...]
    partitions: tuple[tuple[int, ...], ...]
    slices: tuple[Slice, ...]
    codes: tuple[Codes, Codes]

    def cells(self, side: int, partition: int) -> Codes:
        """The cell of ``partition`` each row of ``side`` (0 base, 1 head) falls in."""
        return cell_ids(self.codes[side], self.partitions[partition], self.features)


def cell_ids(codes: Codes, partition: tuple[int, ...], features: Sequence[Feature]) -> Codes:
    """Row-wise cell numbers of ``partition`` (mixed radix over its features' levels)."""
    cells = np.zeros(len(codes), dtype=np.int64)
    for index in partition:
        cells = cells * features[index].levels + codes[:, index]
    return cells


def _text(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def _distinct(values: Column) -> tuple[list[str], NDArray[np.int64]]:
    """The column's distinct values as stripped text ('' where missing), and each row's
    index into them: the per-value work is done once per distinct value."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        found, codes = np.unique(values, return_inverse=True)
        distinct: list[object] = found.tolist()
        inverse = codes.reshape(-1).astype(np.int64)
    else:  # text: a dict is far quicker than sorting strings
        index = {value: code for code, value in enumerate(dict.fromkeys(values))}
        inverse = np.fromiter(map(index.__getitem__, values), dtype=np.int64,
                              count=len(values))
        distinct = list(index)
    texts = []
    for value in distinct:
        text = _text(value) if isinstance(value, float | int) and not isinstance(value, bool) \
            and math.isfinite(value) else str(value).strip()
        texts.append("" if text.lower() in MISSING or text in ("inf", "-inf") else text)
    return texts, inverse


class _Read:
    """Each column's distinct values and numbers, read once however often forming asks
    (the base's column is also the pooled one when both sides scored the same rows)."""

    def __init__(self) -> None:
        self._columns: list[Column] = []  # kept, so that their ids are not reused
        self._distinct: dict[int, tuple[list[str], NDArray[np.int64]]] = {}
        self._numbers: dict[int, NDArray[np.float64] | None] = {}

    def distinct(self, values: Column) -> tuple[list[str], NDArray[np.int64]]:
        if id(values) not in self._distinct:
            self._columns.append(values)
            self._distinct[id(values)] = _distinct(values)
        return self._distinct[id(values)]

    def numbers(self, values: Column) -> NDArray[np.float64] | None:
        """The column as floats (NaN where missing), or None when some value is text."""
        if id(values) not in self._numbers:
            texts, inverse = self.distinct(values)
            self._numbers[id(values)] = _numbers(texts, inverse)
        return self._numbers[id(values)]


def _numbers(texts: list[str], inverse: NDArray[np.int64]) -> NDArray[np.float64] | None:
    try:
        numbers = np.array([float(t) if t else math.nan for t in texts], dtype=np.float64)
    except ValueError:
        return None
    numbers[~np.isfinite(numbers)] = np.nan
    result: NDArray[np.float64] = numbers[inverse]
    return result


def _bands(name: str, edges: NDArray[np.float64]) -> tuple[str, ...]:
    if not len(edges):
        return (f"{name} = any",)
    inner = [f"{_text(low)} ≤ {name} < {_text(high)}" for low, high in itertools.pairwise(edges)]
    return (f"{name} < {_text(edges[0])}", *inner, f"{name} ≥ {_text(edges[-1])}")


class _Levels:
    """Turns a column's raw values into level codes (fitted on both sides' rows)."""

    def __init__(self, name: str, pooled: Column, policy: SlicePolicy, read: _Read) -> None:
        self.name = name
        self.read = read
        numbers = read.numbers(pooled)
        self.numeric = numbers is not None
        self.edges: NDArray[np.float64] | None = None
        self.values: dict[str, int] = {}
        lumped = 0
        problem = ""
        if numbers is None and name in policy.edges:
            problem = f"{name}: edges given, but the column is not numeric: its values are levels"
        present = numbers[~np.isnan(numbers)] if numbers is not None else None
        if present is not None and (name in policy.edges
                                    or len(np.unique(present)) > policy.bins):
            self.edges = np.array(sorted(policy.edges[name])) if name in policy.edges else \
                np.unique(np.quantile(present, np.arange(1, policy.bins) / policy.bins))
            labels = _bands(name, self.edges)
        else:
            texts, inverse = read.distinct(pooled)
            tally: dict[str, int] = {}
            for text, count in zip(texts, np.bincount(inverse, minlength=len(texts)).tolist(),
                                   strict=True):
                key = _text(float(text)) if text and numbers is not None else text
                if key:
                    tally[key] = tally.get(key, 0) + count
            distinct = list(tally)
            if len(distinct) > MAX_LEVELS:
                kept = set(sorted(distinct, key=lambda v: -tally[v])[:MAX_LEVELS - 1])
                lumped = len(distinct) - len(kept)
                distinct = [d for d in distinct if d in kept]
            order = sorted(distinct, key=lambda v: (float(v), v) if numbers is not None
                           else (0.0, v))
            self.values = {value: code for code, value in enumerate(order)}
            labels = tuple(f"{name} = {value}" for value in order)
            if lumped:
                labels += (f"{name}: {lumped} other values",)
                problem = (f"{name}: {len(distinct) + lumped} values; the {lumped} rarest "
                           f"are one level")
        self.feature = Feature(name, (*labels, f"{name} is missing"),
                               banded=self.edges is not None, lumped=lumped, problem=problem)

    def encode(self, values: Column) -> Codes:
        missing = self.feature.levels - 1
        if self.edges is not None:
            numbers = self.read.numbers(values)
            assert numbers is not None
            codes = np.searchsorted(self.edges, numbers, side="right").astype(np.int64)
            codes[np.isnan(numbers)] = missing
            return codes
        other = missing - 1 if self.feature.lumped else missing
        texts, inverse = self.read.distinct(values)
        lookup = np.array([self._code(t, missing, other) for t in texts], dtype=np.int64)
        result: Codes = lookup[inverse]
        return result

    def _code(self, text: str, missing: int, other: int) -> int:
        if not text:
            return missing
        if self.numeric:
            text = _text(float(text))
        return self.values.get(text, other)


def _pooled(base: Column, head: Column | None) -> Column:
    if head is None:
        return base
    return [*base, *head]


def _counts(codes: Codes, partition: tuple[int, ...], features: Sequence[Feature]) -> Codes:
    size = int(np.prod([features[i].levels for i in partition]))
    counts: Codes = np.bincount(cell_ids(codes, partition, features), minlength=size)
    return counts


def form_slices(policy: SlicePolicy, base: Mapping[str, Column],
                head: Mapping[str, Column] | None = None) -> SliceSpace:
    """The slices of ``policy.features`` over ``base``'s rows (and ``head``'s when the
    sides scored different rows; None: the same rows)."""
    read = _Read()
    levels = [_Levels(name, _pooled(base[name], head[name] if head else None), policy, read)
              for name in policy.features]
    features = tuple(level.feature for level in levels)
    base_codes = np.column_stack([lv.encode(base[lv.name]) for lv in levels]) \
        if levels else np.zeros((0, 0), dtype=np.int64)
    head_codes = base_codes if head is None else np.column_stack(
        [lv.encode(head[lv.name]) for lv in levels])
    partitions = [p for depth in range(1, policy.max_depth + 1)
                  for p in itertools.combinations(range(len(features)), depth)]
    slices: list[Slice] = []
    singles: dict[tuple[int, int], tuple[int, int]] = {}
    for index, partition in enumerate(partitions):
        counts = [_counts(c, partition, features) for c in (base_codes, head_codes)]
        for cell in np.flatnonzero(np.minimum(*counts) >= policy.min_rows):
            rows = (int(counts[0][cell]), int(counts[1][cell]))
            if rows == (len(base_codes), len(head_codes)):
                continue  # every row: the whole test set, judged by the metrics table
            levels_of = _unravel(int(cell), partition, features)
            if len(partition) == 1:
                singles[partition[0], levels_of[0]] = rows
            elif any(singles.get((f, lv)) == rows for f, lv in zip(partition, levels_of,
                                                                   strict=True)):
                continue  # the same rows as the one-feature slice it refines
            slices.append(Slice(tuple(features[f].labels[lv] for f, lv in
                                      zip(partition, levels_of, strict=True)),
                                index, int(cell), rows))
    return SliceSpace(features, tuple(partitions), tuple(slices), (base_codes, head_codes))


def _unravel(cell: int, partition: tuple[int, ...], features: Sequence[Feature]
             ) -> tuple[int, ...]:
    levels = []
    for index in reversed(partition):
        cell, level = divmod(cell, features[index].levels)
        levels.append(level)
    return tuple(reversed(levels))
