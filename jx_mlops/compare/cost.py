"""Training cost of a change: per-stage wall time and peak memory, base vs head (pure)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from jx_mlops.yamlio import json_loads

SCHEMA = 1


@dataclass(frozen=True)
class StageCost:
    """One stage of one `dvc repro`: whether it ran, and what it cost if it did."""

    name: str
    ran: bool
    wall_s: float | None = None
    peak_rss_mb: float | None = None
    # Set when the stage ran on a compute engine (compute: in mlops.yaml), not in CI.
    engine: str | None = None
    job_id: str | None = None
    job_url: str | None = None
    cpu_hours: float | None = None  # reserved: requested CPUs x the job's wall time
    gpu_hours: float | None = None


@dataclass(frozen=True)
class RunRecord:
    """What training a commit cost, attached to the commit as a git note."""

    commit: str
    recorded_at: str
    stages: tuple[StageCost, ...]
    run_url: str | None = None
    total_wall_s: float | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["schema"] = SCHEMA
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunRecord | None:
        """Parse a note; None when it is not a run record of a schema we know."""
        try:
            data = json_loads(text)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return None
        try:
            stages = tuple(StageCost(**s) for s in data["stages"])
            return cls(commit=data["commit"], recorded_at=data["recorded_at"], stages=stages,
                       run_url=data.get("run_url"), total_wall_s=data.get("total_wall_s"))
        except (KeyError, TypeError):
            return None

    def stage(self, name: str) -> StageCost | None:
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class CostComparison:
    """Run records of both sides; a missing side says why."""

    base: RunRecord | None
    head: RunRecord | None
    base_missing: str | None = None
    head_missing: str | None = None

    def stage_names(self) -> list[str]:
        """Stages that ran on either side, in the order they ran."""
        names: list[str] = []
        for record in (self.head, self.base):
            for stage in record.stages if record else ():
                if stage.ran and stage.name not in names:
                    names.append(stage.name)
        return names


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _change(before: float | None, after: float | None, unit: str) -> str:
    fmt = _seconds if unit == "s" else (lambda v: f"{v:.0f} MB")
    if before is None or after is None:
        if before is None and after is None:
            return "—"
        return f"{fmt(before)} (base only)" if before is not None else \
            f"{fmt(after or 0.0)} (no base record)"
    text = f"{fmt(before)} → {fmt(after)}"
    if before > 0:
        text += f", {(after - before) / before:+.0%}"
    return text


def describe_stage(costs: CostComparison, name: str) -> tuple[str, str]:
    """('41 s → 63 s, +54%', '310 MB → 402 MB, +30%') for one stage."""
    base = costs.base.stage(name) if costs.base else None
    head = costs.head.stage(name) if costs.head else None

    def side(cost: StageCost | None, attr: str) -> float | None:
        if cost is None or not cost.ran:
            return None
        value: float | None = getattr(cost, attr)
        return value

    if head is not None and not head.ran:
        return "not re-run (unchanged)", "—"
    return (_change(side(base, "wall_s"), side(head, "wall_s"), "s"),
            _change(side(base, "peak_rss_mb"), side(head, "peak_rss_mb"), "MB"))


def cost_parts(costs: CostComparison) -> list[tuple[str, str]]:
    """(stage, 'train: 41 s → 63 s, +54%') for the stages that ran on either side."""
    return [(name, describe_stage(costs, name)[0]) for name in costs.stage_names()]


def cost_summary(costs: CostComparison) -> str:
    """One line: 'train: 41 s → 63 s, +54%; evaluate: ...' (plus why a side is missing)."""
    parts = [f"{name}: {wall}" for name, wall in cost_parts(costs)]
    if costs.base is None and costs.base_missing:
        parts.append(costs.base_missing)
    return "; ".join(parts)


def record_as_dict(record: RunRecord | None) -> dict[str, Any] | None:
    return json.loads(record.to_json()) if record else None


def engine_runs(record: RunRecord | None) -> tuple[StageCost, ...]:
    """The stages of ``record`` that ran on a compute engine, not in the CI job."""
    return tuple(s for s in record.stages if s.ran and s.engine) if record else ()


def hours(value: float | None) -> str:
    """Reserved CPU- or GPU-hours, to 2 significant digits below 1 ('0.0068', '3.2')."""
    if not value:
        return "0"
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"
