"""Command line: parse arguments, call one function per command, map results to exit codes.

No git, DVC or HTTP here, and no heavy imports at start-up: each command imports what it
needs when it runs, so ``jx-mlops --help`` stays fast. Commands live in one module per
area (project, ci, registry, env, operations, forge); this module builds the parser and is
the program's one error boundary.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence

from jx_mlops import __version__
from jx_mlops.cli import ci, env, forge, operations, project, registry
from jx_mlops.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED, Handler
from jx_mlops.errors import JxMlopsError, UsageError, one_line_message

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["build_parser", "main"]


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized to the terminal once per process.

    argparse makes a formatter for every argument it adds (to check its metavar) and asks
    the terminal for its width each time; with some 170 arguments that was a quarter of
    `jx-mlops --help`.
    """

    _columns: int | None = None

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            if _Formatter._columns is None:
                import shutil

                _Formatter._columns = shutil.get_terminal_size().columns - 2
            width = _Formatter._columns
        super().__init__(prog, indent_increment, max_help_position, width)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises a UsageError instead of printing usage and exiting 2.

    Bad arguments are bad input like any other: one line through the same boundary, exit 1
    (subparsers are built from the same class, so every subcommand behaves the same).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def _remember_argparse_translations() -> None:
    """Look argparse's own strings up in gettext once per process, not once per parser.

    argparse translates "options", "positional arguments" and "show this help message and
    exit" for each of our 40 parsers, and gettext searches the disk for a catalogue on every
    call (none exists: CPython ships no translations); that was a fifth of `--help`. The
    answer cannot change within a process, so a cache returns the same strings.
    """
    names = vars(argparse)  # argparse's module globals: `_` is its gettext
    if not hasattr(names["_"], "cache_info"):
        names["_"] = functools.cache(names["_"])


def build_parser() -> argparse.ArgumentParser:
    _remember_argparse_translations()
    parser = _ArgumentParser(
        prog="jx-mlops",
        description="Pull requests drive machine learning: train in CI, compare metrics in "
                    "one PR comment, register versions as git tags, promote through "
                    "environment repositories.")
    parser.add_argument("--version", action="version", version=f"jx-mlops {__version__}")
    parser.add_argument("-C", dest="directory", default=".", metavar="DIR",
                        help="run as if started in DIR")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the traceback of an unexpected error (a bug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in (project, ci, registry, env, operations, forge):
        area.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; the one error boundary of the program."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"error: {one_line_message(exc.user_message())}", file=sys.stderr)
        return exc.exit_code
    try:
        from jx_mlops import console

        console.start(quiet=args.quiet or getattr(args, "json", False))
        handler: Handler = args.handler
        return handler(args)
    except JxMlopsError as exc:  # the user's to fix: one line, never a traceback
        print(f"error: {one_line_message(exc.user_message())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the boundary: anything else is a bug, reported as such
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"unexpected error: {type(exc).__name__}: {one_line_message(str(exc))} "
              "(this is a bug in jx-mlops; "
              "re-run with --verbose for the traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
