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

    from jx_mlops.config.project import ProjectConfig


EXIT_INCONCLUSIVE = 4  # verify: no check failed, but one said nothing (no rollback)


def cmd_verify(args: argparse.Namespace) -> int:
    import sys

    from jx_mlops.promote.verify import committed_config, verify_environment, worst
    from jx_mlops.views.operations import show_verification

    config, note = committed_config(project_config(args))
    if note:
        print(note, file=sys.stderr)
    names = [args.env] if args.env else [e.name for e in config.environments if e.verify]
    if not names:
        print(f"note: {config.path.name}: no environment has a verify: block, so there is "
              "nothing to check (see docs/operations.md)", file=sys.stderr)
        if args.json:
            show_verification({}, as_json=True)
        return EXIT_OK
    results = {name: verify_environment(config, name, model=args.model, dry_run=args.dry_run)
               for name in names}
    # No Prometheus URL: the checks did not run, which is not a failure (exit 0).
    unconfigured = [name for name in names if not _prometheus(config, name)]
    show_verification(results, as_json=args.json, unconfigured=unconfigured)
    outcome = worst(r.outcome for rs in results.values() for r in rs)
    if any(r.action == "error" for rs in results.values() for r in rs):
        return EXIT_USER_ERROR
    return {"pass": EXIT_OK, "fail": EXIT_USER_ERROR}.get(outcome, EXIT_INCONCLUSIVE)


def _prometheus(config: ProjectConfig, environment: str) -> str | None:
    from jx_mlops.config.verify import prometheus_url

    verify = config.environment(environment).verify
    return prometheus_url(verify) if verify is not None else None


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


def cmd_freeze(args: argparse.Namespace) -> int:
    return _set_freeze(args, frozen=True)


def cmd_unfreeze(args: argparse.Namespace) -> int:
    return _set_freeze(args, frozen=False)


def _set_freeze(args: argparse.Namespace, *, frozen: bool) -> int:
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.promote.freezes import set_freeze
    from jx_mlops.views.operations import show_freeze

    config = project_config(args)
    result = set_freeze(open_forge(config.forge), config.environment(args.env), frozen=frozen,
                        reason=getattr(args, "reason", None) or "",
                        until=getattr(args, "until", None))
    show_freeze(result, as_json=args.json)
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


def freeze_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "freeze", cmd_freeze,
                    "freeze an environment: promote, rollback and ci release are refused "
                    "there (emergency rollbacks pass) until `unfreeze` or --until; recorded "
                    "in its environment repository",
                    alias_of="jx-mlops env freeze" if alias else None)
    add_env(p, "the environment to freeze", required=True)
    p.add_argument("--reason", required=True, help="why (recorded and shown by status)")
    p.add_argument("--until", metavar="TIME",
                   help="when it ends by itself: an ISO 8601 time with its offset "
                        "(2026-12-24T09:00+01:00, or Z) or a duration from now (2h, 3d)")
    add_json(p)


def unfreeze_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "unfreeze", cmd_unfreeze, "lift the freeze of an environment",
                    alias_of="jx-mlops env unfreeze" if alias else None)
    add_env(p, "the environment to unfreeze", required=True)
    add_json(p)


def add_parsers(sub: Any) -> None:
    """verify and insights; hold, freeze and unfreeze are environment verbs (``cli.env``
    adds them)."""
    p = add_command(sub, "verify", cmd_verify,
                    "run the environments' production checks (Prometheus queries) on the "
                    "versions running there; pass, fail or inconclusive")
    p.description = (
                    "Run the environments' production checks (Prometheus queries) on the "
                    "versions running there. A check passes, fails, or is inconclusive "
                    "(Prometheus unreachable, a query error, no sample, several series, "
                    "NaN). Within verify.within (default 30m) of a promotion a failure "
                    "acts as verify.on_failure says (default rollback: hold the version "
                    "and roll back); an inconclusive run never rolls back, and "
                    "verify.inconclusive_limit (default 3) in a row act as "
                    "verify.on_inconclusive says (default report; or hold). The Prometheus "
                    "is verify.prometheus, or JX_MLOPS_PROMETHEUS_URL in the environment "
                    "(it overrides it; a CI variable or secret); an environment with "
                    "neither is not configured: its checks are shown \"not run\", nothing "
                    "is recorded or done, and that is exit 0. Exit 0 all passed (or not "
                    "configured), 1 a check failed, 4 inconclusive.")
    add_env(p, "one environment (default: every one with a verify: block)")
    p.add_argument("--model", metavar="MODEL", help="one model")
    p.add_argument("--dry-run", action="store_true",
                   help="run the checks and say what would be done; record and change "
                        "nothing")
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
