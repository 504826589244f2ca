"""What changed in the pipeline between two snapshots: data inputs and stages.

All of it is read from DVC's metadata at each revision (.dvc files, dvc.lock, dvc.yaml);
no data is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os

from jx_mlops import dvc
from jx_mlops.compare.comparison import StageLineage
from jx_mlops.compare.datadiff import DataChange, compare_data
from jx_mlops.errors import DvcError
from jx_mlops.evaluation.snapshot import Snapshot


def data_inputs(snap: Snapshot) -> list[dvc.OutputInfo]:
    """Everything `dvc add` / `dvc import` tracks at ``snap`` (the outs of its .dvc files)."""
    outputs: list[dvc.OutputInfo] = []
    for path in snap.repo.list_files(snap.sha, "*.dvc"):
        data = snap.read(path)
        if data is not None:
            outputs += dvc.parse_dvc_file(data.decode("utf-8", "replace"), path)
    return outputs


def pipeline_outputs(snap: Snapshot) -> list[dvc.OutputInfo]:
    """Cached outputs of the pipeline's stages in dvc.lock (models, prepared data...);
    outputs kept in git (``cache: false``: metrics, plots) are git's diff, not DVC's."""
    try:
        lock = snap.lock()
        in_git = {o.path for o in snap.spec().outputs if not o.cached}
    except DvcError:
        return []
    outputs = []
    for stage in lock.stages if lock else ():
        outputs += [dvc.OutputInfo(o.path, o.md5, o.size, o.nfiles, f"stage {stage.name}")
                    for o in stage.outs if os.path.normpath(o.path) not in in_git]
    return outputs


def compare_inputs(base: Snapshot, head: Snapshot) -> list[DataChange]:
    """Tracked data (.dvc files) and stage outputs (dvc.lock), compared by hash."""
    return compare_data(data_inputs(base) + pipeline_outputs(base),
                        data_inputs(head) + pipeline_outputs(head))


def _fingerprint(stage: dvc.StageLock) -> str:
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
