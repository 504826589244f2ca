"""The Ray Jobs API: the one adapter of Ray (imported only when ``compute.backend: ray``).

A job is named by its content (``compute.job.job_id``): submitting an id the head knows
reattaches to it, running or finished. Library errors become ``ComputeError`` and library
objects our frozen ``JobOutcome``. Two of the client's habits are guarded against: it sets
no timeout on its requests, and it reads ``host:port`` as a GCS address and retries for
40 s; so the address is checked first, with a 5 s timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jx_mlops.compute.spec import Resources
from jx_mlops.errors import ComputeError

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
_POLL_S = 0.5
_PR_KEY = "jx-mlops.pr"
TOKEN_VARIABLE = "JX_MLOPS_COMPUTE_TOKEN"


@dataclass(frozen=True)
class JobOutcome:
    """A job in its terminal state (or stopped by us: ``timed_out``)."""

    job_id: str
    status: str
    submitted: bool  # False: an existing job was reattached
    message: str
    wall_s: float  # submission to end, queueing included (Ray's start_time is submission)
    cpu_hours: float  # reserved: requested CPUs x wall time
    gpu_hours: float
    log: str
    url: str  # the job in the Ray dashboard
    exit_code: int | None = None
    timed_out: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def _headers() -> dict[str, str]:
    """``Authorization: Bearer`` from JX_MLOPS_COMPUTE_TOKEN (a CI secret), which Ray's
    token authentication and the usual proxies in front of a KubeRay dashboard take."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def check_address(address: str, timeout: float = 5.0) -> str:
    """The head's Ray version, or a one-line ComputeError naming ``address``."""
    request = urllib.request.Request(f"{address}/api/version", headers=_headers())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            version = json.loads(answer.read()).get("ray_version")
    except (OSError, ValueError, urllib.error.URLError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise ComputeError(f"the Ray Jobs API at {address} is unreachable: {why}",
                           hint="check compute.address or JX_MLOPS_COMPUTE_ADDRESS") from None
    if not version:
        raise ComputeError(f"{address} is not a Ray Jobs API (no ray_version at /api/version)")
    return str(version)


class RayJobs:
    """One head's Jobs API: submit or reattach, follow, stop."""

    def __init__(self, address: str) -> None:
        check_address(address)
        try:
            from ray.job_submission import JobSubmissionClient
            # Ray logs each upload at INFO on stderr: our steps say what happens.
            for name in [n for n in logging.root.manager.loggerDict if n.startswith("ray")]:
                logging.getLogger(name).setLevel(logging.WARNING)
        except ImportError:
            raise ComputeError("compute.backend is ray but Ray's job client is not installed",
                               hint="pip install 'jx-mlops[ray]'") from None
        self.address = address
        try:
            self._client = JobSubmissionClient(address, headers=_headers() or None)
        except (RuntimeError, ConnectionError) as exc:
            raise ComputeError(f"Ray at {address}: {_first_line(exc)}") from None

    def url(self, job_id: str) -> str:
        return f"{self.address}/#/jobs/{job_id}"

    def status(self, job_id: str) -> str | None:
        """The job's status, None when the head does not know it."""
        try:
            return str(self._client.get_job_status(job_id).value)
        except RuntimeError as exc:
            if "does not exist" in str(exc):
                return None
            raise ComputeError(f"Ray at {self.address}: {_first_line(exc)}") from None

    def submit(self, job_id: str, entrypoint: str, workdir: Path, *, resources: Resources,
               env: Mapping[str, str], pip: list[str] | None,
               metadata: Mapping[str, str]) -> bool:
        """Submit ``job_id`` unless the head has it; True when this call submitted it."""
        if self.status(job_id) is not None:
            return False
        runtime_env: dict[str, Any] = {"working_dir": str(workdir), "env_vars": {
            # Ray sets it to the CPUs asked for, 1 without: say it, as a local run has it
            "OMP_NUM_THREADS": str(max(1, int(resources.num_cpus))), **env}}
        if pip:
            runtime_env["pip"] = {"packages": pip, "pip_check": False}
        try:
            self._client.submit_job(
                entrypoint=entrypoint, submission_id=job_id, runtime_env=runtime_env,
                entrypoint_num_cpus=resources.num_cpus, entrypoint_num_gpus=resources.num_gpus,
                entrypoint_memory=int(resources.memory_gb * 2**30),
                # The REST API does not give the entrypoint's resources back: kept here.
                metadata={**metadata, "jx-mlops.num_cpus": str(resources.num_cpus),
                          "jx-mlops.num_gpus": str(resources.num_gpus)})
        except RuntimeError as exc:
            if "already exists" in str(exc):  # another run submitted it just now
                return False
            raise ComputeError(f"Ray at {self.address} refused job {job_id}: "
                               f"{_first_line(exc)}") from None
        return True

    def stop_others(self, pr: str, stage: str, keep: str) -> tuple[str, ...]:
        """Stop the running jobs of ``stage`` for PR ``pr`` other than ``keep`` (an older
        head's): the ids stopped."""
        stopped = []
        for job in self._client.list_jobs():
            meta = job.metadata or {}
            jid = job.submission_id
            if jid and jid != keep and meta.get(_PR_KEY) == pr \
                    and meta.get("jx-mlops.stage") == stage \
                    and str(job.status.value) not in TERMINAL and self._client.stop_job(jid):
                stopped.append(jid)
        return tuple(stopped)

    def follow(self, job_id: str, *, timeout_s: float, submitted: bool,
               on_text: Callable[[str], None]) -> JobOutcome:
        """Stream the job's log to ``on_text`` until it ends (or ``timeout_s`` passes:
        then it is stopped), and what it came to."""
        deadline = time.monotonic() + timeout_s
        timed_out = False
        shown = 0
        if self.status(job_id) not in TERMINAL:
            shown, timed_out = self._tail(job_id, deadline, on_text)
        log = self._client.get_job_logs(job_id)
        if len(log) > shown:
            on_text(log[shown:])
        info = self._client.get_job_info(job_id)
        meta = info.metadata or {}
        end = info.end_time or int(time.time() * 1000)
        wall = max(0.0, (end - (info.start_time or end)) / 1000)
        return JobOutcome(
            job_id=job_id, status=str(info.status.value), submitted=submitted,
            message=str(info.message or ""), wall_s=round(wall, 2),
            cpu_hours=float(meta.get("jx-mlops.num_cpus", 0)) * wall / 3600,
            gpu_hours=float(meta.get("jx-mlops.num_gpus", 0)) * wall / 3600,
            log=log, url=self.url(job_id), exit_code=info.driver_exit_code,
            timed_out=timed_out)

    def _tail(self, job_id: str, deadline: float, on_text: Callable[[str], None]
              ) -> tuple[int, bool]:
        """Follow the log while polling the status: Ray's log stream closes ~5 s after
        the job ends, the status says so within a poll. Returns (characters shown,
        whether the deadline stopped the job)."""
        shown = 0
        timed_out = False
        client = self._client

        async def stream() -> None:
            nonlocal shown
            async for chunk in client.tail_job_logs(job_id):
                on_text(chunk)
                shown += len(chunk)

        async def watch() -> None:
            nonlocal timed_out
            task = asyncio.ensure_future(stream())
            loop = asyncio.get_running_loop()
            try:
                while str((await loop.run_in_executor(
                        None, client.get_job_status, job_id)).value) not in TERMINAL:
                    if time.monotonic() > deadline and not timed_out:
                        timed_out = True
                        await loop.run_in_executor(None, client.stop_job, job_id)
                    await asyncio.wait({task}, timeout=_POLL_S)
            finally:
                task.cancel()
                with contextlib.suppress(BaseException):  # the stream ends as it may
                    await task

        # Our own thread and event loop: the caller may be inside one already.
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(watch())
            except BaseException as exc:  # re-raised below
                failure.append(exc)

        thread = threading.Thread(target=run, name=f"ray-{job_id}", daemon=True)
        thread.start()
        thread.join()
        if failure:
            raise ComputeError(f"lost Ray job {job_id} at {self.address}: "
                               f"{_first_line(failure[0])}")
        return shown, timed_out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
