"""The local forge's rules and checks, kept beside its pull-request records: who may write
(``collaborators.json``), which branches are protected (``protection.json``), commit
statuses (``statuses/SHA.json``) and check runs (``checks/ID.json``).

Each class works on the repositories of a :class:`~jx_mlops.forge.local.repos.RepoStore`;
:class:`jx_mlops.forge.local.forge.LocalForge` holds one of each and delegates to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from jx_mlops.errors import ForgeError, NotFoundError
from jx_mlops.forge.base import (
    PERMISSIONS,
    CheckConclusion,
    CheckRun,
    CheckStatus,
    CommitStatus,
    Permission,
    StatusState,
    check_run_fields,
    status_description,
)
from jx_mlops.forge.local.records import now_iso, read_record
from jx_mlops.forge.local.repos import RepoStore
from jx_mlops.fsutil import write_json_atomic

STATUS_STATES = ("pending", "success", "failure", "error")


class AccessRules:
    """Permissions and branch protection of local-forge repositories."""

    def __init__(self, repos: RepoStore) -> None:
        self._repos = repos

    # -- permissions --------------------------------------------------------------------
    # collaborators.json: {"default": LEVEL, "users": {LOGIN: LEVEL}}. Without the file every
    # user has "write": a local forge is a personal sandbox until someone restricts it.

    def _collaborators(self, repo: str) -> dict[str, Any]:
        path = self._repos.meta_dir(repo) / "collaborators.json"
        data = read_record(path) if path.is_file() else {}
        return {"default": data.get("default", "write"), "users": dict(data.get("users", {}))}

    def permission(self, repo: str, user: str) -> Permission:
        self._repos.get(repo)
        data = self._collaborators(repo)
        return cast(Permission, data["users"].get(user, data["default"]))

    def set_permission(self, repo: str, user: str | None, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise ForgeError(f"invalid permission {permission!r} ({', '.join(PERMISSIONS)})")
        with self._repos.locked(repo) as meta:
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
        self._repos.get(repo)
        path = self._repos.meta_dir(repo) / "protection.json"
        data = read_record(path) if path.is_file() else {}
        rule = data.get(branch) if isinstance(data, dict) else None
        checks = rule.get("required_checks", []) if isinstance(rule, dict) else []
        return tuple(str(c) for c in checks)

    def set_required_checks(self, repo: str, branch: str, contexts: Sequence[str]) -> None:
        with self._repos.locked(repo) as meta:
            path = meta / "protection.json"
            data = read_record(path) if path.is_file() else {}
            if contexts:
                data[branch] = {"required_checks": list(contexts)}
            else:
                data.pop(branch, None)
            write_json_atomic(path, data)


class CommitChecks:
    """Statuses and check runs of local-forge commits."""

    def __init__(self, repos: RepoStore) -> None:
        self._repos = repos

    def _check_commit(self, repo: str, sha: str) -> None:
        bare = self._repos.bare(repo)
        try:
            if bare.try_rev_parse(sha) is None:
                raise NotFoundError(f"{repo}: no commit {sha}")
        finally:
            bare.close()

    # -- commit statuses ----------------------------------------------------------------

    def set_status(self, repo: str, sha: str, *, state: StatusState, context: str,
                   description: str = "", target_url: str | None = None) -> CommitStatus:
        if state not in STATUS_STATES:
            raise ForgeError(f"invalid status state {state!r} ({', '.join(STATUS_STATES)})")
        self._check_commit(repo, sha)
        status = CommitStatus(sha=sha, context=context, state=state,
                              description=status_description(description), target_url=target_url,
                              created_at=now_iso())
        with self._repos.locked(repo) as meta:
            path = meta / "statuses" / f"{sha}.json"
            history = read_record(path) if path.is_file() else []
            history.append(status.__dict__)
            write_json_atomic(path, history)
        return status

    def statuses(self, repo: str, sha: str) -> list[CommitStatus]:
        self._repos.get(repo)
        path = self._repos.meta_dir(repo) / "statuses" / f"{sha}.json"
        latest: dict[str, CommitStatus] = {}
        for data in read_record(path) if path.is_file() else []:
            latest[data["context"]] = CommitStatus(**data)
        return sorted(latest.values(), key=lambda s: s.context)

    # -- check runs ---------------------------------------------------------------------
    # checks/ID.json, one record per run; ids come from state.json like comment ids.

    def create_check_run(self, repo: str, sha: str, *, name: str, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "", details_url: str | None = None) -> CheckRun:
        check_run_fields(status, conclusion)
        self._check_commit(repo, sha)
        now = now_iso()
        with self._repos.locked(repo) as meta:
            state = read_record(meta / "state.json")
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
        with self._repos.locked(repo) as meta:
            path = meta / "checks" / f"{check_run_id}.json"
            if not path.is_file():
                raise NotFoundError(f"check run {check_run_id} not found in {repo}")
            record = read_record(path)
            record.update(status=status, conclusion=conclusion, title=title, summary=summary,
                          completed_at=now_iso() if status == "completed" else None)
            write_json_atomic(path, record)
        return CheckRun(**record)
