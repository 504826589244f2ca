"""The local forge's record files: read through the safe loader, checked against a schema.

A record is written by jx-mlops, but it sits in a plain directory anyone can edit and a
killed or buggy writer may leave one truncated; so every read is bounded and checked, and
a record that is not what the forge wrote is one error naming the file and the key, with a
pointer to ``jx-mlops forge fsck``. :func:`fsck` checks every record and can repair what
the records themselves allow (rebuild indexes, drop what cannot be read).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jx_mlops.errors import ForgeError, InputError
from jx_mlops.fsutil import read_bounded, write_json_atomic
from jx_mlops.yamlio import cut, load_json

MAX_RECORD_BYTES = 32 * 1024 * 1024
_PULL_STATES = ("open", "closed", "merged")

Check = Callable[[Any], bool]


def now_iso() -> str:
    """The time a record is written, as GitHub writes times (UTC, seconds)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _opt_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# key -> (required, check, what it should be)
_COMMENT: dict[str, tuple[bool, Check, str]] = {
    "id": (True, _is_int, "a number"), "author": (True, _is_str, "a string"),
    "body": (True, _is_str, "a string"), "created_at": (True, _is_str, "a time"),
    "updated_at": (True, _is_str, "a time"),
    "reactions": (False, lambda v: isinstance(v, dict) and all(_str_list(u) for u in v.values()),
                  "a mapping of reaction -> users"),
}
_PULL: dict[str, tuple[bool, Check, str]] = {
    "number": (True, _is_int, "a number"), "title": (True, _is_str, "a string"),
    "body": (True, _is_str, "a string"), "head": (True, _is_str, "a branch"),
    "base": (True, _is_str, "a branch"), "head_sha": (True, _is_str, "a commit sha"),
    "state": (True, lambda v: v in _PULL_STATES, "open, closed or merged"),
    "draft": (False, lambda v: isinstance(v, bool), "true or false"),
    "author": (True, _is_str, "a string"), "created_at": (True, _is_str, "a time"),
    "updated_at": (True, _is_str, "a time"), "labels": (False, _str_list, "a list of labels"),
    "comments": (True, lambda v: isinstance(v, list), "a list of comments"),
    "merged_at": (False, _opt_str, "a time"), "merge_commit_sha": (False, _opt_str, "a sha"),
    "merged_by": (False, _opt_str, "a login"),
}
_STATE: dict[str, tuple[bool, Check, str]] = {
    "next_pull": (True, _is_int, "a number"), "next_comment": (True, _is_int, "a number"),
    "next_check": (False, _is_int, "a number"),
    "comment_pull": (True, lambda v: isinstance(v, dict) and all(_is_int(n) for n in v.values()),
                     "a mapping of comment id -> pull number"),
}
_STATUS: dict[str, tuple[bool, Check, str]] = {
    "sha": (True, _is_str, "a sha"), "context": (True, _is_str, "a string"),
    "state": (True, _is_str, "a state"), "description": (True, _is_str, "a string"),
    "target_url": (True, _opt_str, "a URL"), "created_at": (True, _is_str, "a time"),
}
_CHECK: dict[str, tuple[bool, Check, str]] = {
    "id": (True, _is_int, "a number"), "sha": (True, _is_str, "a sha"),
    "name": (True, _is_str, "a string"), "status": (True, _is_str, "a check status"),
    "conclusion": (True, _opt_str, "a conclusion"), "title": (True, _is_str, "a string"),
    "summary": (True, _is_str, "a string"), "details_url": (True, _opt_str, "a URL"),
    "started_at": (True, _is_str, "a time"), "completed_at": (True, _opt_str, "a time"),
}
_COLLABORATORS: dict[str, tuple[bool, Check, str]] = {
    "default": (False, _is_str, "a permission"),
    "users": (False, lambda v: isinstance(v, dict) and all(_is_str(p) for p in v.values()),
              "a mapping of login -> permission"),
}


class CorruptRecordError(ForgeError):
    """A local-forge record that cannot be read or is not what the forge writes."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"local-forge record {path}: {problem}",
                         hint="run `jx-mlops forge fsck` to check and repair the records")
        self.path = path


def _check_fields(data: Any, schema: dict[str, tuple[bool, Check, str]], path: Path,
                  where: str = "", *, closed: bool = False) -> None:
    if not isinstance(data, dict):
        raise CorruptRecordError(path, f"{where or '(top level)'}: expected an object, got "
                                       f"{cut(data)}")
    unknown = sorted(str(k) for k in data if k not in schema)
    if closed and unknown:  # these records become dataclasses field for field
        raise CorruptRecordError(path, f"{where}{cut(unknown[0])}: unknown key")
    for key, (required, check, what) in schema.items():
        if key not in data:
            if required:
                raise CorruptRecordError(path, f"{where}{key}: missing")
            continue
        if not check(data[key]):
            raise CorruptRecordError(path, f"{where}{key}: expected {what}, got "
                                           f"{cut(data[key])}")


def check_record(path: Path, data: Any) -> None:
    """Raise CorruptRecordError when ``data`` (read from ``path``) is not a valid record."""
    kind = path.parent.name if path.name != "state.json" else "state"
    if path.name == "collaborators.json":
        _check_fields(data, _COLLABORATORS, path)
    elif kind == "state":
        _check_fields(data, _STATE, path)
    elif kind == "pulls":
        _check_fields(data, _PULL, path)
        if f"{data['number']}.json" != path.name:
            raise CorruptRecordError(path, f"number: {data['number']} in a file named "
                                           f"{path.name}")
        for i, comment in enumerate(data["comments"]):
            _check_fields(comment, _COMMENT, path, f"comments[{i}].")
    elif kind == "statuses":
        if not isinstance(data, list):
            raise CorruptRecordError(path, f"expected a list of statuses, got {cut(data)}")
        for i, status in enumerate(data):
            _check_fields(status, _STATUS, path, f"[{i}].", closed=True)
    elif kind == "checks":
        _check_fields(data, _CHECK, path, closed=True)


def read_record(path: Path) -> Any:
    """A record file parsed and checked; FileNotFoundError passes through."""
    try:
        data = load_json(read_bounded(path, max_bytes=MAX_RECORD_BYTES), source=str(path))
    except InputError as exc:
        raise CorruptRecordError(path, exc.message.removeprefix(f"{path}: ")) from None
    check_record(path, data)
    return data


# -- fsck ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem ``fsck`` found, and what ``--repair`` did (or would do) about it."""

    path: str
    problem: str
    repair: str
    repaired: bool = False


def _record_files(meta: Path) -> Iterator[Path]:
    for name in ("state.json", "collaborators.json"):
        if (meta / name).exists():
            yield meta / name
    for folder in ("pulls", "statuses", "checks"):
        if (meta / folder).is_dir():
            yield from sorted((meta / folder).glob("*.json"))


def _quarantine(path: Path) -> None:
    """Move an unreadable record aside (never delete: a person may want to look at it)."""
    target = path.with_name(f".{path.name}.corrupt")
    shutil.move(str(path), target)


def _rebuild_state(meta: Path, pulls: list[dict[str, Any]]) -> dict[str, Any]:
    comments = {str(c["id"]): p["number"] for p in pulls for c in p["comments"]}
    checks = [int(p.stem) for p in (meta / "checks").glob("*.json") if p.stem.isdigit()] \
        if (meta / "checks").is_dir() else []
    return {"next_pull": max((p["number"] for p in pulls), default=0) + 1,
            "next_comment": max((int(c) for c in comments), default=0) + 1,
            "next_check": max(checks, default=0) + 1, "comment_pull": comments,
            "description": "", "created_at": ""}


def _check_one(path: Path) -> str | None:
    try:
        read_record(path)
    except CorruptRecordError as exc:
        return exc.message.removeprefix(f"local-forge record {path}: ")
    return None


def fsck_repo(meta: Path, *, repair: bool) -> list[Finding]:
    """Check one repository's records (``OWNER/NAME.forge``); repair when asked."""
    findings = []
    for path in _record_files(meta):
        problem = _check_one(path)
        if problem is None:
            continue
        action = "rebuilt from the pull requests" if path.name == "state.json" \
            else f"moved aside to .{path.name}.corrupt"
        if repair and path.name != "state.json":
            _quarantine(path)
        findings.append(Finding(str(path), problem, action, repaired=repair))
    pulls = _valid_pulls(meta)
    findings += _check_state(meta, pulls, repair=repair)
    findings += _check_open_index(meta, pulls, repair=repair)
    return findings


def _valid_pulls(meta: Path) -> list[dict[str, Any]]:
    pulls = []
    for path in sorted((meta / "pulls").glob("*.json")) if (meta / "pulls").is_dir() else []:
        try:
            pulls.append(read_record(path))
        except CorruptRecordError:
            continue
    return pulls


def _check_state(meta: Path, pulls: list[dict[str, Any]], *, repair: bool) -> list[Finding]:
    path = meta / "state.json"
    try:
        state = read_record(path)
        problem = None
        if state["next_pull"] <= max((p["number"] for p in pulls), default=0):
            problem = f"next_pull: {state['next_pull']} would reuse a pull request number"
        elif state["next_comment"] <= max((c["id"] for p in pulls for c in p["comments"]),
                                          default=0):
            problem = f"next_comment: {state['next_comment']} would reuse a comment id"
    except FileNotFoundError:
        problem, state = "missing", {}
    except CorruptRecordError as exc:
        problem, state = exc.message.removeprefix(f"local-forge record {path}: "), {}
    if problem is None:
        return []
    if repair:
        rebuilt = _rebuild_state(meta, pulls)
        rebuilt["description"] = state.get("description", "") if isinstance(state, dict) else ""
        rebuilt["created_at"] = state.get("created_at", "") if isinstance(state, dict) else ""
        write_json_atomic(path, rebuilt)
    return [Finding(str(path), problem, "rebuilt from the pull requests", repaired=repair)]


def _check_open_index(meta: Path, pulls: list[dict[str, Any]], *,
                      repair: bool) -> list[Finding]:
    index = meta / "open"
    if not index.is_dir():
        return []
    marked = {int(m.name) for m in index.iterdir() if m.name.isdigit()}
    is_open = {p["number"] for p in pulls if p["state"] == "open"}
    if marked >= is_open:  # stale markers are skipped by readers: harmless
        return []
    missing = ", ".join(f"#{n}" for n in sorted(is_open - marked))
    if repair:
        for number in is_open - marked:
            (index / str(number)).touch()
    return [Finding(str(index), f"open pull requests missing from the index: {missing}",
                    "markers added", repaired=repair)]


def fsck(root: Path, *, repair: bool = False) -> list[Finding]:
    """Check (and with ``repair``, fix) every repository's records under the forge ``root``."""
    base = root / "repos"
    if not base.is_dir():
        return []
    findings: list[Finding] = []
    for meta in sorted(base.glob("*/*.forge")):
        findings += fsck_repo(meta, repair=repair)
    return findings


def findings_json(findings: list[Finding]) -> str:
    return json.dumps([f.__dict__ for f in findings], indent=2)

