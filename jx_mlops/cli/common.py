"""Helpers every command module shares: exit codes, project loading, parser pieces."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

Handler = Callable[[argparse.Namespace], int]

EXIT_OK, EXIT_USER_ERROR, EXIT_UNEXPECTED, EXIT_INTERRUPTED = 0, 1, 3, 130


def project_config(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from jx_mlops.config.project import find_project_root, load_config

    return load_config(find_project_root(Path(args.directory)))


def print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, sort_keys=False))


def parse_pairs(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    from jx_mlops.errors import UsageError

    pairs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {item!r}: expected VAR=VALUE")
        pairs[key] = value
    return pairs


def count(text: str) -> int:
    """An argparse type: a whole number >= 0, ASCII digits only."""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text[:40]!r}")
    return int(text)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def add_command(sub: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def forge_and_repo(args: argparse.Namespace) -> tuple[Any, str]:
    from pathlib import Path

    from jx_mlops.config.project import find_project_root, load_config
    from jx_mlops.forge.kinds import open_forge

    if args.repo:
        return open_forge(), args.repo
    config = load_config(find_project_root(Path(args.directory)))
    return open_forge(config.forge), config.forge.repo


def report_options(args: argparse.Namespace) -> Any:
    from jx_mlops.evaluation.build import ReportOptions

    return ReportOptions(trend_commits=args.trend)


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", metavar="FILE",
                        help="also write the full report as a self-contained HTML file")
    parser.add_argument("--trend", type=count, default=10, metavar="N",
                        help="chart metrics over the last N commits of the base (0: none)")
