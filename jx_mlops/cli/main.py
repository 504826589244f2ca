"""Command line: parse arguments, call one function per command, map results to exit codes.

No git, DVC or HTTP here, and no heavy imports at start-up: each command imports what it
needs when it runs, so ``jx-mlops --help`` stays fast. Commands live in one module per
area (project, ci, registry, operations, forge); this module builds the parser and is the program's
one error boundary.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from jx_mlops import __version__
from jx_mlops.cli import ci, forge, operations, project, registry
from jx_mlops.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED, Handler
from jx_mlops.errors import JxMlopsError, UsageError, one_line_message

__all__ = ["build_parser", "main"]


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises a UsageError instead of printing usage and exiting 2.

    Bad arguments are bad input like any other: one line through the same boundary, exit 1
    (subparsers are built from the same class, so every subcommand behaves the same).
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="jx-mlops",
        description="Pull requests drive machine learning: train in CI, compare metrics in "
                    "one PR comment, register versions as git tags, promote through "
                    "environment repositories.")
    parser.add_argument("--version", action="version", version=f"jx-mlops {__version__}")
    parser.add_argument("-C", dest="directory", default=".", metavar="DIR",
                        help="run as if started in DIR")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show tracebacks of unexpected errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in (project, ci, registry, operations, forge):
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

        console.set_quiet(args.quiet or getattr(args, "json", False))
        handler: Handler = args.handler
        return handler(args)
    except JxMlopsError as exc:
        print(f"error: {one_line_message(exc.user_message())}", file=sys.stderr)
        if args.verbose:
            import traceback

            traceback.print_exc()
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
