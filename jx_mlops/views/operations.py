"""How the operations commands (verify, hold, insights) show their result: rich tables for
people, ``--json`` for scripts. Kept apart from ``views`` so neither grows past a screenful
of concerns."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from jx_mlops.console import out_console
from jx_mlops.views.common import print_json, print_table
from jx_mlops.views.table import Column

if TYPE_CHECKING:
    from jx_mlops.promote.freezes import FreezeResult
    from jx_mlops.promote.holds import HoldResult
    from jx_mlops.promote.insights import Insights
    from jx_mlops.promote.verify import ModelVerification


def show_insights(insights: Insights, *, as_json: bool, fmt: str = "table") -> None:
    from jx_mlops.report.dora import SUMMARY_COLUMNS, keys_to_json, render_markdown, summary_row

    if as_json:
        print_json([keys_to_json(k) for k in insights.keys])
    elif insights.reason is not None and not insights.keys:
        out_console().print(insights.reason, markup=False)
    elif fmt == "md":
        print(render_markdown(insights.keys), end="")
    else:
        print_table("Delivery insights (DORA keys)", SUMMARY_COLUMNS,
                    [summary_row(k) for k in insights.keys],
                    caption="lead time: first commit of the source PR to running; a failure: "
                            "a deployment followed by a rollback, a disable or a hold; stops: "
                            "canaries that failed before the whole traffic")


def show_verification(results: Mapping[str, Sequence[ModelVerification]], *,
                      as_json: bool, unconfigured: Collection[str] = ()) -> None:
    """``unconfigured``: the environments with no Prometheus URL (their checks not run)."""
    from jx_mlops.promote.verify import unconfigured_note, worst

    if as_json:
        print_json([{"environment": env,
                     "passed": env not in unconfigured and all(r.passed for r in found),
                     "outcome": "unconfigured" if env in unconfigured
                     else worst(r.outcome for r in found),
                     "note": unconfigured_note(env) if env in unconfigured else None,
                     "models": [r.to_json() for r in found]} for env, found in results.items()])
        return
    out = out_console()
    for environment, found in results.items():
        if environment in unconfigured:
            _show_checks(environment, found)
            out.print(unconfigured_note(environment), markup=False, highlight=False)
            continue
        if not found:
            out.print(f"Nothing of this project serves in {environment}: nothing to verify")
            continue
        _show_checks(environment, found)
        for r in found:
            if r.canary_percent is not None and r.passed:
                out.print(_canary_outcome(r), markup=False, highlight=False)
            elif not r.passed:
                out.print(_verification_outcome(r), markup=False, highlight=False)
    if any(r.dry_run for found in results.values() for r in found):
        out.print("dry run: nothing was recorded, held or rolled back")


_RESULT = {"pass": "pass", "fail": "FAIL", "inconclusive": "inconclusive",
           "not run": "not run"}


def _show_checks(environment: str, found: Sequence[ModelVerification]) -> None:
    rows = [(r.model, r.version, c.name, _RESULT[c.outcome], c.reason, c.query)
            for r in found for c in r.checks]
    if rows:
        print_table(f"Verification in {environment}",
                    ("Model", "Version", "Check", "Result", Column("Value", "wrap"),
                     Column("Query", "detail")), rows)


def _canary_outcome(r: ModelVerification) -> str:
    what = (f"{r.model} {r.version} at {r.canary_percent}% (canary), {r.stable_version} "
            f"stable in {r.environment}: passed")
    if r.advanced_to is None:
        return f"{what}; the step has not held for rollout.step_after yet"
    to = f"{r.advanced_to}%" if r.advanced_to < 100 else "100% (the whole traffic)"
    if r.dry_run:
        return f"{what}; would move to {to}"
    if r.error:
        return f"{what}; the move to {to} waits: {r.error}"
    if not r.step_merged:
        return f"{what}; the move to {to} waits for its gates (#{r.step_pull})"
    return f"{what}; moved to {to} (#{r.step_pull})"


def _why_inconclusive(r: ModelVerification) -> str:
    reasons = dict.fromkeys(c.reason.rsplit(" (", 1)[0] for c in r.checks
                            if c.outcome == "inconclusive")
    names = ", ".join(c.name for c in r.checks if c.outcome == "inconclusive")
    return f"{names}: {'; '.join(reasons)}"


def _inconclusive_outcome(r: ModelVerification) -> str:
    would = "would be" if r.dry_run else ""
    what = (f"{r.model} {r.version} in {r.environment}: inconclusive "
            f"({_why_inconclusive(r)}); never a rollback")
    streak = f"{r.inconclusive_streak} of {r.inconclusive_limit} inconclusive runs in a row"
    if r.action == "hold":
        done = f"held (#{r.hold_pull})" if r.hold_pull else f"{would or 'is'} held"
        return f"{what}; {streak}: {done}"
    if r.action == "report":
        return f"{what}; {streak}: reported (on_inconclusive: report)"
    if r.action == "error":
        return f"{what}; {streak}: the hold failed: {r.error}"
    return f"{what}; {streak} before on_inconclusive acts"


def _verification_outcome(r: ModelVerification) -> str:
    if r.outcome == "inconclusive":
        return _inconclusive_outcome(r)
    what = f"{r.model} {r.version} failed in {r.environment}"
    if r.dry_run and r.action in ("rollback", "hold"):
        to = f", rolled back to {r.rolled_back_to or 'the previous version'}" \
            if r.action == "rollback" else ""
        return f"{what}: dry run: it would be held{to}; nothing was done"
    if r.action == "error":
        return f"{what}: {r.error}"
    if r.action == "rollback" and r.canary_percent is not None:
        return (f"{r.model} {r.version}, a canary at {r.canary_percent}%, failed in "
                f"{r.environment}: held, and the canary removed: {r.rolled_back_to} takes "
                f"the whole traffic again (#{r.rollback_pull}, an emergency rollback)")
    if r.action == "rollback":
        return (f"{what}: held, and rolled back to {r.rolled_back_to} (#{r.rollback_pull}, "
                "an emergency rollback)")
    if r.action == "hold":
        return f"{what}: held (#{r.hold_pull}); it keeps serving until someone acts"
    if not r.in_window:
        return f"{what} after its verification window: reported only"
    return f"{what}: reported (on_failure: report)"


def show_hold(result: HoldResult, *, as_json: bool) -> None:
    hold = result.hold
    if as_json:
        print_json({"model": hold.model, "environment": hold.environment, "version": hold.version,
               "held": result.held, "changed": result.changed,
               "pull_request": result.pull_request, "reason": hold.reason, "by": hold.by})
        return
    what = f"{hold.model} {hold.version} in {hold.environment}"
    if not result.changed:
        print(f"{what} is {'already' if result.held else 'not'} on hold")
    elif result.held:
        print(f"{what} is on hold (#{result.pull_request}): {hold.reason}")
    else:
        print(f"{what}: hold cleared (#{result.pull_request})")


def show_freeze(result: FreezeResult, *, as_json: bool) -> None:
    freeze = result.freeze
    if as_json:
        print_json({"environment": result.environment, "frozen": freeze is not None,
                    "changed": result.changed, "pull_request": result.pull_request,
                    "reason": freeze.reason if freeze else None,
                    "by": freeze.by if freeze else None, "at": freeze.at if freeze else None,
                    "until": freeze.until if freeze else None})
        return
    pull = f" (#{result.pull_request})" if result.pull_request else ""
    if freeze is None:
        print(f"{result.environment} is {'not frozen' if not result.changed else 'unfrozen'}"
              f"{pull}")
        return
    from jx_mlops.promote.freezes import describe

    print(f"{result.environment} is {'already ' if not result.changed else ''}"
          f"{describe(freeze)}{pull}")
