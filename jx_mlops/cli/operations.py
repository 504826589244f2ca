"""Operations: what production says back: verify, hold, insights (DORA's four keys)."""

from __future__ import annotations

import argparse

from jx_mlops.cli.common import (
    EXIT_OK,
    EXIT_USER_ERROR,
    add_command,
    add_env,
    add_json,
    model_and_version,
    project_config,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def cmd_verify(args: argparse.Namespace) -> int:
    from jx_mlops.promote.verify import verify_environment
    from jx_mlops.views.operations import show_verification

    config = project_config(args)
    names = [args.env] if args.env else [e.name for e in config.environments if e.verify]
    if not names:
        from jx_mlops.errors import ConfigError

        raise ConfigError(f"{config.path.name}: no environment has a verify: block (the "
                          "checks to run; see docs/operations.md)")
    results = {name: verify_environment(config, name, model=args.model) for name in names}
    show_verification(results, as_json=args.json)
    return EXIT_OK if all(r.passed for rs in results.values() for r in rs) else EXIT_USER_ERROR


_HOLD_ACTIONS = ("set", "clear", "list")


def cmd_hold(args: argparse.Namespace) -> int:
    from jx_mlops.errors import UsageError
    from jx_mlops.promote.holds import hold_model
    from jx_mlops.views.operations import show_hold

    if args.action not in _HOLD_ACTIONS:  # `hold MODEL@VERSION`: set is the default
        if args.model is not None:
            raise UsageError(f"hold: {args.action!r} is not one of {', '.join(_HOLD_ACTIONS)}")
        args.action, args.model = "set", args.action
    if args.action == "list":
        return cmd_hold_list(args)
    if args.model is None or args.env is None:
        raise UsageError(f"hold {args.action} needs MODEL@VERSION and --env ENV")
    model, version = model_and_version(args, required=True)
    assert version is not None  # required=True
    result = hold_model(project_config(args), model, version, args.env,
                        held=args.action != "clear", reason=args.reason or "")
    show_hold(result, as_json=args.json)
    return EXIT_OK


def cmd_hold_list(args: argparse.Namespace) -> int:
    from jx_mlops.promote.holds import list_holds
    from jx_mlops.views.registry import show_holds

    model = args.model.split("@", 1)[0] if args.model else None
    show_holds(list_holds(project_config(args), model=model, environment=args.env),
               as_json=args.json)
    return EXIT_OK


def cmd_insights(args: argparse.Namespace) -> int:
    from jx_mlops.promote.insights import collect_insights
    from jx_mlops.views.operations import show_insights

    insights = collect_insights(project_config(args), model=args.model, environment=args.env,
                                since=args.since)
    show_insights(insights, as_json=args.json, fmt=args.format)
    return EXIT_OK


def hold_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "hold", cmd_hold,
                    "hold a version in an environment (promote, rollback and ci release "
                    "refuse it), lift the hold with `hold clear`, see them with `hold list`",
                    alias_of="jx-mlops env hold" if alias else None)
    # Not argparse choices: `hold MODEL@VERSION` leaves the action out.
    p.add_argument("action", nargs="?", metavar="{set,clear,list}", default="set",
                   help="set (default), clear, or list the held versions")
    p.add_argument("model", metavar="MODEL[@VERSION]", nargs="?",
                   help="the version, with @vX.Y.Z (list: MODEL, one model's holds)")
    p.add_argument("--version", dest="version", metavar="VERSION",
                   help="vX.Y.Z (the same as MODEL@VERSION)")
    add_env(p, "the environment (required to set or clear; list: every one)")
    p.add_argument("--reason", help="why (recorded in the hold and the history)")
    add_json(p)


def add_parsers(sub: Any) -> None:
    """verify and insights; hold is an environment verb (``cli.env`` adds it)."""
    p = add_command(sub, "verify", cmd_verify,
                    "run the environments' production checks (Prometheus queries) on the "
                    "versions running there; on failure act as verify.on_failure says; exit "
                    "1 when a check fails")
    add_env(p, "one environment (default: every one with a verify: block)")
    p.add_argument("--model", metavar="MODEL", help="one model")
    add_json(p)

    p = add_command(sub, "insights", cmd_insights,
                    "DORA's four keys per model and environment (deployment frequency, lead "
                    "time, change failure rate, time to restore), from git history alone")
    p.add_argument("--model", metavar="MODEL", help="one model")
    add_env(p, "one environment")
    p.add_argument("--since", metavar="DATE",
                   help="only deployments from DATE on (YYYY-MM-DD, UTC)")
    p.add_argument("--format", choices=("table", "md"), default="table",
                   help="md: a Markdown report with Mermaid charts, for a scheduled job")
    add_json(p)
