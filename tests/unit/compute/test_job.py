"""A stage as a Ray job (pure parts): its content id, its command, what its log sends back."""

from __future__ import annotations

import base64
import io
import tarfile

from jx_mlops.compute.job import (
    LOCK_BEGIN,
    LOCK_END,
    UNCACHED,
    entrypoint,
    job_id,
    log_tail,
    read_report,
)


def test_job_id_is_the_content() -> None:
    one = job_id("train", "cmd", {"src/train.py": "a"}, {"params.yaml": {"train": 1}}, "", False)
    assert one == job_id("train", "cmd", {"src/train.py": "a"}, {"params.yaml": {"train": 1}},
                         "", False)
    assert one.startswith("jx-train-") and len(one) == len("jx-train-") + 32
    assert one != job_id("train", "cmd", {"src/train.py": "b"}, {"params.yaml": {"train": 1}},
                         "", False)
    assert one != job_id("train", "cmd", {"src/train.py": "a"}, {"params.yaml": {"train": 2}},
                         "", False)
    assert one != job_id("train", "cmd", {"src/train.py": "a"}, {"params.yaml": {"train": 1}},
                         "numpy==2.0", False)
    assert job_id("nlp/dvc.yaml:train@a b", "c", {}, {}, "", True).startswith(
        "jx-nlp-dvc-yaml-train-a-b-")


def test_entrypoint_runs_the_stage_in_a_private_copy() -> None:
    command = entrypoint("train; rm -rf ~", run_cache=False)
    assert command.startswith('W="$(mktemp -d)"') and "cp -a . \"$W\"" in command
    assert "--no-run-cache --single-item 'train; rm -rf ~'" in command
    assert "--no-run-cache" not in entrypoint("train", run_cache=True)


def test_report_reads_whole_marked_lines_only() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b'{"accuracy": 0.9}'
        info = tarfile.TarInfo("metrics.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    packed = base64.b64encode(buffer.getvalue()).decode()
    log = "\n".join([
        f"Running entrypoint for job ID: echo {LOCK_BEGIN} && cat dvc.lock && echo {LOCK_END}",
        "Running stage 'train':", LOCK_BEGIN, "schema: '2.0'", "stages: {}", LOCK_END,
        UNCACHED + packed, ""])
    report = read_report(log)
    assert report.lock == "schema: '2.0'\nstages: {}\n"
    assert report.uncached == buffer.getvalue()
    assert UNCACHED not in "".join(log_tail(log))
    assert read_report("Running entrypoint for job ID: x\nTraceback").lock is None
