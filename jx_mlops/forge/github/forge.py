"""GitHub (and GitHub Enterprise) as a forge: the Forge protocol on PyGithub.

With github_errors.py (its error translation), the only module that imports ``github``.
It issues exactly the REST operations listed in
docs/github.md, through PyGithub's ``Requester`` (auth, base URL, session, error types),
and turns every JSON answer into our frozen dataclasses. PyGithub's object layer is not
used on purpose: its lazily completed objects issue hidden requests (reading ``merged_by``
on a listed pull request fetches the pull request again), which would make the set of
operations, and the retry and error behaviour around them, impossible to keep exact.

Transient failures (primary and secondary rate limits, 5xx, dropped connections) are
retried with bounded backoff; 401/403/404 become one line naming the repository and the
permission the token lacks. The token never appears in a message: it lives in the
``Authorization`` header PyGithub sends and in git's environment (see credentials.py).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from github import Auth, Github, GithubException

from jx_mlops import __version__, console
from jx_mlops.errors import ConflictError, ForgeError, NotFoundError
from jx_mlops.forge.base import (
    PERMISSIONS,
    CheckConclusion,
    CheckRun,
    CheckStatus,
    Comment,
    CommitStatus,
    MergeMethod,
    Permission,
    PullRequest,
    Reaction,
    Repo,
    StatusState,
    check_run_fields,
    status_description,
)
from jx_mlops.forge.github.credentials import git_auth_env, redact
from jx_mlops.forge.github.errors import (
    Op,
    check_output,
    is_rate_limited,
    merge_refusal,
    message_of,
    pull_creation_error,
    quote,
    rate_limit_wait,
    repo_path,
    translate,
)
from jx_mlops.forge.github.values import to_check_run, to_comment, to_pull, to_repo, to_status
from jx_mlops.identity import actor

GITHUB_COM = "https://github.com"
# Who a workflow's GITHUB_TOKEN comments as.
ACTIONS_BOT = "github-actions[bot]"
GITHUB_COM_API = "https://api.github.com"
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


def github_urls(url: str | None) -> tuple[str, str]:
    """(server URL, API URL) for github.com (``url`` None) or a GitHub Enterprise server.

    ``url`` may be the server (``https://ghe.example.com``) or its API
    (``https://ghe.example.com/api/v3``).
    """
    if not url or url.rstrip("/") in (GITHUB_COM, GITHUB_COM_API):
        return GITHUB_COM, GITHUB_COM_API
    server = url.rstrip("/").removesuffix("/api/v3")
    return server, f"{server}/api/v3"


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying: ``attempts`` tries, no single wait above ``max_wait``."""

    attempts: int = 5
    max_wait: float = 60.0
    first_backoff: float = 1.0


class GitHubForge:
    """A forge on GitHub.com or GitHub Enterprise, authenticated by a token."""

    kind = "github"

    def __init__(self, token: str, *, url: str | None = None, user: str | None = None,
                 page_size: int = 100, retry: RetryPolicy | None = None,
                 write_interval: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.server_url, self.api_url = github_urls(url)
        self._token = token
        self._user = user
        self._poster: str | None = None
        self._page_size = page_size
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        # PyGithub's own retry is off: ours is bounded, logged and testable.
        self._gh = Github(base_url=self.api_url, auth=Auth.Token(token), per_page=page_size,
                          retry=None, timeout=30, user_agent=f"jx-mlops/{__version__}",
                          seconds_between_requests=None, seconds_between_writes=write_interval)

    def __repr__(self) -> str:  # never the token
        return f"GitHubForge({self.api_url!r})"

    # -- identity -----------------------------------------------------------------------

    def user(self) -> str:
        """Who acts: see :func:`jx_mlops.identity.actor`.

        GitHub Actions tokens cannot read ``GET /user``, so the login is not asked for.
        """
        return self._user or actor()

    def poster(self) -> str:
        """The token's own login (``GET /user``); a GitHub Actions token may not read it
        (403 "Resource not accessible by integration") and posts as ``github-actions[bot]``.
        ``JX_MLOPS_BOT`` names it outright (a GitHub App's token posts as ``APP[bot]``)."""
        if self._poster is None:
            self._poster = os.environ.get("JX_MLOPS_BOT", "").strip() or self._token_login()
        return self._poster

    def _token_login(self) -> str:
        op = Op("GET", "/user", "the token's account", "find out whom the token acts as",
                "no permission")
        try:
            return str(self._request(op)[1]["login"])
        except ForgeError as exc:
            if "by integration" in exc.message:
                return ACTIONS_BOT
            raise

    def git_env(self) -> dict[str, str]:
        return git_auth_env(self.server_url, self._token)

    # -- the request core ---------------------------------------------------------------

    def _request(self, op: Op, *, params: Mapping[str, Any] | None = None,
                 body: Any = None, url: str | None = None) -> tuple[dict[str, Any], Any]:
        requester = self._gh.requester
        query = {k: str(v) for k, v in (params or {}).items() if v is not None} or None
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return requester.requestJsonAndCheck(op.verb, url or op.path,
                                                     parameters=query, input=body)
            except GithubException as exc:
                wait, reason = self._retry_delay(exc, attempt)
                if wait is None:
                    raise translate(exc, op, attempt) from None
            except OSError as exc:  # requests' connection errors are OSErrors
                if attempt == self._retry.attempts:
                    raise ForgeError(redact(f"cannot reach GitHub at {self.api_url} to "
                                            f"{op.action}: {type(exc).__name__}")) from None
                wait, reason = self._backoff(attempt), "connection failed"
            console.info(f"GitHub: {reason}; retrying {op.verb} in {wait:.0f}s "
                         f"(attempt {attempt + 1} of {self._retry.attempts})")
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return float(min(self._retry.first_backoff * 2 ** (attempt - 1), self._retry.max_wait))

    def _retry_delay(self, exc: GithubException, attempt: int) -> tuple[float | None, str]:
        """How long to wait before retrying ``exc``; None when it is not worth retrying."""
        if attempt >= self._retry.attempts:
            return None, ""
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        if exc.status >= 500:
            return self._backoff(attempt), f"server error {exc.status}"
        if not is_rate_limited(exc.status, headers, message_of(exc)):
            return None, ""
        wait = rate_limit_wait(headers, attempt)
        if wait > self._retry.max_wait:
            raise ForgeError(f"GitHub rate limit exceeded; it resets in {wait:.0f}s, longer "
                             f"than jx-mlops waits ({self._retry.max_wait:.0f}s): re-run later")
        kind = "primary" if headers.get("x-ratelimit-remaining") == "0" else "secondary"
        return wait, f"{kind} rate limit"

    def _paginate(self, op: Op, params: Mapping[str, Any] | None = None,
                  key: str | None = None) -> list[Any]:
        items: list[Any] = []
        url: str | None = None
        query: Mapping[str, Any] | None = {**(params or {}), "per_page": self._page_size}
        while True:
            headers, data = self._request(op, params=query, url=url)
            items += data[key] if key else data
            match = _NEXT_LINK.search(headers.get("link", ""))
            if not match:
                return items
            url, query = match.group(1), None

    # -- permissions --------------------------------------------------------------------

    def get_permission(self, repo: str, user: str) -> Permission:
        op = Op("GET", f"/repos/{repo_path(repo)}/collaborators/{quote(user)}/permission", repo,
                 f"read {user}'s permission", "metadata: read")
        try:
            _headers, data = self._request(op)
        except NotFoundError:
            return "none"  # not a user, or not a collaborator: no permission
        role = data.get("role_name")
        return cast(Permission, role if role in PERMISSIONS else data.get("permission", "none"))

    # -- repositories -------------------------------------------------------------------

    def find_repo(self, name: str) -> Repo | None:
        try:
            return self.get_repo(name)
        except NotFoundError:
            return None

    def get_repo(self, name: str) -> Repo:
        op = Op("GET", f"/repos/{repo_path(name)}", name, "read the repository", "metadata: read",
                 not_found=f"repository {name} not found on {self.server_url} (or the token "
                           "cannot see it)")
        return to_repo(self._request(op)[1])

    def create_repo(self, name: str, *, description: str = "", auto_init: bool = False,
                    default_branch: str = "main") -> Repo:
        # default_branch needs no request: GitHub makes the first branch pushed into an
        # empty repository its default (auto_init makes it main).
        owner = repo_path(name).split("/")[0]
        body = {"name": name.split("/")[1], "description": description,
                "auto_init": auto_init, "private": True}
        try:
            try:
                created = self._request(Op("POST", f"/orgs/{owner}/repos", name,
                                            "create the repository", "administration: write"),
                                        body=body)[1]
            except NotFoundError:  # not an organisation: the token's own account, if it is
                created = self._request(Op("POST", "/user/repos", name,
                                            "create the repository", "administration: write"),
                                        body=body)[1]
        except ForgeError as exc:
            if "already exists" in exc.message:
                raise ConflictError(f"repository {name} already exists on GitHub") from None
            raise
        if created["full_name"].lower() != name.lower():
            raise ForgeError(f"GitHub created {created['full_name']} instead of {name}: {owner} "
                             "is neither an organisation the token can create repositories in "
                             "nor the token's own account (delete the stray repository)")
        return to_repo(created)

    def list_repos(self) -> list[Repo]:
        raise ForgeError("listing repositories is not supported on GitHub: see them at "
                         f"{self.server_url}")

    # -- pull requests ------------------------------------------------------------------

    def _pull_op(self, verb: str, repo: str, number: int, suffix: str = "",
                 action: str = "read the pull request", needs: str = "pull_requests: read"
                 ) -> Op:
        return Op(verb, f"/repos/{repo_path(repo)}/pulls/{number}{suffix}", repo, action, needs,
                   not_found=f"pull request #{number} not found in {repo}")

    def create_pull(self, repo: str, *, title: str, body: str, head: str, base: str,
                    draft: bool = False) -> PullRequest:
        op = Op("POST", f"/repos/{repo_path(repo)}/pulls", repo, "open a pull request",
                 "pull_requests: write")
        try:
            data = self._request(op, body={"title": title, "body": body, "head": head,
                                           "base": base, "draft": draft})[1]
        except ForgeError as exc:
            raise pull_creation_error(exc, repo, head, base) from None
        return to_pull(data)

    def get_pull(self, repo: str, number: int) -> PullRequest:
        return to_pull(self._request(self._pull_op("GET", repo, number))[1])

    def list_pulls(self, repo: str, *, state: str = "open", head: str | None = None,
                   base: str | None = None) -> list[PullRequest]:
        if state not in ("open", "closed", "merged", "all"):
            raise ForgeError(f"unknown pull request state {state!r} (open, closed, merged, all)")
        if head and ":" not in head:
            head = f"{repo.split('/')[0]}:{head}"
        op = Op("GET", f"/repos/{repo_path(repo)}/pulls", repo, "list pull requests",
                 "pull_requests: read")
        params = {"state": "closed" if state == "merged" else state, "head": head,
                  "base": base, "sort": "created", "direction": "asc"}
        pulls = [to_pull(item) for item in self._paginate(op, params)]
        return [p for p in pulls if state != "merged" or p.state == "merged"]

    def update_pull(self, repo: str, number: int, *, title: str | None = None,
                    body: str | None = None, state: str | None = None) -> PullRequest:
        if state not in (None, "open", "closed"):
            raise ForgeError(f"cannot set pull request state to {state!r} (open or closed)")
        if state is not None and self.get_pull(repo, number).state == "merged":
            raise ConflictError(f"{repo}#{number} is merged; its state cannot change")
        changes = {k: v for k, v in (("title", title), ("body", body), ("state", state))
                   if v is not None}
        op = self._pull_op("PATCH", repo, number, action="update the pull request",
                           needs="pull_requests: write")
        return to_pull(self._request(op, body=changes)[1])

    def merge_pull(self, repo: str, number: int, *, method: MergeMethod = "merge",
                   message: str | None = None) -> PullRequest:
        current = self.get_pull(repo, number)
        if current.state != "open":
            raise ConflictError(f"{repo}#{number} is {current.state}, not open; "
                                "only open pull requests can be merged")
        body: dict[str, Any] = {"merge_method": method, "sha": current.head_sha}
        if message:
            title, _, rest = message.partition("\n")
            body.update(commit_title=title, commit_message=rest.strip())
        op = self._pull_op("PUT", repo, number, "/merge", "merge the pull request",
                           "contents: write")
        try:
            self._request(op, body=body)
        except ConflictError as exc:
            raise merge_refusal(exc, repo, number, current.base) from None
        return self.get_pull(repo, number)

    def pulls_for_commit(self, repo: str, sha: str) -> list[PullRequest]:
        op = Op("GET", f"/repos/{repo_path(repo)}/commits/{quote(sha)}/pulls", repo,
                 "find the pull requests of a commit", "pull_requests: read",
                 not_found=f"{repo}: no commit {sha}")
        return [to_pull(item) for item in self._paginate(op)]

    # -- comments -----------------------------------------------------------------------

    def _comment_op(self, verb: str, repo: str, comment_id: int, action: str) -> Op:
        return Op(verb, f"/repos/{repo_path(repo)}/issues/comments/{comment_id}", repo, action,
                   "pull_requests: write",
                   not_found=f"comment {comment_id} not found in {repo}")

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        op = Op("GET", f"/repos/{repo_path(repo)}/issues/{number}/comments", repo,
                 "list comments", "pull_requests: read",
                 not_found=f"pull request #{number} not found in {repo}")
        return [to_comment(item) for item in self._paginate(op)]

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        op = Op("POST", f"/repos/{repo_path(repo)}/issues/{number}/comments", repo,
                 "comment on the pull request", "pull_requests: write",
                 not_found=f"pull request #{number} not found in {repo}")
        comment = to_comment(self._request(op, body={"body": body})[1])
        if self._poster is None:  # what GET /user would say, learnt for free
            self._poster = comment.author
        return comment

    def update_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        op = self._comment_op("PATCH", repo, comment_id, "update a comment")
        return to_comment(self._request(op, body={"body": body})[1])

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self._request(self._comment_op("DELETE", repo, comment_id, "delete a comment"))

    def add_reaction(self, repo: str, comment_id: int, reaction: Reaction) -> None:
        op = self._comment_op("POST", repo, comment_id, "react to a comment")
        self._request(Op(op.verb, f"{op.path}/reactions", repo, op.action, op.needs,
                          op.not_found), body={"content": reaction})

    # -- labels -------------------------------------------------------------------------

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        op = Op("POST", f"/repos/{repo_path(repo)}/issues/{number}/labels", repo,
                 "label the pull request", "pull_requests: write",
                 not_found=f"pull request #{number} not found in {repo}")
        self._request(op, body={"labels": list(labels)})

    def remove_label(self, repo: str, number: int, label: str) -> None:
        op = Op("DELETE", f"/repos/{repo_path(repo)}/issues/{number}/labels/{quote(label)}",
                 repo, "remove a label", "pull_requests: write",
                 not_found=f"{repo}#{number} has no label {label!r}")
        self._request(op)

    # -- branch protection --------------------------------------------------------------

    def set_required_checks(self, repo: str, branch: str, contexts: Sequence[str]) -> None:
        """Protect ``branch``: merging needs every status context in ``contexts`` to pass,
        for admins too (GitHub applies it to every merge, `forge pr merge` included).

        Replaces the branch's whole protection (meant for a new repository); needs a token
        with admin rights on the repository (fine-grained: administration: write).
        """
        op = Op("PUT", f"/repos/{repo_path(repo)}/branches/{quote(branch)}/protection", repo,
                f"protect {branch}", "admin rights on the repository (administration: write)",
                not_found=f"{repo}: no branch {branch}")
        checks = {"strict": False, "contexts": list(contexts)} if contexts else None
        self._request(op, body={"required_status_checks": checks, "enforce_admins": True,
                                "required_pull_request_reviews": None, "restrictions": None})

    # -- commit statuses and check runs -------------------------------------------------

    def set_status(self, repo: str, sha: str, *, state: StatusState, context: str,
                   description: str = "", target_url: str | None = None) -> CommitStatus:
        if state not in ("pending", "success", "failure", "error"):
            raise ForgeError(f"invalid status state {state!r} (pending, success, failure, "
                             "error)")
        op = Op("POST", f"/repos/{repo_path(repo)}/statuses/{quote(sha)}", repo,
                 "set a commit status", "statuses: write", not_found=f"{repo}: no commit {sha}")
        body = {"state": state, "context": context, "description": status_description(description),
                "target_url": target_url}
        try:
            data = self._request(op, body=body)[1]
        except ForgeError as exc:
            if "No commit found" in exc.message:
                raise NotFoundError(f"{repo}: no commit {sha}") from None
            raise
        return to_status(sha, data)

    def get_statuses(self, repo: str, sha: str) -> list[CommitStatus]:
        op = Op("GET", f"/repos/{repo_path(repo)}/commits/{quote(sha)}/status", repo,
                 "read commit statuses", "statuses: read", not_found=f"{repo}: no commit {sha}")
        statuses = [to_status(sha, s) for s in self._paginate(op, key="statuses")]
        return sorted(statuses, key=lambda s: s.context)

    def create_check_run(self, repo: str, sha: str, *, name: str, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "", details_url: str | None = None) -> CheckRun:
        check_run_fields(status, conclusion)
        body: dict[str, Any] = {"name": name, "head_sha": sha, "status": status,
                                **check_output(name, title, summary)}
        if conclusion is not None:
            body["conclusion"] = conclusion
        if details_url:
            body["details_url"] = details_url
        op = Op("POST", f"/repos/{repo_path(repo)}/check-runs", repo, "create a check run",
                 "checks: write (only GitHub App tokens, such as Actions' GITHUB_TOKEN, "
                 "may create check runs)", not_found=f"{repo}: no commit {sha}")
        return to_check_run(self._request(op, body=body)[1])

    def update_check_run(self, repo: str, check_run_id: int, *, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "") -> CheckRun:
        check_run_fields(status, conclusion)
        body: dict[str, Any] = {"status": status, **check_output("", title, summary)}
        if conclusion is not None:
            body["conclusion"] = conclusion
        op = Op("PATCH", f"/repos/{repo_path(repo)}/check-runs/{check_run_id}", repo,
                 "update a check run", "checks: write",
                 not_found=f"check run {check_run_id} not found in {repo}")
        return to_check_run(self._request(op, body=body)[1])
