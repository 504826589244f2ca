"""Operations: what production says back: verify, hold, insights (DORA's four keys)."""

from __future__ import annotations

import argparse

from jx_mlops.cli.common import EXIT_OK, EXIT_USER_ERROR, add_command, add_json, project_config

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
    from jx_mlops.registry.registration import parse_reference
    from jx_mlops.views.operations import show_hold

    if args.action not in _HOLD_ACTIONS:  # `hold MODEL@VERSION`: set is the default
        if args.reference is not None:
            raise UsageError(f"hold: {args.action!r} is not one of {', '.join(_HOLD_ACTIONS)}")
        args.action, args.reference = "set", args.action
    if args.action == "list":
        return cmd_hold_list(args)
    if args.reference is None or args.env is None:
        raise UsageError(f"hold {args.action} needs MODEL@VERSION and --env ENV")
    model, version = parse_reference(args.reference)
    result = hold_model(project_config(args), model, version, args.env,
                        held=args.action != "clear", reason=args.reason or "")
    show_hold(result, as_json=args.json)
    return EXIT_OK


def cmd_hold_list(args: argparse.Namespace) -> int:
    from jx_mlops.promote.holds import list_holds
    from jx_mlops.views.registry import show_holds

    model = args.reference.split("@", 1)[0] if args.reference else None
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


def add_parsers(sub: Any) -> None:
    p = add_command(sub, "verify", cmd_verify,
                    "run the environments' production checks (Prometheus queries) on the "
                    "versions running there; on failure act as verify.on_failure says; exit "
                    "1 when a check fails")
    p.add_argument("--env", metavar="ENV",
                   help="one environment (default: every one with a verify: block)")
    p.add_argument("--model", metavar="MODEL", help="one model")
    add_json(p)

    p = add_command(sub, "hold", cmd_hold,
                    "hold a version in an environment (promote, rollback and ci release "
                    "refuse it), lift the hold with `hold clear`, see them with `hold list`")
    # Not argparse choices: `hold MODEL@VERSION` leaves the action out.
    p.add_argument("action", nargs="?", metavar="{set,clear,list}", default="set",
                   help="set (default), clear, or list the held versions")
    p.add_argument("reference", metavar="MODEL@VERSION", nargs="?",
                   help="the version (list: MODEL, to list one model's holds)")
    p.add_argument("--env", metavar="ENV",
                   help="the environment (required to set or clear; list: every one)")
    p.add_argument("--reason", help="why (recorded in the hold and the history)")
    add_json(p)

    p = add_command(sub, "insights", cmd_insights,
                    "DORA's four keys per model and environment (deployment frequency, lead "
                    "time, change failure rate, time to restore), from git history alone")
    p.add_argument("--model", metavar="MODEL", help="one model")
    p.add_argument("--env", metavar="ENV", help="one environment")
    p.add_argument("--since", metavar="DATE",
                   help="only deployments from DATE on (YYYY-MM-DD, UTC)")
    p.add_argument("--format", choices=("table", "md"), default="table",
                   help="md: a Markdown report with Mermaid charts, for a scheduled job")
    add_json(p)
