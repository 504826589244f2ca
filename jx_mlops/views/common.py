"""What every view shares: JSON for scripts and rich tables for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jx_mlops.console import out_console


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]],
           wrap: Sequence[str] = (), caption: str | None = None) -> None:
    """A table; only the ``wrap`` columns (free text) may wrap, the others stay on one line.

    Columns with nothing in any row are left out: a narrow terminal keeps what matters.
    """
    from rich import box
    from rich.table import Table

    keep = [i for i, _c in enumerate(columns) if not rows or any(row[i] for row in rows)]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False, collapse_padding=True,
                  caption=caption, caption_justify="left")
    for i in keep:
        column = columns[i]
        table.add_column(column, no_wrap=column not in wrap, overflow="fold"
                         if column in wrap else "ellipsis",
                         min_width=14 if column in wrap else None)
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    out_console().print(table)
