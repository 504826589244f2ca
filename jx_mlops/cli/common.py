"""Helpers every command module shares: exit codes, project loading, parser pieces."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from pathlib import Path
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


def add_command(sub: Any, name: str, handler: Handler, help_text: str, *,
                alias_of: str | None = None) -> argparse.ArgumentParser:
    """A subcommand; ``alias_of`` names the command it is another name for (an alias is
    left out of its parent's list of commands, and its description says what it is)."""
    if alias_of is None:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text,
                                                         description=help_text)
    else:
        parser = sub.add_parser(name, description=f"{help_text} (the same as `{alias_of}`)")
    parser.set_defaults(handler=handler)
    return parser


def add_env(parser: argparse.ArgumentParser, help_text: str, *, required: bool = False,
            alias: str | None = None) -> None:
    """``--env ENV``, the one name of an environment option (``alias``: an older name)."""
    names = ("--env", alias) if alias else ("--env",)
    parser.add_argument(*names, dest="env", metavar="ENV", required=required, help=help_text)


def add_model_reference(parser: argparse.ArgumentParser, version_help: str, *,
                        version_alias: str | None = None) -> None:
    """``MODEL[@VERSION]`` and ``--version V``: the two spellings of a model version."""
    parser.add_argument("model", metavar="MODEL[@VERSION]",
                        help="a model of mlops.yaml, with @vX.Y.Z (or @latest) to name a "
                             "version")
    names = ("--version", version_alias) if version_alias else ("--version",)
    parser.add_argument(*names, dest="version", metavar="VERSION", help=version_help)


def model_and_version(args: argparse.Namespace, *, required: bool = False
                      ) -> tuple[str, str | None]:
    """(model, version) from ``MODEL@VERSION`` or ``MODEL --version VERSION``.

    Either spelling is checked the same way; both at once must agree; ``required``: one of
    them must name the version.
    """
    from jx_mlops.errors import UsageError
    from jx_mlops.registry.registration import parse_reference

    model, version = args.model, args.version
    if "@" in model:
        model, named = parse_reference(model)
        if version is not None and version != named:
            raise UsageError(f"{args.model} and --version {version} name two versions; "
                             "give one")
        version = named
    elif version is not None:
        try:
            parse_reference(f"{model}@{version}")
        except UsageError:
            raise UsageError(f"invalid version {version!r}: expected vX.Y.Z, such as v1.2.0 "
                             "(or latest)") from None
    if required and version is None:
        raise UsageError(f"which version of {model}? name it as {model}@vX.Y.Z "
                         "(or --version vX.Y.Z; latest for the newest)")
    return model, version


def html_target(value: str | None) -> Path | None:
    """``--html FILE`` checked before any work: its folder must exist (nothing is created
    behind the user's back)."""
    if value is None:
        return None
    from pathlib import Path

    from jx_mlops.errors import UsageError

    path = Path(value)
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"--html {value}: folder {folder} does not exist",
                         hint=f"create it first: mkdir -p {folder}")
    if path.is_dir():
        raise UsageError(f"--html {value}: is a directory; name a file such as "
                         f"{path / 'report.html'}")
    return path


def wrote_html(path: Path) -> None:
    """Say where the HTML report went: on stderr (stdout may be JSON or markdown), and
    with --quiet or --json too (it is a result, not progress)."""
    import sys

    print(f"HTML report written to {path.resolve()}", file=sys.stderr)


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
