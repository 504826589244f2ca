"""GitHub's answers as our errors, and the small pure pieces around a request.

Used by forge/github.py only: what one request is (:class:`Op`, for messages), which
failures are rate limits and how long to wait, and the one line a user sees for an error
(naming the repository and the permission the token lacks, never the token).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from github import GithubException

from jx_mlops.errors import ConflictError, ForgeError, NotFoundError
from jx_mlops.forge.base import REPO_NAME
from jx_mlops.forge.github.credentials import redact


@dataclass(frozen=True)
class Op:
    """One request: what it does (for messages) and the token permission it needs."""

    verb: str
    path: str
    repo: str
    action: str
    needs: str
    not_found: str | None = None


def repo_path(name: str) -> str:
    """``name`` checked as OWNER/NAME (it goes into URL paths)."""
    if not REPO_NAME.match(name) or ".." in name:
        raise ForgeError(f"invalid repository name {name!r}: expected OWNER/NAME")
    return name


def quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def message_of(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc.message or "").strip()


def is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    if status == 429:
        return True
    lowered = message.lower()
    return status == 403 and ("retry-after" in headers
                              or headers.get("x-ratelimit-remaining") == "0"
                              or "rate limit" in lowered)


def rate_limit_wait(headers: Mapping[str, str], attempt: int) -> float:
    """GitHub's documented order: Retry-After; else the reset time when no requests
    remain; else at least a minute, growing."""
    if headers.get("retry-after", "").strip().isdigit():
        return float(headers["retry-after"])
    reset = headers.get("x-ratelimit-reset", "")
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, int(reset) - datetime.now(timezone.utc).timestamp()) + 1.0
    return float(60 * 2 ** (attempt - 1))


def _needs(op: Op, headers: Mapping[str, str]) -> str:
    """The permission to name: what GitHub says it accepts, else what we know it needs."""
    accepted = headers.get("x-accepted-github-permissions", "").strip()
    if accepted:
        return accepted.replace("=", ": ").replace(";", " or")
    scopes = headers.get("x-accepted-oauth-scopes", "").strip()
    return f"one of the scopes {scopes}" if scopes else op.needs


def translate(exc: GithubException, op: Op, attempt: int) -> ForgeError:
    """One line for the user, naming the repository and what is missing; never the token."""
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    message = redact(message_of(exc)) or "no message"
    what = f"{op.action} ({op.verb} {op.path})"
    if exc.status == 401:
        return ForgeError(f"GitHub rejected the token (401 {message}) when trying to {what} "
                          f"on {op.repo}", hint="set GITHUB_TOKEN or GH_TOKEN to a valid token")
    if exc.status == 403 and not is_rate_limited(403, headers, message):
        return ForgeError(f"GitHub refused to {what} on {op.repo} (403 {message}): the token "
                          f"needs {_needs(op, headers)}")
    if exc.status == 404:
        return NotFoundError(op.not_found or f"not found on GitHub: {what} on {op.repo}",
                             hint=f"or the token lacks {_needs(op, headers)}")
    if exc.status in (405, 409):
        return ConflictError(message)
    if exc.status == 422:
        details = "; ".join(_error_details(exc))
        return ForgeError(f"GitHub rejected the request to {what} on {op.repo} (422 {message}"
                          f"{': ' + details if details else ''})")
    tries = f" after {attempt} attempts" if attempt > 1 else ""
    return ForgeError(f"GitHub failed to {what} on {op.repo}{tries}: {exc.status} {message}")


def _error_details(exc: GithubException) -> list[str]:
    data = exc.data if isinstance(exc.data, dict) else {}
    details = []
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            text = error.get("message") or " ".join(
                str(error.get(k)) for k in ("resource", "field", "code") if error.get(k))
            details.append(redact(str(text)))
        else:
            details.append(redact(str(error)))
    return details


def pull_creation_error(exc: ForgeError, repo: str, head: str, base: str) -> ForgeError:
    """GitHub's 422s for a new pull request, as the same errors the local forge raises."""
    text = exc.message
    if "already exists" in text:
        return ConflictError(f"{repo}: a pull request for {head} -> {base} is already open")
    if "head invalid" in text or "PullRequest head invalid" in text:
        return NotFoundError(f"{repo}: head branch {head!r} does not exist (push it first)")
    if "base invalid" in text or "PullRequest base invalid" in text:
        return NotFoundError(f"{repo}: base branch {base!r} does not exist")
    return exc


def check_output(name: str, title: str, summary: str) -> dict[str, Any]:
    if not (title or summary):
        return {}
    # GitHub caps a check run summary at 65535 characters.
    return {"output": {"title": title or name or "jx-mlops", "summary": summary[:65535]}}


def merge_refusal(exc: ConflictError, repo: str, number: int, base: str) -> ConflictError:
    """GitHub's 405/409 to a merge, with what to do about it."""
    if "required status check" in exc.message.lower():
        return ConflictError(f"{repo}#{number} cannot be merged: GitHub: {exc.message}",
                             hint=f"{base} is protected on GitHub, the evaluation must pass; "
                                  "an admin may lift the rule")
    return ConflictError(f"{repo}#{number} cannot be merged: {exc.message}",
                         hint="rebase the head branch on the base")
