"""Tables for people, laid out to fit the terminal's width.

Each column says how it may give way when the table is too wide, and they give way in this
order: notes leave the table for a line under their row (``detail``); a header wider than
its column's cells wraps onto two lines (nothing is lost); people, emails and URLs are cut
with "…" (``cut`` at the end, ``middle`` in the middle, where a path or URL keeps its last
part); free text wraps onto more lines (``wrap``); last, cut columns are cut further.
Versions, repository, model and stage names, numbers and dates (``keep``) are never cut: a
table too narrow for them overflows rather than show `v0.0…`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

Fit = Literal["keep", "cut", "middle", "wrap", "detail"]
GAP = 2  # spaces between columns
ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    """A column's header and how it gives way (see the module docstring)."""

    name: str
    fit: Fit = "keep"
    width: int = 0  # the laid-out width; 0 until ``layout`` sets it
    wrap_header: bool = False


def as_column(column: Column | str) -> Column:
    return column if isinstance(column, Column) else Column(column)


def _words(text: str) -> list[str]:
    return text.split()


def _longest_word(text: str) -> int:
    return max((cell_len(w) for w in _words(text)), default=0)


def cut_end(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in "…" when something was cut."""
    if cell_len(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        size = get_character_cell_size(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + ELLIPSIS


def cut_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by "…" when too long (a
    URL or path keeps two thirds for its end, the part that tells it apart)."""
    if cell_len(text) <= width:
        return text
    if width < 3:
        return cut_end(text, width)
    tail_cells = (width - 1) * 2 // 3
    tail, used = [], 0
    for char in reversed(text):
        size = get_character_cell_size(char)
        if used + size > tail_cells:
            break
        tail.append(char)
        used += size
    head = cut_end(text, width - used)[:-1]
    return head + ELLIPSIS + "".join(reversed(tail))


def wrap_cells(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces into lines of at most ``width`` cells; a word longer
    than a line is folded."""
    lines: list[str] = []
    line = ""
    for word in _words(text):
        while cell_len(word) > width:
            if line:
                lines.append(line)
                line = ""
            head = cut_end(word, width + 1)[:-1]
            lines.append(head)
            word = word[len(head):]
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line or not lines:
        lines.append(line)
    return lines


def _cell_lines(column: Column, text: str) -> list[str]:
    if column.fit == "wrap":
        return wrap_cells(text, column.width)
    if column.fit == "middle":
        return [cut_middle(text, column.width)]
    if column.fit == "cut":
        return [cut_end(text, column.width)]
    return [text]


def _header_lines(column: Column) -> list[str]:
    if column.wrap_header:
        return wrap_cells(column.name, column.width)
    return [cut_end(column.name, column.width)]


@dataclass(frozen=True)
class Layout:
    """The columns as laid out, and which columns left the table for detail lines."""

    columns: tuple[Column, ...]
    index: tuple[int, ...]  # each laid-out column's index in the rows
    details: tuple[int, ...]  # the rows' indexes of the columns shown as detail lines

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns) + GAP * max(len(self.columns) - 1, 0)


def _shrink(columns: dict[int, Column], fits: tuple[Fit, ...], floor: Callable[[int], int],
            excess: int) -> int:
    """Narrow the columns whose fit is in ``fits``, widest first, down to ``floor(index)``
    (or their width, if less); the excess left."""
    while excess > 0:
        candidates = [i for i, c in columns.items() if c.fit in fits and c.width > floor(i)]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: columns[i].width)
        columns[widest] = replace(columns[widest], width=columns[widest].width - 1)
        excess -= 1
    return excess


def layout(columns: Sequence[Column | str], rows: Sequence[Sequence[str]],
           width: int) -> Layout:
    """Lay ``columns`` out for ``width`` cells; columns empty in every row are left out."""
    specs = [as_column(c) for c in columns]
    shown = [i for i in range(len(specs)) if not rows or any(row[i] for row in rows)]
    content = {i: max((cell_len(row[i]) for row in rows), default=0) for i in shown}
    words = {i: max((_longest_word(row[i]) for row in rows), default=0) for i in shown}
    heads = {i: _longest_word(specs[i].name) for i in shown}
    laid = {i: replace(specs[i], width=max(cell_len(specs[i].name), content[i]))
            for i in shown}

    def excess() -> int:
        return sum(c.width for c in laid.values()) + GAP * max(len(laid) - 1, 0) - width

    details = [i for i in shown if specs[i].fit == "detail"]
    if excess() > 0 and details and len(details) < len(laid):
        for i in details:
            del laid[i]
    else:
        details = []
    left = excess()
    # Headers onto two lines where the cells are narrower than the header (nothing is
    # lost), the most saving first.
    for i in sorted(laid, key=lambda i: content[i] - laid[i].width):
        floor = max(content[i], heads[i])
        if left > 0 and floor < laid[i].width:
            left -= laid[i].width - floor
            laid[i] = replace(laid[i], width=floor, wrap_header=True)
    left = _shrink(laid, ("cut", "middle"), lambda i: max(heads[i], 10), left)
    # Free text wraps between words first, and folds a word only if it must.
    left = _shrink(laid, ("wrap",), lambda i: max(heads[i], 12, words[i]), left)
    left = _shrink(laid, ("wrap",), lambda i: max(heads[i], 12), left)
    _shrink(laid, ("cut", "middle"), lambda i: 4, left)
    return Layout(tuple(laid.values()), tuple(laid), tuple(details))


def render(title: str | None, columns: Sequence[Column | str], rows: Sequence[Sequence[str]],
           width: int, caption: str | None = None) -> Text:
    """The whole table as text no wider than ``width`` (unless its kept columns are)."""
    fitted = layout(columns, rows, width)
    out = Text()
    if title:
        out.append(f"{title}\n", style="italic")
    header = [_header_lines(c) for c in fitted.columns]
    for line in _join(fitted.columns, header):
        out.append(f"{line}\n", style="bold")
    out.append("─" * fitted.width + "\n")
    names = [as_column(c).name for c in columns]
    for row in rows:
        lines = [_cell_lines(c, row[i])
                 for c, i in zip(fitted.columns, fitted.index, strict=True)]
        for line in _join(fitted.columns, lines):
            out.append(f"{line}\n")
        for i in fitted.details:
            if row[i]:
                label = f"{names[i]}: " if len(fitted.details) > 1 else ""
                for line in wrap_cells(f"{label}{row[i]}", max(width - 2, 20)):
                    out.append(f"  {line}\n", style="dim")
    if caption:
        for line in wrap_cells(caption, max(width, 20)):
            out.append(f"{line}\n", style="dim")
    out.rstrip()
    return out


def _join(columns: Sequence[Column], cells: Sequence[list[str]]) -> list[str]:
    height = max((len(c) for c in cells), default=1)
    lines = []
    for n in range(height):
        parts = [_pad(cell[n] if n < len(cell) else "", column.width)
                 for column, cell in zip(columns, cells, strict=True)]
        lines.append((" " * GAP).join(parts).rstrip())
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - cell_len(text), 0)
