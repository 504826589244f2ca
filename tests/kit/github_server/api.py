"""The loopback GitHub's REST handlers: the 27 operations, with GitHub's semantics.

State lives in memory (repositories, pull requests, comments, labels, statuses, check
runs, reactions, collaborators) and in real bare git repositories (branches, merges).
Handlers return meaningful values only; the server completes them to the operation's
response schema (``schemas.fill``) and validates the result.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from kit.github_server.gitstore import GitStore

LEVELS = ("none", "read", "triage", "write", "maintain", "admin")
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An error response: status, GitHub's JSON body, extra headers."""

    def __init__(self, status: int, message: str, *, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            **({"errors": errors} if errors else {}),
        }
        self.headers = headers or {}


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RepoState:
    id: int
    owner: str
    name: str
    description: str
    created_at: str
    private: bool = True
    collaborators: dict[str, str] = field(default_factory=dict)
    next_number: int = 1
    # Branch protection: branch -> the request body that set it (GitHub's shape).
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class State:
    """Everything the loopback GitHub knows; one lock around every handler."""

    def __init__(self, git: GitStore, base_url: str) -> None:
        self.git = git
        self.base_url = base_url
        self.lock = threading.RLock()
        self.ids = itertools.count(1000)
        self.users: dict[str, int] = {}
        self.orgs: dict[str, set[str]] = {}
        self.repos: dict[str, RepoState] = {}
        self.pulls: dict[tuple[str, int], dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.statuses: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.checks: dict[int, dict[str, Any]] = {}

    # -- people and permissions ----------------------------------------------------------

    def user_json(self, login: str) -> dict[str, Any]:
        kind = "Organization" if login in self.orgs else \
            "Bot" if login.endswith("[bot]") else "User"
        uid = self.users.setdefault(login, next(self.ids))
        return {"login": login, "id": uid, "type": kind, "site_admin": False,
                "html_url": f"{self.base_url}/{login}", "url": f"{self.api}/users/{login}"}

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v3"

    def level(self, repo: RepoState, login: str) -> str:
        if login == repo.owner or login in self.orgs.get(repo.owner, set()):
            return "admin"
        return repo.collaborators.get(login, "none")

    def repo(self, full_name: str, login: str, need: str = "read") -> RepoState:
        repo = self.repos.get(full_name.lower())
        if repo is None or LEVELS.index(self.level(repo, login)) < LEVELS.index("read"):
            raise ApiError(404, "Not Found")
        if LEVELS.index(self.level(repo, login)) < LEVELS.index(need):
            raise ApiError(403, "Must have push access to repository")
        return repo

    # -- JSON of objects -----------------------------------------------------------------

    def repo_json(self, repo: RepoState, login: str) -> dict[str, Any]:
        level = LEVELS.index(self.level(repo, login))
        return {
            "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name,
            "full_name": repo.full_name, "owner": self.user_json(repo.owner),
            "private": repo.private, "visibility": "private" if repo.private else "public",
            "description": repo.description or None, "fork": False,
            "html_url": f"{self.base_url}/{repo.full_name}",
            "clone_url": f"{self.base_url}/{repo.full_name}.git",
            "git_url": f"git://{self.base_url.split('://')[1]}/{repo.full_name}.git",
            "ssh_url": f"git@localhost:{repo.full_name}.git",
            "url": f"{self.api}/repos/{repo.full_name}",
            "default_branch": self.git.default_branch(repo.full_name),
            "created_at": repo.created_at, "updated_at": repo.created_at,
            "pushed_at": repo.created_at, "archived": False, "disabled": False,
            "permissions": {"admin": level >= 5, "maintain": level >= 4, "push": level >= 3,
                            "triage": level >= 2, "pull": level >= 1},
        }

    def pull_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        repo = self.repos[pull["repo"].lower()]
        head_sha = pull["head_sha"]
        if pull["state"] == "open":
            head_sha = self.git.branch_sha(repo.full_name, pull["head"]) or head_sha
            # GitHub keeps refs/pull/N/head on every pull request's head.
            self.git.set_ref(repo.full_name, f"refs/pull/{pull['number']}/head", head_sha)
        number = pull["number"]
        url = f"{self.api}/repos/{repo.full_name}"

        def side(ref: str, sha: str) -> dict[str, Any]:
            return {"ref": ref, "sha": sha, "label": f"{repo.owner}:{ref}",
                    "user": self.user_json(repo.owner), "repo": self.repo_json(repo, repo.owner)}

        base_sha = self.git.branch_sha(repo.full_name, pull["base"]) or pull["base_sha"]
        return {
            "id": pull["id"], "node_id": f"PR_{pull['id']}", "number": number,
            "state": pull["state"], "locked": False, "title": pull["title"],
            "body": pull["body"] or None, "user": self.user_json(pull["user"]),
            "labels": [self.label_json(name) for name in pull["labels"]],
            "draft": pull["draft"], "created_at": pull["created_at"],
            "updated_at": pull["updated_at"], "closed_at": pull.get("closed_at"),
            "merged_at": pull.get("merged_at"),
            "merge_commit_sha": pull.get("merge_commit_sha"),
            "merged": bool(pull.get("merged_at")),
            "merged_by": self.user_json(pull["merged_by"]) if pull.get("merged_by") else None,
            "head": side(pull["head"], head_sha), "base": side(pull["base"], base_sha),
            "html_url": f"{self.base_url}/{repo.full_name}/pull/{number}",
            "url": f"{url}/pulls/{number}", "issue_url": f"{url}/issues/{number}",
            "comments_url": f"{url}/issues/{number}/comments",
            "statuses_url": f"{url}/statuses/{head_sha}",
            "author_association": "OWNER" if pull["user"] == repo.owner else "COLLABORATOR",
            "mergeable_state": "clean" if pull["state"] == "open" else "unknown",
        }

    def label_json(self, name: str) -> dict[str, Any]:
        return {"id": abs(hash(name)) % 10**8, "node_id": f"LA_{name}", "name": name,
                "color": "ededed", "default": False, "description": "",
                "url": f"{self.api}/labels/{name}"}

    def comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.api}/repos/{comment['repo']}/issues"
        rollup: dict[str, Any] = {name: len(users) for name, users in
                                  comment["reactions"].items()}
        rollup.update({"total_count": sum(rollup.values()),
                       "url": f"{url}/comments/{comment['id']}/reactions"})
        for name in REACTIONS:
            rollup.setdefault(name, 0)
        return {"id": comment["id"], "node_id": f"IC_{comment['id']}", "body": comment["body"],
                "user": self.user_json(comment["user"]), "created_at": comment["created_at"],
                "updated_at": comment["updated_at"], "url": f"{url}/comments/{comment['id']}",
                "html_url": f"{self.base_url}/{comment['repo']}/pull/{comment['number']}"
                            f"#issuecomment-{comment['id']}",
                "issue_url": f"{url}/{comment['number']}", "author_association": "MEMBER",
                "reactions": rollup}

    def check_json(self, check: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in check.items() if k not in ("repo", "output")},
                "node_id": f"CR_{check['id']}", "external_id": "",
                "url": f"{self.api}/repos/{check['repo']}/check-runs/{check['id']}",
                "html_url": f"{self.base_url}/{check['repo']}/runs/{check['id']}",
                "output": {"title": None, "summary": None, "text": None,
                           "annotations_count": 0, "annotations_url": "",
                           **check["output"]},
                "check_suite": {"id": check["id"]}, "app": None, "pull_requests": []}


def encode_content(data: bytes) -> str:
    return base64.b64encode(data).decode()
