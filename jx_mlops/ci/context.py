"""Where `jx-mlops ci ...` runs: GitHub Actions, Jenkins X (Lighthouse), or a terminal.

``detect_context`` reads the environment (and, in GitHub Actions, the event payload at
``GITHUB_EVENT_PATH``) into one :class:`CiContext`, so ``ci pr``, ``ci release`` and
``ci chatops`` need no flags in CI. Flags still win over what is detected.

GitHub Actions: ``GITHUB_EVENT_NAME`` (pull_request, pull_request_target, merge_group,
issue_comment, push, schedule, workflow_run, workflow_dispatch), ``GITHUB_REPOSITORY``,
``GITHUB_SHA``,
``GITHUB_SERVER_URL``, ``GITHUB_API_URL``, ``GITHUB_RUN_ID`` (the run link).
Jenkins X / Lighthouse (Prow's variables): ``JOB_TYPE`` (presubmit, postsubmit, periodic,
batch), ``PULL_NUMBER``, ``PULL_BASE_REF``, ``PULL_BASE_SHA``, ``PULL_PULL_SHA``,
``REPO_OWNER``, ``REPO_NAME``, ``BUILD_ID``, ``JOB_NAME``. ``JX_MLOPS_RUN_URL`` overrides
the run link anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jx_mlops.errors import ConfigError
from jx_mlops.fsutil import read_bounded
from jx_mlops.yamlio import cut, json_loads, one_line

_MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB

Provider = Literal["github-actions", "jenkins-x", "none"]


@dataclass(frozen=True)
class CommentEvent:
    """A comment that triggered the run (GitHub ``issue_comment``)."""

    id: int
    body: str
    author: str
    on_pull_request: bool


@dataclass(frozen=True)
class WorkflowRunEvent:
    """The run a ``workflow_run`` event reports on (what mlops-comment.yml reacts to)."""

    id: int
    name: str
    event: str
    conclusion: str | None
    head_sha: str
    head_branch: str | None
    head_repo: str | None
    pull_numbers: tuple[int, ...]


@dataclass(frozen=True)
class CiContext:
    """What the CI run is about; every field None/empty when it is not known."""

    provider: Provider
    event: str = ""
    repo: str | None = None
    sha: str | None = None
    ref: str | None = None
    pull_number: int | None = None
    pull_state: str | None = None
    head_sha: str | None = None
    head_ref: str | None = None
    head_repo: str | None = None
    base_sha: str | None = None
    base_ref: str | None = None
    actor: str | None = None
    run_url: str | None = None
    server_url: str | None = None
    api_url: str | None = None
    comment: CommentEvent | None = None
    workflow_run: WorkflowRunEvent | None = None

    @property
    def in_ci(self) -> bool:
        return self.provider != "none"

    @property
    def from_fork(self) -> bool:
        """A pull request whose head lives in another repository (untrusted code)."""
        return bool(self.head_repo and self.repo and self.head_repo.lower() != self.repo.lower())


def detect_context(environ: Mapping[str, str] | None = None) -> CiContext:
    """The CI context of ``environ`` (default: this process's environment)."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true" or env.get("GITHUB_EVENT_NAME"):
        return _github_actions(env)
    if env.get("JOB_TYPE") and env.get("REPO_OWNER") and env.get("REPO_NAME"):
        return _jenkins_x(env)
    return CiContext("none", run_url=env.get("JX_MLOPS_RUN_URL") or None)


# -- GitHub Actions ------------------------------------------------------------------------


def _read_event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    where = f"GITHUB_EVENT_PATH: {path}"
    try:
        raw = read_bounded(Path(path), max_bytes=_MAX_EVENT_BYTES, name=where)
    except FileNotFoundError:
        raise ConfigError(f"GITHUB_EVENT_PATH: {path} does not exist") from None
    try:
        data = json_loads(raw)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ConfigError(f"{where} is not a JSON event payload: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"GITHUB_EVENT_PATH: {path}: expected a JSON object")
    return data


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _github_actions(env: Mapping[str, str]) -> CiContext:
    event_name = env.get("GITHUB_EVENT_NAME", "")
    payload = _read_event(env)
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repo = env.get("GITHUB_REPOSITORY") or _str(_dig(payload, "repository", "full_name"))
    run_id = env.get("GITHUB_RUN_ID")
    run_url = env.get("JX_MLOPS_RUN_URL") or (
        f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None)
    fields: dict[str, Any] = {
        "event": event_name, "repo": repo, "sha": env.get("GITHUB_SHA") or None,
        "ref": env.get("GITHUB_REF") or None, "run_url": run_url, "server_url": server,
        "api_url": env.get("GITHUB_API_URL") or None,
        "actor": env.get("GITHUB_ACTOR") or _str(_dig(payload, "sender", "login")),
    }
    pull = payload.get("pull_request")
    if isinstance(pull, dict):
        fields.update(_pull_fields(pull))
    if event_name == "issue_comment":
        fields.update(_comment_fields(payload))
    if event_name == "push":
        fields["sha"] = _str(payload.get("after")) or fields["sha"]
    if event_name == "merge_group":
        fields.update(_merge_group_fields(payload.get("merge_group")))
    if event_name == "workflow_run":
        fields["workflow_run"] = _workflow_run(payload.get("workflow_run"))
    return CiContext("github-actions", **fields)


def _pull_fields(pull: dict[str, Any]) -> dict[str, Any]:
    number = pull.get("number")
    return {"pull_number": number if isinstance(number, int) else None,
            "pull_state": _str(pull.get("state")),
            "head_sha": _str(_dig(pull, "head", "sha")),
            "head_ref": _str(_dig(pull, "head", "ref")),
            "head_repo": _str(_dig(pull, "head", "repo", "full_name")),
            "base_sha": _str(_dig(pull, "base", "sha")),
            "base_ref": _str(_dig(pull, "base", "ref"))}


def _merge_group_fields(group: Any) -> dict[str, Any]:
    """A merge queue entry: its head commit (the queue branch, base + the queued PRs) is
    what is checked, against ``base_sha``."""
    return {"head_sha": _str(_dig(group, "head_sha")), "head_ref": _str(_dig(group, "head_ref")),
            "base_sha": _str(_dig(group, "base_sha")), "base_ref": _str(_dig(group, "base_ref")),
            "sha": _str(_dig(group, "head_sha"))}


def _comment_fields(payload: dict[str, Any]) -> dict[str, Any]:
    number = _dig(payload, "issue", "number")
    on_pull = isinstance(_dig(payload, "issue", "pull_request"), dict)
    comment_id = _dig(payload, "comment", "id")
    event = CommentEvent(id=comment_id if isinstance(comment_id, int) else 0,
                         body=str(_dig(payload, "comment", "body") or ""),
                         author=str(_dig(payload, "comment", "user", "login") or ""),
                         on_pull_request=on_pull)
    return {"comment": event,
            "pull_number": number if on_pull and isinstance(number, int) else None}


def _event_int(value: Any, key: str) -> int:
    """A number of the event payload (an id): untrusted, so checked, not coerced."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ConfigError(f"GITHUB_EVENT_PATH: {key}: expected a number, got {cut(value)}")
    return value


def _workflow_run(run: Any) -> WorkflowRunEvent | None:
    if not isinstance(run, dict):
        return None
    pulls = run.get("pull_requests")
    numbers = tuple(p["number"] for p in (pulls if isinstance(pulls, list) else [])
                    if isinstance(p, dict) and isinstance(p.get("number"), int))
    return WorkflowRunEvent(
        id=_event_int(run.get("id"), "workflow_run.id"), name=str(run.get("name") or ""),
        event=str(run.get("event") or ""), conclusion=_str(run.get("conclusion")),
        head_sha=str(run.get("head_sha") or ""), head_branch=_str(run.get("head_branch")),
        head_repo=_str(_dig(run, "head_repository", "full_name")), pull_numbers=numbers)


# -- Jenkins X / Lighthouse ----------------------------------------------------------------


def _jenkins_x(env: Mapping[str, str]) -> CiContext:
    job_type = env["JOB_TYPE"]
    number = env.get("PULL_NUMBER", "").strip()
    # str.isdigit() admits "²" and Arabic-Indic digits, which int() then refuses or reads.
    if number and not (number.isascii() and number.isdigit() and len(number) <= 18):
        raise ConfigError(f"PULL_NUMBER: expected a pull request number, got {cut(number)}")
    base_sha = env.get("PULL_BASE_SHA") or None
    return CiContext(
        "jenkins-x", event=job_type, repo=f"{env['REPO_OWNER']}/{env['REPO_NAME']}",
        sha=(env.get("PULL_PULL_SHA") or None) if number else base_sha,
        ref=env.get("PULL_BASE_REF") or None, pull_number=int(number) if number else None,
        head_sha=env.get("PULL_PULL_SHA") or None, head_ref=env.get("PULL_HEAD_REF") or None,
        base_sha=base_sha, base_ref=env.get("PULL_BASE_REF") or None,
        run_url=env.get("JX_MLOPS_RUN_URL") or None)
