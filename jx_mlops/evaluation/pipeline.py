"""What changed in the pipeline between two snapshots: data inputs and stages.

All of it is read from DVC's metadata at each revision (.dvc files, dvc.lock, dvc.yaml);
no data is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from jx_mlops.compare.comparison import StageLineage
from jx_mlops.compare.datadiff import DataChange, compare_data
from jx_mlops.compare.values import flatten
from jx_mlops.dvc.lockfile import DvcLock, OutputInfo, StageLock, parse_dvc_file
from jx_mlops.errors import DvcError
from jx_mlops.evaluation.formats import load_structured
from jx_mlops.evaluation.snapshot import Snapshot, read_bytes


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


_ABSENT = object()


def _param_value(config: Any, key: str) -> Any:
    """``key`` (dotted) in a params file's content, as dpath finds it (list indices
    included); _ABSENT when it is not there."""
    value = config
    for part in key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _ABSENT
    return value


def _changed_params(config: dict[str, Any], keys: tuple[str, ...] | None,
                    locked: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, how) as ``ParamsDependency.workspace_status`` says them: each tracked key (or,
    for a whole file, its top-level keys and the locked ones) deleted, new or modified."""
    wanted = keys if keys is not None else tuple(dict.fromkeys([*config, *locked]))
    changed = []
    for key in wanted:
        actual = _param_value(config, key)
        if actual is _ABSENT:
            changed.append((key, "deleted"))
        elif key not in locked:
            changed.append((key, "new"))
        elif actual != locked[key]:
            changed.append((key, "modified"))
    return changed


def _read_params_file(snap: Snapshot, path: str) -> dict[str, Any] | None:
    data, _reason = read_bytes(snap, path)
    if data is None:
        return None
    try:
        config = load_structured(path, data)
    except ValueError:
        return None
    return config if isinstance(config, dict) else None


def _params_stale(snap: Snapshot, lock: DvcLock) -> list[str]:
    """Stages whose locked params differ from the params files at ``snap``, for every form
    dvc.yaml gives them (``[train]``, ``[train.lr]``, ``{file: [keys]}``, whole files), as
    ``dvc status`` says them."""
    locks = {stage.name: stage for stage in lock.stages}
    stale = []
    for stage in snap.pipeline().stages:
        locked_stage = locks.get(stage.name)
        if locked_stage is None:
            continue  # never run: nothing at this revision claims to be its result
        for path, keys in stage.params.items():
            config = _read_params_file(snap, path)
            if config is None:
                continue  # an unreadable params file is the params comparison's problem
            locked = locked_stage.params.get(path, {})
            changed = _changed_params(config, keys, locked)
            if changed:
                more = f" (+{len(changed) - 1} more)" if len(changed) > 1 else ""
                stale.append(f"stage {stage.name} is stale: {path} "
                             f"{_difference(config, locked, *changed[0])}{more} "
                             "(run `dvc repro`)")
    return stale


def _difference(config: dict[str, Any], locked: dict[str, Any], key: str, how: str) -> str:
    """'has train.lr = 0.5 but dvc.lock recorded 0.1', down to the first differing leaf
    of a section (``params: [train]`` locks all of ``train``)."""
    if how == "new":
        return f"has {key}, which dvc.lock does not record"
    if how == "deleted":
        return f"has no {key} (dvc.lock recorded {locked[key]!r})"
    now, then = flatten(_param_value(config, key), key), flatten(locked[key], key)
    for leaf in dict.fromkeys([*now, *then]):
        if now.get(leaf, _ABSENT) != then.get(leaf, _ABSENT):
            value = repr(now[leaf]) if leaf in now else "nothing"
            before = repr(then[leaf]) if leaf in then else "nothing"
            return f"has {leaf} = {value} but dvc.lock recorded {before}"
    return f"has {key} = {_param_value(config, key)!r} but dvc.lock recorded {locked[key]!r}"


def stale_stages(snap: Snapshot) -> list[str]:
    """Why results at ``snap`` are not those of its pipeline, from dvc.lock: a stage that
    consumed an output other than the one its producer recorded, or stale params."""
    try:
        lock = snap.lock()
    except DvcError:
        return []
    return (_consumed_stale(lock) + _params_stale(snap, lock)) if lock else []
