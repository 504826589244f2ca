"""DORA keys for models as JSON (dashboards) and Markdown (a scheduled job's post) (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from jx_mlops.compare.dora import WEEK_S, DoraKeys
from jx_mlops.report.mdtext import escape
from jx_mlops.yamlio import shorten

MAX_WEEKS = 12


def duration(seconds: float | None) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3.5 h``, ``2.1 d``; ``—`` for none."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def keys_to_json(keys: DoraKeys) -> dict[str, Any]:
    """One (model, environment): the dashboard keys, then the counts behind them."""
    return {
        "model": keys.model, "environment": keys.environment,
        "deployments": keys.deployments,
        "deployment_frequency_per_week": keys.deployment_frequency_per_week,
        "lead_time_median_s": keys.lead_time_median_s,
        "lead_time_p90_s": keys.lead_time_p90_s,
        "change_failure_rate": keys.change_failure_rate,
        "time_to_restore_median_s": keys.time_to_restore_median_s,
        "failures": keys.failures, "open_failures": keys.open_failures,
        "canary_stops": keys.canary_stops,
        "window": {"start": keys.window_start, "end": keys.window_end},
        "history": [{"version": d.version, "at": d.at, "lead_time_s": d.lead_time_s,
                     "failed": d.failed, "failed_by": d.failed_by,
                     "restored_after_s": d.restored_after_s,
                     "stopped_at_percent": d.stopped_at_percent} for d in keys.history],
    }


def summary_row(keys: DoraKeys) -> tuple[str, ...]:
    """The table row shared by the terminal and the Markdown report."""
    return (keys.model, keys.environment, str(keys.deployments),
            f"{keys.deployment_frequency_per_week:g}", duration(keys.lead_time_median_s),
            duration(keys.lead_time_p90_s), rate(keys.change_failure_rate),
            duration(keys.time_to_restore_median_s),
            str(keys.canary_stops) if keys.canary_stops else "")  # the column only if any


SUMMARY_COLUMNS = ("Model", "Env", "Deploys", "/week", "Lead p50", "Lead p90", "Fail rate",
                   "Restore p50", "Stops")


def _week(at: int) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%G-W%V")


def weekly_counts(keys: DoraKeys) -> list[tuple[str, int, int]]:
    """(ISO week, deployments, failed deployments) for the last ``MAX_WEEKS`` weeks."""
    if not keys.history:
        return []
    first, last = keys.history[0].at, keys.history[-1].at
    spanned = {_week(at) for at in range(first, last + 1, WEEK_S)} | {_week(last)}
    return [(week, sum(1 for d in keys.history if _week(d.at) == week),
             sum(1 for d in keys.history if d.failed and _week(d.at) == week))
            for week in sorted(spanned)[-MAX_WEEKS:]]


def weekly_chart(keys: DoraKeys) -> str:
    """A Mermaid xychart: deployments per week as bars, failed ones as a line; '' for none."""
    counts = weekly_counts(keys)
    if not counts:
        return ""
    top = max(deploys for _w, deploys, _f in counts)
    title = f"{keys.model} in {keys.environment}: deployments per week"
    return "\n".join([
        "```mermaid", "xychart-beta", f'    title "{_quoted(title)}"',
        "    x-axis [" + ", ".join(f'"{week}"' for week, _d, _f in counts) + "]",
        f'    y-axis "deployments" 0 --> {top + 1}',
        "    bar [" + ", ".join(str(d) for _w, d, _f in counts) + "]",
        "    line [" + ", ".join(str(f) for _w, _d, f in counts) + "]", "```"])


def _quoted(text: str) -> str:
    return shorten(text.replace('"', "'"), 80)


def render_markdown(all_keys: Sequence[DoraKeys], *, title: str = "Model delivery insights"
                    ) -> str:
    """The report: one summary table, then per (model, environment) a weekly chart."""
    lines = [f"## {escape(title)}", "",
             "DORA's four keys per model and environment, from git history alone "
             "(promotion commits, registry tags, pull-request commits).", "",
             "| " + " | ".join(SUMMARY_COLUMNS) + " |",
             "|" + "|".join([":--", ":--"] + ["--:"] * 7) + "|"]
    lines += ["| " + " | ".join(escape(cell) for cell in summary_row(k)) + " |"
              for k in all_keys]
    for keys in all_keys:
        chart = weekly_chart(keys)
        if not chart:
            continue
        lines += ["", f"### {escape(keys.model)} in {escape(keys.environment)}", "", chart,
                  "", "Bars: deployments; line: deployments that failed (followed by a "
                  "rollback, a disable or a hold)."]
    if not any(k.deployments for k in all_keys):
        lines += ["", "No deployment in the window."]
    return "\n".join(lines) + "\n"
