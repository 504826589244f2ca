"""What changed in the pipeline between two snapshots: data inputs and stages.

All of it is read from DVC's metadata at each revision (.dvc files, dvc.lock, dvc.yaml);
no data is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os

from jx_mlops.compare.comparison import StageLineage
from jx_mlops.compare.datadiff import DataChange, compare_data
from jx_mlops.dvc.lockfile import DvcLock, OutputInfo, StageLock, parse_dvc_file
from jx_mlops.errors import DvcError
from jx_mlops.evaluation.snapshot import Snapshot, read_structured


def data_inputs(snap: Snapshot) -> list[OutputInfo]:
    """Everything `dvc add` / `dvc import` tracks at ``snap`` (the outs of its .dvc files)."""
    outputs: list[OutputInfo] = []
    for path in snap.repo.list_files(snap.sha, "*.dvc"):
        data = snap.read(path)
        if data is not None:
            outputs += parse_dvc_file(data.decode("utf-8", "replace"), path)
    return outputs


def pipeline_outputs(snap: Snapshot) -> list[OutputInfo]:
    """Cached outputs of the pipeline's stages in dvc.lock (models, prepared data...);
    outputs kept in git (``cache: false``: metrics, plots) are git's diff, not DVC's."""
    try:
        lock = snap.lock()
        in_git = {o.path for o in snap.pipeline().outputs if not o.cached}
    except DvcError:
        return []
    outputs = []
    for stage in lock.stages if lock else ():
        outputs += [OutputInfo(o.path, o.md5, o.size, o.nfiles, f"stage {stage.name}")
                    for o in stage.outs if os.path.normpath(o.path) not in in_git]
    return outputs


def compare_inputs(base: Snapshot, head: Snapshot) -> list[DataChange]:
    """Tracked data (.dvc files) and stage outputs (dvc.lock), compared by hash."""
    return compare_data(data_inputs(base) + pipeline_outputs(base),
                        data_inputs(head) + pipeline_outputs(head))


def _fingerprint(stage: StageLock) -> str:
    """A short hash of what a stage consumed and produced, to spot which stages changed."""
    payload = {"cmd": stage.cmd, "params": stage.params,
               "deps": sorted((d.path, d.md5) for d in stage.deps),
               "outs": sorted((o.path, o.md5) for o in stage.outs)}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return digest[:12]


def _stages(snap: Snapshot) -> dict[str, str]:
    try:
        lock = snap.lock()
    except DvcError:
        return {}
    return {s.name: _fingerprint(s) for s in lock.stages} if lock else {}


def compare_stages(base: Snapshot, head: Snapshot) -> list[StageLineage]:
    before, after = _stages(base), _stages(head)
    names = list(after) + [n for n in before if n not in after]
    return [StageLineage(n, before.get(n), after.get(n)) for n in names]


def _consumed_stale(lock: DvcLock) -> list[str]:
    """Stages whose recorded input differs from what its producing stage recorded."""
    produced = {os.path.normpath(o.path): (stage.name, o.md5)
                for stage in lock.stages for o in stage.outs}
    stale = []
    for stage in lock.stages:
        for dep in stage.deps:
            producer = produced.get(os.path.normpath(dep.path))
            if producer and producer[0] != stage.name and dep.md5 != producer[1]:
                stale.append(f"stage {stage.name} is stale: it consumed {dep.path} "
                             f"{(dep.md5 or '?')[:8]}, but stage {producer[0]} produced "
                             f"{(producer[1] or '?')[:8]} (run `dvc repro`)")
    return stale


def _params_stale(snap: Snapshot, lock: DvcLock) -> list[str]:
    """Stages whose locked params differ from the params files at ``snap``."""
    stale = []
    for stage in lock.stages:
        for path, locked in stage.params.items():
            current, _reason = read_structured(snap, path)
            changed = sorted(k for k, v in locked.items()
                             if current is not None and k in current and current[k] != v)
            if current is not None and changed:
                key = changed[0]
                stale.append(f"stage {stage.name} is stale: {path} has {key} = "
                             f"{current[key]!r} but dvc.lock recorded {locked[key]!r} "
                             "(run `dvc repro`)")
    return stale


def stale_stages(snap: Snapshot) -> list[str]:
    """Why results at ``snap`` are not those of its pipeline, from dvc.lock: a stage that
    consumed an output other than the one its producer recorded, or stale params."""
    try:
        lock = snap.lock()
    except DvcError:
        return []
    return (_consumed_stale(lock) + _params_stale(snap, lock)) if lock else []
