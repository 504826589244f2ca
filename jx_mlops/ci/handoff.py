"""`ci pr` hands the stages ``compute.stages`` names to a compute engine (Ray Jobs).

For each such stage, in pipeline order: what it depends on runs here first and is pushed
to the DVC remote (the job pulls it from there); if DVC says the stage must run, the
job's working directory is the PR head's files (git's, plus the fresh dvc.lock), its id
a hash of the stage's command, dependencies, params and requirements, so a re-run of `ci
pr` for the same head reattaches instead of submitting again, and jobs of an older head
of the same PR are stopped. The job runs the stage with DVC and pushes its outputs; they
come back by md5 from the DVC remote (checked against their hashes, never through DVC's
run cache) and the stage's dvc.lock entry is written as the job's DVC wrote it. The rest
of the pipeline then runs here as before.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jx_mlops import console
from jx_mlops.ci.failure import TrainingFailure, parse_failure
from jx_mlops.compare.cost import StageCost
from jx_mlops.compute.job import entrypoint, job_id, log_tail, read_report
from jx_mlops.compute.spec import ComputeConfig
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.commands import changed_stages
from jx_mlops.dvc.commands import push as dvc_push
from jx_mlops.dvc.pipeline import Pipeline, Stage
from jx_mlops.dvc.storage import default_remote, restore_output
from jx_mlops.errors import ConfigError, DvcError
from jx_mlops.evaluation.dvcfiles import read_pipeline
from jx_mlops.evaluation.runrecords import measured_repro
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import load_as_dvc


class EngineFailedError(DvcError):
    """The engine's job for a stage failed, was stopped or timed out."""

    def __init__(self, failure: TrainingFailure) -> None:
        super().__init__(failure.headline, hint="the PR comment shows the job's log")
        self.failure = failure


@dataclass(frozen=True)
class Handoff:
    """Where the PR is: ``pr`` names it on the engine (``owner/repo#N``)."""

    config: ProjectConfig
    repo: GitRepo
    pr: str
    run_cache: bool
    holdout: str | None = None


def run_on_engine(handoff: Handoff) -> tuple[StageCost, ...]:
    """Run ``compute.stages`` on the engine (what they need first, here); the cost of each
    stage that ran, here or there."""
    config = handoff.config
    compute = config.compute
    pipeline = read_pipeline(handoff.repo, None, _prefix(handoff.repo, config.root))
    stages = _stages(pipeline, compute, config.path.name)
    costs: list[StageCost] = []
    for stage in stages:
        upstream = _upstream(pipeline, stage)
        if upstream:
            with console.step(f"Running what {stage.name} needs here: "
                              f"{', '.join(s.name for s in upstream)}"):
                costs += [c for c in measured_repro(
                    config.root, pull=True, run_cache=handoff.run_cache,
                    targets=[s.name for s in upstream]) if c.ran]
        if stage.name not in changed_stages(config.root, [stage.name]):
            console.info(f"{stage.name} is up to date: nothing to run on {compute.backend}")
            continue
        with console.step("Pushing its inputs to the DVC remote (the job pulls them)"):
            dvc_push(config.root, exclude=(f"{handoff.holdout}.dvc",) if handoff.holdout
                     else ())
        costs.append(_hand_off(handoff, stage))
    return tuple(costs)


def _prefix(repo: GitRepo, root: Path) -> str:
    rel = os.path.relpath(root.resolve(), repo.path.resolve())
    return "" if rel == "." else rel


def _stages(pipeline: Pipeline, compute: ComputeConfig, file: str) -> list[Stage]:
    known = {s.name: s for s in pipeline.stages}
    for index, name in enumerate(compute.stages):
        if name not in known:
            raise ConfigError(f"{file}: compute.stages[{index}]: no DVC stage {name!r} "
                              f"(stages: {', '.join(known) or 'none'})")
    return [s for s in pipeline.stages if s.name in compute.stages]


def _upstream(pipeline: Pipeline, stage: Stage) -> list[Stage]:
    """The stages writing what ``stage`` reads (DVC runs theirs in turn)."""
    def writes(other: Stage, path: str) -> bool:
        return any(path == o.path or path.startswith(o.path + "/")
                   or o.path.startswith(path + "/") for o in other.outs)
    return [s for s in pipeline.stages if s.name != stage.name
            and any(writes(s, dep) for dep in stage.deps)]


def _content_id(root: Path, stage: Stage, command: str, requirements: str,
                run_cache: bool) -> str:
    deps = {dep: _digest(root / dep) for dep in stage.deps}
    params: dict[str, Any] = {}
    for file, keys in stage.params.items():
        path = root / file
        values = load_as_dvc(path.read_bytes()) if path.is_file() else None
        params[file] = values if keys is None else {k: _dotted(values, k) for k in keys}
    return job_id(stage.name, command, deps, params, requirements, run_cache)


def _dotted(values: Any, key: str) -> Any:
    for part in key.split("."):
        values = values.get(part) if isinstance(values, dict) else None
    return values


def _digest(path: Path) -> str:
    """md5 of a file, or of a directory's sorted (path, md5) list; '' when missing."""
    if path.is_file():
        digest = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    if path.is_dir():
        lines = [f"{p.relative_to(path).as_posix()} {_digest(p)}"
                 for p in sorted(path.rglob("*")) if p.is_file()]
        return hashlib.md5("\n".join(lines).encode(), usedforsecurity=False).hexdigest()
    return ""


def _working_dir(repo: GitRepo, root: Path, dest: Path) -> int:
    """The PR head's files as the job sees them: what git tracks (or would: untracked,
    not ignored) in the work tree, plus dvc.lock; never .git, DVC's cache or a venv."""
    prefix = _prefix(repo, root)
    listed = repo.run("ls-files", "-c", "-o", "--exclude-standard", "--", prefix or ".")
    count = 0
    for line in sorted(set(listed.splitlines()) | {f"{prefix}/dvc.lock" if prefix
                                                   else "dvc.lock"}):
        rel = os.path.relpath(line, prefix) if prefix else line
        source = root / rel
        if not source.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        count += 1
    return count


def _requirements(root: Path, compute: ComputeConfig) -> tuple[str, list[str] | None]:
    """The requirements file's text (part of the job id) and its lines for the job's pip
    environment (None: the cluster's environment runs the stage)."""
    if compute.requirements is None:
        console.warn("compute.requirements is none: the job runs in the Ray cluster's own "
                     "Python environment, which must have the project's packages")
        return "", None
    path = root / compute.requirements
    if not path.is_file():
        raise ConfigError(f"mlops.yaml: compute.requirements: no file {compute.requirements} "
                          "in the project (or say none: the cluster's environment)")
    text = path.read_text(encoding="utf-8")
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    return text, [ln for ln in lines if ln]


def _hand_off(handoff: Handoff, stage: Stage) -> StageCost:
    from jx_mlops.compute.ray import RayJobs  # Ray only for backend: ray

    config, compute = handoff.config, handoff.config.compute
    requirements, pip = _requirements(config.root, compute)
    command = entrypoint(stage.name, run_cache=handoff.run_cache)
    jid = _content_id(config.root, stage, command, requirements, handoff.run_cache)
    env: dict[str, str] = {}
    remote = default_remote(config.root)
    if remote is not None:
        env = {"JX_MLOPS_DVC_REMOTE": remote[0], "JX_MLOPS_DVC_REMOTE_URL": remote[1]}
        if "://" not in remote[1]:
            console.warn(f"the DVC remote {remote[0]!r} is a directory on this machine "
                         f"({remote[1]}): the Ray cluster must see it at the same path")
    jobs = RayJobs(compute.address)
    for old in jobs.stop_others(handoff.pr, stage.name, jid):
        console.info(f"Stopped {old}: a job of an earlier head of {handoff.pr}")
    with tempfile.TemporaryDirectory(prefix="jx-ray-") as tmp:
        files = _working_dir(handoff.repo, config.root, Path(tmp))
        submitted = jobs.submit(jid, command, Path(tmp), resources=compute.resources,
                                env=env, pip=pip,
                                metadata={"jx-mlops.pr": handoff.pr,
                                          "jx-mlops.stage": stage.name})
    verb = f"Submitted {stage.name} to Ray ({files} files)" if submitted else \
        f"Reattached to {stage.name}'s job on Ray"
    console.info(f"{verb}: {jobs.url(jid)}")
    with console.step(f"Running {stage.name} on Ray (job {jid})") as detail:
        def show(text: str) -> None:
            for line in text.splitlines():
                if line.strip():
                    detail(line)

        outcome = jobs.follow(jid, timeout_s=compute.timeout_s, submitted=submitted,
                              on_text=show)
        if not outcome.succeeded:
            raise EngineFailedError(_failure(stage, outcome.job_id, outcome.status,
                                             outcome.message, outcome.log,
                                             outcome.timed_out, compute.timeout_s))
    with console.step(f"Taking {stage.name}'s outputs back from the DVC remote by md5"):
        _take_back(config.root, stage, outcome.log)
    return StageCost(stage.name, True, outcome.wall_s, None, engine="Ray",
                     job_id=jid, job_url=outcome.url, cpu_hours=round(outcome.cpu_hours, 6),
                     gpu_hours=round(outcome.gpu_hours, 6))


def _failure(stage: Stage, jid: str, status: str, message: str, log: str,
             timed_out: bool, timeout_s: int) -> TrainingFailure:
    tail = log_tail(log)
    parsed = parse_failure("\n".join(tail), tail=len(tail) or 1)
    first = message.strip().splitlines()[0] if message.strip() else status
    if timed_out:
        reason = f"Ray job {jid} timed out after compute.timeout ({timeout_s} s) and was " \
                 "stopped"
    elif status == "STOPPED":
        reason = f"Ray job {jid} was stopped: {first}"
    else:
        reason = parsed.reason if parsed.reason != "no output" else first
    header = f"Ray job {jid}: {status}: {first}"
    return TrainingFailure(stage=stage.name, command=None,
                           tail=(header, *tail), reason=reason)


def _take_back(root: Path, stage: Stage, log: str) -> None:
    """Write the stage's dvc.lock entry as the job's DVC wrote it and restore its outputs
    by md5: cached ones from the DVC remote, ``cache: false`` ones from the job's log;
    every file checked against the hash in that entry."""
    report = read_report(log)
    if report.lock is None:
        raise DvcError(f"the job of {stage.name} succeeded but sent no dvc.lock back")
    theirs = load_as_dvc(report.lock) or {}
    entry = (theirs.get("stages") or {}).get(stage.lock_name)
    if not isinstance(entry, dict):
        raise DvcError(f"the job's dvc.lock has no entry for {stage.lock_name}")
    cached = {o.path: o.cached for o in stage.outs}
    packed = _unpack(report.uncached)
    for out in entry.get("outs") or []:
        path, md5 = str(out.get("path")), str(out.get("md5"))
        if cached.get(path, True):
            restore_output(root, md5, root / path)
        else:
            data = packed.get(path)
            if data is None or hashlib.md5(data, usedforsecurity=False).hexdigest() != md5:
                raise DvcError(f"{stage.name}'s output {path} from the job does not match "
                               f"md5 {md5} in its dvc.lock: not used")
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
    lock_path = root / stage.dvcfile.replace("dvc.yaml", "dvc.lock")
    ours = load_as_dvc(lock_path.read_bytes()) if lock_path.is_file() else None
    ours = ours if isinstance(ours, dict) else {"schema": "2.0"}
    ours.setdefault("stages", {})[stage.lock_name] = entry
    _write_lock(lock_path, ours)


def _unpack(data: bytes | None) -> dict[str, bytes]:
    if not data:
        return {}
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                found[member.name] = handle.read()
    return found


def _write_lock(path: Path, data: dict[str, Any]) -> None:
    import yaml

    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=4096)
    path.write_text(text, encoding="utf-8")
