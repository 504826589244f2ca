"""Bootstrap replicates of every slice's sums of per-row quantities, vectorised (pure numpy).

The resampling is the *Poisson bootstrap*: each row is drawn a Poisson(1) number of
times, independently, the large-sample equivalent of drawing n rows with replacement. Its
virtue here is that slices stay independent of one another: a slice's replicate needs only
its own rows' weights, so every slice of every partition is resampled at once.

Two exact ways to draw it, chosen by the data:

- **by class**, when the rows carry few distinct quantity vectors (classification: was
  the base right, was the head right, the true and predicted classes): the weighted count
  of a slice's rows of one class is Poisson(count), so a replicate is one Poisson draw per
  slice and class, however many rows there are.
- **by row**, otherwise (regression errors): Poisson(1) weights for every row, summed per
  *finest cell* (rows sharing every feature's level) and then per slice, each slice being
  a union of finest cells. The weights come from a 65,536-entry table of the Poisson(1)
  quantiles (probabilities exact to 1/65,536), ten times faster than drawing them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jx_mlops.compare.slices.forming import SliceSpace, cell_ids

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Matrix = NDArray[np.float64]

MAX_CLASSES = 64
# Elements of one chunk of draws: bounds memory to tens of MB whatever the data.
_CHUNK = 20_000_000


@dataclass(frozen=True)
class Sums:
    """Per-slice sums of each quantity: on the rows as scored (``full``, slices x
    quantities) and in every replicate (``replicates``, replicates x slices x quantities)."""

    full: Matrix
    replicates: Matrix


@functools.cache
def _poisson_table() -> NDArray[np.float32]:
    """Poisson(1) quantiles at the midpoints of 65,536 equal steps: a weight per uint16."""
    cdf = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(24)])
    steps = (np.arange(1 << 16) + 0.5) / (1 << 16)
    table: NDArray[np.float32] = np.searchsorted(cdf, steps, side="right").astype(np.float32)
    return table


def _groups(space: SliceSpace) -> dict[int, list[int]]:
    """Slice indices by partition."""
    groups: dict[int, list[int]] = {}
    for index, piece in enumerate(space.slices):
        groups.setdefault(piece.partition, []).append(index)
    return groups


def _by_class(space: SliceSpace, side: int, classes: Matrix, inverse: NDArray[np.int64],
              replicates: int, rng: np.random.Generator) -> Sums:
    width = len(classes)
    counts = np.zeros((len(space.slices), width), dtype=np.int64)
    for partition, members in _groups(space).items():
        cells = space.cells(side, partition)
        size = int(np.prod([space.features[i].levels for i in space.partitions[partition]]))
        table = np.bincount(cells * width + inverse, minlength=size * width).reshape(size, width)
        counts[members] = table[[space.slices[i].cell for i in members]]
    draws = np.empty((replicates, len(space.slices), classes.shape[1]))
    step = max(1, _CHUNK // max(1, replicates * width))
    for start in range(0, len(space.slices), step):
        part = counts[start:start + step]
        draws[:, start:start + step] = rng.poisson(part, size=(replicates, *part.shape)) \
            @ classes
    return Sums(counts @ classes, draws)


@dataclass(frozen=True)
class _Partition:
    """How a partition's slices gather finest cells: the cells in the order of the
    partition's cell they fall in, where each of its cells starts, and which of those
    starts are the slices'."""

    members: list[int]
    order: NDArray[np.int64]
    starts: NDArray[np.int64]
    picks: NDArray[np.int64]


def _partitions(space: SliceSpace, finest: NDArray[np.int64]) -> list[_Partition]:
    gathered = []
    for partition, members in _groups(space).items():
        cells = cell_ids(finest, space.partitions[partition], space.features)
        order = np.argsort(cells, kind="stable")
        present, starts = np.unique(cells[order], return_index=True)
        picks = np.searchsorted(present, [space.slices[i].cell for i in members])
        gathered.append(_Partition(members, order, starts, picks))
    return gathered


def _finest(space: SliceSpace, side: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct rows of level codes (cells of every feature at once), and each row's
    cell: through one integer key when the levels' product fits in one."""
    codes = space.codes[side]
    if math.prod(f.levels for f in space.features) < 1 << 62:
        keys = cell_ids(codes, tuple(range(len(space.features))), space.features)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return codes[first], inverse.reshape(-1)
    finest, inverse = np.unique(codes, axis=0, return_inverse=True)
    return finest, inverse.reshape(-1)


def _by_row(space: SliceSpace, side: int, quantities: Matrix, replicates: int,
            rng: np.random.Generator) -> Sums:
    finest, inverse = _finest(space, side)
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
    partitions = _partitions(space, finest)
    width = quantities.shape[1]
    full = np.zeros((len(space.slices), width))
    per_cell = np.add.reduceat(quantities[order], starts, axis=0)  # exact, in float64
    for p in partitions:
        full[p.members] = np.add.reduceat(per_cell[p.order], p.starts, axis=0)[p.picks]
    # Replicates in float32: the weights are small integers, and a slice's sums need no
    # more. Plain ufunc loops, no BLAS: its threads spin on a busy machine.
    values = quantities[order].astype(np.float32)
    draws = np.empty((replicates, len(space.slices), width))
    table, rows = _poisson_table(), len(values)
    step = max(1, _CHUNK // max(1, rows * width))
    for start in range(0, replicates, step):
        size = min(step, replicates - start)
        weights = table[rng.integers(0, 1 << 16, size=(size, rows), dtype=np.uint16)]
        cells = np.add.reduceat(weights[:, :, None] * values[None], starts, axis=1)
        for p in partitions:
            draws[start:start + size, p.members] = np.add.reduceat(
                cells[:, p.order], p.starts, axis=1)[:, p.picks]
    return Sums(full, draws)


def slice_sums(space: SliceSpace, side: int, quantities: Matrix, replicates: int,
               rng: np.random.Generator) -> Sums:
    """Every slice's sums of the columns of ``quantities`` (one row per row of ``side``),
    as scored and in ``replicates`` Poisson-bootstrap replicates."""
    few = _classes(quantities)
    if few is not None:
        return _by_class(space, side, few[0], few[1], replicates, rng)
    return _by_row(space, side, quantities, replicates, rng)


def _classes(quantities: Matrix) -> tuple[Matrix, NDArray[np.int64]] | None:
    """The distinct rows of ``quantities`` and each row's index, when there are at most
    ``MAX_CLASSES`` (None otherwise, found cheaply column by column)."""
    key = np.zeros(len(quantities), dtype=np.int64)
    for column in quantities.T:
        distinct, inverse = np.unique(column, return_inverse=True)
        if len(distinct) > MAX_CLASSES:
            return None
        key = key * len(distinct) + inverse.reshape(-1)
        _, key = np.unique(key, return_inverse=True)  # keep the key small
        key = key.reshape(-1).astype(np.int64)
        if key.max(initial=0) >= MAX_CLASSES:
            return None
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return quantities[first], inverse.reshape(-1).astype(np.int64)
