"""What every view shares: JSON for scripts and tables for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jx_mlops.console import out_console
from jx_mlops.views.table import Column, render


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def print_table(title: str | None, columns: Sequence[Column | str],
                rows: Sequence[Sequence[str]], caption: str | None = None) -> None:
    """A table fitted to the terminal's width (``views.table``: each column says how it
    gives way); columns with nothing in any row are left out."""
    console = out_console()
    console.print(render(title, columns, rows, console.width, caption=caption),
                  soft_wrap=True)
