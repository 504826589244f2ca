"""What long-running flows tell the user while they work: steps and spinners on stderr.

stdout stays for results (tables, markdown, JSON) so ``--json`` output can be piped;
progress goes to stderr and is silenced by ``--quiet``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_state: dict[str, Any] = {"quiet": False, "console": None, "out": None}


def start(*, quiet: bool) -> None:
    """A command begins: progress shown unless ``quiet``; the consoles are made afresh on
    first use, for the terminal (and its width) as it is now."""
    _state.update(quiet=quiet, console=None, out=None)


def err_console() -> Console:
    """The stderr console (created on first use: importing rich costs start-up time)."""
    if _state["console"] is None:
        from rich.console import Console

        _state["console"] = Console(stderr=True, highlight=False)
    console: Console = _state["console"]
    return console


def out_console() -> Console:
    """The stdout console, for results."""
    if _state["out"] is None:
        from rich.console import Console

        _state["out"] = Console(highlight=False, soft_wrap=True)
    console: Console = _state["out"]
    return console


def info(message: str) -> None:
    """A line of progress (markup allowed)."""
    if not _state["quiet"]:
        err_console().print(message)


def warn(message: str) -> None:
    """A warning; shown even with --quiet."""
    from rich.markup import escape

    err_console().print(f"[yellow]warning:[/yellow] {escape(message)}")


@contextlib.contextmanager
def step(message: str) -> Iterator[Callable[[str], None]]:
    """Show ``message`` with a spinner while the block runs, then a tick and its duration.

    The block receives a function that replaces the spinner's detail text (e.g. the DVC
    stage now running).
    """
    if _state["quiet"]:
        yield lambda _detail: None
        return
    console = err_console()
    started = time.monotonic()
    try:
        with console.status(f"{message}…") as status:
            def detail(text: str) -> None:
                from rich.markup import escape

                status.update(f"{message}… [dim]{escape(_cut(text, 80))}[/dim]")

            yield detail
    except BaseException:  # a step that failed says so before its error is shown
        console.print(f"[red]✗[/red] {message} [dim]({time.monotonic() - started:.1f}s)[/dim]")
        raise
    elapsed = time.monotonic() - started
    console.print(f"[green]✓[/green] {message} [dim]({elapsed:.1f}s)[/dim]")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
