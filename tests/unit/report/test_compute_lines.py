"""The comment's line for a stage that ran on Ray: engine, linked job id, wall time,
reserved CPU- and GPU-hours (issue 22)."""

from __future__ import annotations

from jx_mlops.compare.cost import CostComparison, RunRecord, StageCost
from jx_mlops.report.compute import engine_lines


def test_engine_line_links_the_job() -> None:
    ray = StageCost("train", True, 13.72, None, engine="Ray", job_id="jx-train-ab12",
                    job_url="http://127.0.0.1:8265/#/jobs/jx-train-ab12", cpu_hours=0.00381,
                    gpu_hours=0.0)
    here = StageCost("evaluate", True, 6.1)
    record = RunRecord("abc", "2026-12-08T00:00:00Z", (ray, here))
    assert engine_lines(CostComparison(None, record)) == [
        "train ran on Ray: job [`jx-train-ab12`](http://127.0.0.1:8265/#/jobs/jx-train-ab12), "
        "13.7 s wall, 0.0038 CPU-hours and 0 GPU-hours reserved"]
    assert engine_lines(CostComparison(record, None)) == []  # the head's runs only
    # A record read back from its git note keeps the engine fields.
    assert RunRecord.from_json(record.to_json()) == record


def test_a_job_url_that_is_not_http_is_not_linked() -> None:
    stage = StageCost("train", True, 1.0, engine="Ray", job_id="jx-1", job_url="ray://x",
                      cpu_hours=2.5, gpu_hours=1.25)
    record = RunRecord("abc", "t", (stage,))
    assert engine_lines(CostComparison(None, record)) == [
        "train ran on Ray: job `jx-1`, 1.0 s wall, 2.5 CPU-hours and 1.2 GPU-hours reserved"]
