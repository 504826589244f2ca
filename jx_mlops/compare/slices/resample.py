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
  quantiles (probabilities exact to 1/65,536), ten times faster than drawing them. The
  finest cells' rows are padded to a few lengths so that one batched matrix product per
  length sums them; when the cells fit a dense array (one axis per feature), every
  partition's cells are its sums over the other axes, each sum shared by the partitions
  below it; otherwise each partition gathers its cells with ``reduceat``. Replicates are
  drawn a few dozen at a time, so the working set stays in cache.
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
# Elements of one chunk of draws: bounds memory to tens of MB whatever the data, and keeps
# the by-row chunks small enough to stay in cache.
_CHUNK = 1 << 22


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
    cells: NDArray[np.int64]  # the slices' cells of the partition (mixed radix)


@dataclass(frozen=True)
class _Padded:
    """Finest cells of one size class: their rows' quantities, padded with zero rows to
    one length, so one batched matrix product sums them all."""

    cells: NDArray[np.int64]  # positions among the finest cells
    values: NDArray[np.float32]  # cells x length x quantities


def _partitions(space: SliceSpace, finest: NDArray[np.int64]) -> list[_Partition]:
    gathered = []
    for partition, members in _groups(space).items():
        cells = cell_ids(finest, space.partitions[partition], space.features)
        order = np.argsort(cells, kind="stable")
        present, starts = np.unique(cells[order], return_index=True)
        wanted = np.array([space.slices[i].cell for i in members], dtype=np.int64)
        gathered.append(_Partition(members, order, starts, np.searchsorted(present, wanted),
                                   wanted))
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


def _lengths(longest: int) -> NDArray[np.int64]:
    """Padded cell lengths: 1, 2, 4, 8, then multiples of 8 about 25% apart (at most a
    quarter of a cell's draws are wasted on padding, and few size classes)."""
    lengths = [1, 2, 4, 8]
    while lengths[-1] < longest:
        lengths.append((lengths[-1] * 5 // 4 + 7) // 8 * 8 if lengths[-1] >= 32
                       else lengths[-1] + 8)
    return np.array(lengths, dtype=np.int64)


def _padded(inverse: NDArray[np.int64], values: NDArray[np.float32], cells: int
            ) -> list[_Padded]:
    """The finest cells by size class (``_lengths``), each padded with zero rows."""
    counts = np.bincount(inverse, minlength=cells)
    order = np.argsort(inverse, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.empty(len(order), dtype=np.int64)  # each row's position in its cell
    rank[order] = np.arange(len(order)) - starts[inverse[order]]
    grid = _lengths(int(counts.max(initial=1)))
    length = grid[np.searchsorted(grid, counts)]
    classes = []
    for size in np.unique(length).tolist():
        members = np.flatnonzero(length == size)
        slot = np.full(cells, -1)
        slot[members] = np.arange(len(members))
        padded = np.zeros((len(members), size, values.shape[1]), dtype=np.float32)
        rows = np.flatnonzero(length[inverse] == size)
        padded[slot[inverse[rows]], rank[rows]] = values[rows]
        classes.append(_Padded(members, padded))
    return classes


def _marginals(tensor: NDArray[np.float32], partitions: tuple[tuple[int, ...], ...]
               ) -> list[NDArray[np.float32]]:
    """Each partition's cells summed from the dense finest-cell tensor (one axis per
    feature, then the draws): each sum over one axis is done once and shared, dropping
    features in a fixed order, so reaching every pair costs a few passes, not one each."""
    every = tuple(range(tensor.ndim - 1))
    cache: dict[tuple[int, ...], NDArray[np.float32]] = {every: tensor}

    def kept(keep: tuple[int, ...]) -> NDArray[np.float32]:
        if keep not in cache:
            extra = min(set(every) - set(keep))
            parent = tuple(sorted((*keep, extra)))
            cache[keep] = kept(parent).sum(axis=parent.index(extra))
        return cache[keep]

    return [kept(p).reshape(-1, tensor.shape[-1]) for p in partitions]


def _distinct_columns(quantities: Matrix) -> NDArray[np.int64]:
    """For each column, the first column equal to it."""
    first = list(range(quantities.shape[1]))
    for j in range(quantities.shape[1]):
        first[j] = next(i for i in range(j + 1)
                        if i == j or np.array_equal(quantities[:, i], quantities[:, j]))
    return np.array(first, dtype=np.int64)


def _by_row(space: SliceSpace, side: int, quantities: Matrix, replicates: int,
            rng: np.random.Generator) -> Sums:
    finest, inverse = _finest(space, side)
    partitions = _partitions(space, finest)
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
    full = np.zeros((len(space.slices), quantities.shape[1]))
    per_cell = np.add.reduceat(quantities[order], starts, axis=0)  # exact, in float64
    for p in partitions:
        full[p.members] = np.add.reduceat(per_cell[p.order], p.starts, axis=0)[p.picks]
    # Replicates in float32 (the weights are small integers, a slice's sums need no more),
    # each distinct column once (the paired sides share the row count).
    column = _distinct_columns(quantities)
    values = quantities[:, sorted(set(column))].astype(np.float32)
    column = np.searchsorted(sorted(set(column)), column)
    classes = _padded(inverse, values, len(finest))
    levels = [f.levels for f in space.features]
    dense = math.prod(levels) <= max(1 << 16, 4 * len(finest))
    cells = math.prod(levels) if dense else len(finest)
    where = cell_ids(finest, tuple(range(len(levels))), space.features) if dense else \
        np.arange(len(finest))
    padded_rows = sum(c.values.shape[0] * c.values.shape[1] for c in classes)
    width = values.shape[1]
    step = max(1, min(replicates, _CHUNK // max(1, padded_rows, cells * width)))
    draws = np.empty((replicates, len(space.slices), width))
    table = _poisson_table()
    for start in range(0, replicates, step):
        size = min(step, replicates - start)
        sums = np.zeros((cells, size, width), dtype=np.float32)
        for c in classes:
            count = len(c.cells) * size * c.values.shape[1]
            bits = rng.bit_generator.random_raw(-(-count // 4)).view(np.uint16)[:count]
            weights = table[bits].reshape(len(c.cells), size, c.values.shape[1])
            sums[where[c.cells]] = np.matmul(weights, c.values)
        if dense:
            gathered = _marginals(sums.reshape(*levels, size * width), space.partitions)
            for p in partitions:
                block = gathered[space.slices[p.members[0]].partition][p.cells]
                draws[start:start + size, p.members] = block.reshape(
                    len(p.members), size, width).transpose(1, 0, 2)
        else:
            flat = sums.reshape(cells, size * width)
            for p in partitions:
                block = np.add.reduceat(flat[p.order], p.starts, axis=0)[p.picks]
                draws[start:start + size, p.members] = block.reshape(
                    len(p.members), size, width).transpose(1, 0, 2)
    return Sums(full, draws[..., column])


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
