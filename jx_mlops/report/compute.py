"""The comment's lines for stages that ran on a compute engine (``compute:``): engine, job
id (linked to the engine's dashboard when it is served over http), wall time, and the
CPU- and GPU-hours the job reserved."""

from __future__ import annotations

from jx_mlops.compare.cost import CostComparison, engine_runs, hours
from jx_mlops.report.mdtext import code, escape


def engine_lines(costs: CostComparison | None) -> list[str]:
    """One line per stage of the head that ran on an engine (none: [])."""
    lines = []
    for stage in engine_runs(costs.head if costs else None):
        job = code(stage.job_id or "?")
        if stage.job_url and stage.job_url.startswith(("http://", "https://")):
            job = f"[{job}]({stage.job_url})"
        wall = f"{stage.wall_s:.1f} s" if stage.wall_s is not None else "?"
        lines.append(f"{escape(stage.name)} ran on {escape(stage.engine or '?')}: job {job}, "
                     f"{wall} wall, {hours(stage.cpu_hours)} CPU-hours and "
                     f"{hours(stage.gpu_hours)} GPU-hours reserved")
    return lines
