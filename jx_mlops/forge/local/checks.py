"""The local forge's rules and checks, kept beside its pull-request records (see
:mod:`jx_mlops.forge.local`): who may write (``collaborators.json``), which branches are
protected (``protection.json``), commit statuses (``statuses/SHA.json``) and check runs
(``checks/ID.json``).

Mixins of :class:`jx_mlops.forge.local.LocalForge`, which provides the repository, its
bare git directory and the records lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from jx_mlops.errors import ForgeError, NotFoundError
from jx_mlops.forge.base import (
    PERMISSIONS,
    CheckConclusion,
    CheckRun,
    CheckStatus,
    CommitStatus,
    Permission,
    Repo,
    StatusState,
    check_run_fields,
)
from jx_mlops.forge.local.records import read_record
from jx_mlops.fsutil import write_json_atomic
from jx_mlops.git.repo import GitRepo

STATUS_STATES = ("pending", "success", "failure", "error")


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_json(path: Path) -> Any:
    return read_record(path)  # bounded, parsed safely, checked: see forge/local/records.py


class _Records:
    """What the mixins use of LocalForge (which defines each of these)."""

    # Provided by LocalForge.
    def get_repo(self, name: str) -> Repo:
        raise NotImplementedError

    def _bare(self, repo: str) -> GitRepo:
        raise NotImplementedError

    def _meta_dir(self, name: str) -> Path:
        raise NotImplementedError

    def _locked(self, repo: str) -> contextlib.AbstractContextManager[Path]:
        raise NotImplementedError


class LocalAccess(_Records):
    """Permissions and branch protection of local-forge repositories."""

    # -- permissions --------------------------------------------------------------------
    # collaborators.json: {"default": LEVEL, "users": {LOGIN: LEVEL}}. Without the file every
    # user has "write": a local forge is a personal sandbox until someone restricts it.

    def _collaborators(self, repo: str) -> dict[str, Any]:
        path = self._meta_dir(repo) / "collaborators.json"
        data = read_json(path) if path.is_file() else {}
        return {"default": data.get("default", "write"), "users": dict(data.get("users", {}))}

    def get_permission(self, repo: str, user: str) -> Permission:
        self.get_repo(repo)
        data = self._collaborators(repo)
        return cast(Permission, data["users"].get(user, data["default"]))

    def set_permission(self, repo: str, user: str | None, permission: str) -> None:
        """Give ``user`` (None: everyone not listed) ``permission`` on ``repo``."""
        if permission not in PERMISSIONS:
            raise ForgeError(f"invalid permission {permission!r} ({', '.join(PERMISSIONS)})")
        with self._locked(repo) as meta:
            data = self._collaborators(repo)
            if user is None:
                data["default"] = permission
            else:
                data["users"][user] = permission
            write_json_atomic(meta / "collaborators.json", data)

    # -- branch protection --------------------------------------------------------------
    # protection.json: {"BRANCH": {"required_checks": [CONTEXT, ...]}}. Without the file no
    # branch is protected; `create` protects a project's default branch.

    def required_checks(self, repo: str, branch: str) -> tuple[str, ...]:
        """The status contexts that must be ``success`` before merging into ``branch``."""
        self.get_repo(repo)
        path = self._meta_dir(repo) / "protection.json"
        data = read_json(path) if path.is_file() else {}
        rule = data.get(branch) if isinstance(data, dict) else None
        checks = rule.get("required_checks", []) if isinstance(rule, dict) else []
        return tuple(str(c) for c in checks)

    def set_required_checks(self, repo: str, branch: str, contexts: Sequence[str]) -> None:
        """Protect ``branch``: merging needs every context in ``contexts`` to pass."""
        with self._locked(repo) as meta:
            path = meta / "protection.json"
            data = read_json(path) if path.is_file() else {}
            if contexts:
                data[branch] = {"required_checks": list(contexts)}
            else:
                data.pop(branch, None)
            write_json_atomic(path, data)


class LocalChecks(_Records):
    """Statuses and check runs of local-forge commits."""

    # -- commit statuses ----------------------------------------------------------------

    def set_status(self, repo: str, sha: str, *, state: StatusState, context: str,
                   description: str = "", target_url: str | None = None) -> CommitStatus:
        if state not in STATUS_STATES:
            raise ForgeError(f"invalid status state {state!r} ({', '.join(STATUS_STATES)})")
        bare = self._bare(repo)
        if bare.try_rev_parse(sha) is None:
            raise NotFoundError(f"{repo}: no commit {sha}")
        status = CommitStatus(sha=sha, context=context, state=state,
                              description=description[:140], target_url=target_url,
                              created_at=now_iso())
        with self._locked(repo) as meta:
            path = meta / "statuses" / f"{sha}.json"
            history = read_json(path) if path.is_file() else []
            history.append(status.__dict__)
            write_json_atomic(path, history)
        return status

    def get_statuses(self, repo: str, sha: str) -> list[CommitStatus]:
        self.get_repo(repo)
        path = self._meta_dir(repo) / "statuses" / f"{sha}.json"
        latest: dict[str, CommitStatus] = {}
        for data in read_json(path) if path.is_file() else []:
            latest[data["context"]] = CommitStatus(**data)
        return sorted(latest.values(), key=lambda s: s.context)

    # -- check runs ---------------------------------------------------------------------
    # checks/ID.json, one record per run; ids come from state.json like comment ids.

    def create_check_run(self, repo: str, sha: str, *, name: str, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "", details_url: str | None = None) -> CheckRun:
        check_run_fields(status, conclusion)
        if self._bare(repo).try_rev_parse(sha) is None:
            raise NotFoundError(f"{repo}: no commit {sha}")
        now = now_iso()
        with self._locked(repo) as meta:
            state = read_json(meta / "state.json")
            check_id = int(state.get("next_check", 1))
            record: dict[str, Any] = {"id": check_id, "sha": sha, "name": name, "status": status,
                      "conclusion": conclusion, "title": title, "summary": summary,
                      "details_url": details_url, "started_at": now,
                      "completed_at": now if status == "completed" else None}
            state["next_check"] = check_id + 1
            write_json_atomic(meta / "state.json", state)
            write_json_atomic(meta / "checks" / f"{check_id}.json", record)
        return CheckRun(**record)

    def update_check_run(self, repo: str, check_run_id: int, *, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "") -> CheckRun:
        check_run_fields(status, conclusion)
        with self._locked(repo) as meta:
            path = meta / "checks" / f"{check_run_id}.json"
            if not path.is_file():
                raise NotFoundError(f"check run {check_run_id} not found in {repo}")
            record = read_json(path)
            record.update(status=status, conclusion=conclusion, title=title, summary=summary,
                          completed_at=now_iso() if status == "completed" else None)
            write_json_atomic(path, record)
        return CheckRun(**record)
