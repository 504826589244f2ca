"""GitHub's REST JSON as our frozen dataclasses (pure; used by forge/github.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jx_mlops.forge.base import CheckRun, Comment, CommitStatus, PullRequest, Repo


def login(user: Any) -> str:
    """The login of a GitHub user object ('' when there is none)."""
    return str(user.get("login", "")) if isinstance(user, dict) else ""


def to_repo(data: Mapping[str, Any]) -> Repo:
    """A repository (full-repository or repository JSON)."""
    return Repo(full_name=data["full_name"], clone_url=data["clone_url"],
                default_branch=data.get("default_branch") or "main", web_url=data["html_url"])


def to_pull(data: Mapping[str, Any]) -> PullRequest:
    """A pull request; closed with ``merged_at`` becomes state 'merged'."""
    merged = bool(data.get("merged_at"))
    return PullRequest(
        number=int(data["number"]), title=data["title"], body=data.get("body") or "",
        base=data["base"]["ref"], head=data["head"]["ref"], head_sha=data["head"]["sha"],
        state="merged" if merged else data["state"], draft=bool(data.get("draft")),
        author=login(data.get("user")), created_at=data["created_at"],
        updated_at=data["updated_at"], url=data["html_url"],
        labels=tuple(sorted(label["name"] for label in data.get("labels") or [])),
        merged_at=data.get("merged_at"),
        merge_commit_sha=data.get("merge_commit_sha") if merged else None,
        merged_by=login(data.get("merged_by")) or None,
    )


def to_comment(data: Mapping[str, Any]) -> Comment:
    """An issue comment, with the reactions it carries."""
    rollup = data.get("reactions") or {}
    reactions = tuple(sorted(k for k, v in rollup.items()
                             if k not in ("url", "total_count") and isinstance(v, int) and v))
    return Comment(id=int(data["id"]), author=login(data.get("user")),
                   body=data.get("body") or "", created_at=data["created_at"],
                   updated_at=data["updated_at"], reactions=reactions)


def to_status(sha: str, data: Mapping[str, Any]) -> CommitStatus:
    """One commit status (a combined status's entry or a new one)."""
    return CommitStatus(sha=sha, context=data["context"], state=data["state"],
                        description=data.get("description") or "",
                        target_url=data.get("target_url"), created_at=data["created_at"])


def to_check_run(data: Mapping[str, Any]) -> CheckRun:
    """A check run and its output's title and summary."""
    output = data.get("output") or {}
    return CheckRun(id=int(data["id"]), sha=data["head_sha"], name=data["name"],
                    status=data["status"], conclusion=data.get("conclusion"),
                    title=output.get("title") or "", summary=output.get("summary") or "",
                    details_url=data.get("details_url"), started_at=data.get("started_at"),
                    completed_at=data.get("completed_at"))
