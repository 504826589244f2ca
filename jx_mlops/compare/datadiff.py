"""Which DVC-tracked data changed between two revisions (pure; hashes only, no download)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from jx_mlops.dvc.lockfile import OutputInfo

DataStatus = Literal["added", "modified", "deleted", "unchanged"]


@dataclass(frozen=True)
class DataChange:
    """One tracked file or directory compared by content hash."""

    path: str
    status: DataStatus
    source: str
    base: OutputInfo | None
    head: OutputInfo | None

    @property
    def md5(self) -> str | None:
        """The current hash (head's, or base's for a deleted input)."""
        side = self.head or self.base
        return side.md5 if side is not None else None

    @property
    def size_delta(self) -> int | None:
        if self.base is None or self.head is None:
            return None
        if self.base.size is None or self.head.size is None:
            return None
        return self.head.size - self.base.size


def compare_data(base: Sequence[OutputInfo], head: Sequence[OutputInfo]) -> list[DataChange]:
    """Pair outputs by path and classify them; sorted by path."""
    before = {o.path: o for o in base}
    after = {o.path: o for o in head}
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        status: DataStatus
        if old is None:
            status = "added"
        elif new is None:
            status = "deleted"
        else:
            status = "unchanged" if old.md5 == new.md5 else "modified"
        source = new.stage if new is not None else old.stage if old is not None else ""
        changes.append(DataChange(path, status, source, old, new))
    return changes


def human_size(size: int | None) -> str:
    """1536 -> '1.5 KiB'; None -> '?'."""
    if size is None:
        return "?"
    value = float(abs(size))
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return ("-" if size < 0 else "") + text
        value /= 1024
    raise AssertionError("unreachable")
