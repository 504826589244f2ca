"""One function per REST operation of the subset: ``handle(key, ...)`` dispatches."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

from kit.github_server.api import LEVELS, REACTIONS, ApiError, Reply, RepoState, State, now

Handler = Callable[[State, str, dict[str, str], dict[str, str], Any], Reply]
HANDLERS: dict[str, Handler] = {}


def op(key: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[key] = fn
        return fn

    return register


def _full(p: dict[str, str]) -> str:
    return f"{p['owner']}/{p['repo']}"


def _pull(s: State, repo: RepoState, number: str) -> dict[str, Any]:
    pull = s.pulls.get((repo.full_name, int(number)))
    if pull is None:
        raise ApiError(404, "Not Found")
    return pull


# -- repositories --------------------------------------------------------------------------


def _create_repo(s: State, login: str, owner: str, body: dict[str, Any]) -> Reply:
    name = body["name"]
    full = f"{owner}/{name}"
    if full.lower() in s.repos:
        raise ApiError(422, "Repository creation failed.", errors=[{
            "resource": "Repository", "code": "custom", "field": "name",
            "message": "name already exists on this account"}])
    repo = RepoState(next(s.ids), owner, name, body.get("description") or "", now(),
                     private=bool(body.get("private", False)))
    s.git.create(full, readme=f"# {name}\n\n{repo.description}\n" if body.get("auto_init")
                 else None)
    s.repos[full.lower()] = repo
    return Reply(201, s.repo_json(repo, login))


@op("GET /repos/{owner}/{repo}")
def get_repo(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    return Reply(200, s.repo_json(s.repo(_full(p), login), login))


@op("POST /user/repos")
def create_user_repo(s: State, login: str, p: dict[str, str], q: dict[str, str],
                     b: Any) -> Reply:
    return _create_repo(s, login, login, b)


@op("POST /orgs/{org}/repos")
def create_org_repo(s: State, login: str, p: dict[str, str], q: dict[str, str],
                    b: Any) -> Reply:
    members = s.orgs.get(p["org"])
    if members is None:
        raise ApiError(404, "Not Found")
    if login not in members:
        raise ApiError(403, "You need admin access to the organization to create repositories")
    return _create_repo(s, login, p["org"], b)


@op("GET /repos/{owner}/{repo}/contents/{path}")
def get_content(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    from kit.github_server.api import encode_content

    repo = s.repo(_full(p), login)
    ref = q.get("ref", "main")
    out = subprocess.run(["git", "--git-dir", str(s.git.path(repo.full_name)), "cat-file",
                          "blob", f"{ref}:{p['path']}"], capture_output=True, check=False)
    if out.returncode != 0:
        raise ApiError(404, "Not Found")
    return Reply(200, {"type": "file", "encoding": "base64", "size": len(out.stdout),
                       "name": p["path"].rsplit("/", 1)[-1], "path": p["path"],
                       "content": encode_content(out.stdout), "sha": "0" * 40,
                       "url": "", "git_url": None, "html_url": None, "download_url": None,
                       "_links": {"self": "", "git": None, "html": None}})


@op("GET /repos/{owner}/{repo}/git/ref/{ref}")
def get_ref(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    if not p["ref"].startswith("heads/"):
        raise ApiError(404, "Not Found")
    sha = s.git.branch_sha(repo.full_name, p["ref"][len("heads/"):])
    if sha is None:
        raise ApiError(404, "Not Found")
    return Reply(200, {"ref": f"refs/{p['ref']}", "node_id": "REF", "url": "",
                       "object": {"type": "commit", "sha": sha, "url": ""}})


@op("POST /repos/{owner}/{repo}/git/refs")
def create_ref(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    if not s.git.has_commit(repo.full_name, b["sha"]):
        raise ApiError(422, "Object does not exist")
    s.git.set_ref(repo.full_name, b["ref"], b["sha"])
    return Reply(201, {"ref": b["ref"], "node_id": "REF", "url": "",
                       "object": {"type": "commit", "sha": b["sha"], "url": ""}})


# -- pull requests -------------------------------------------------------------------------


def _branch(head: str, repo: RepoState) -> str:
    owner, sep, branch = head.partition(":")
    return branch if sep and owner == repo.owner else head


@op("POST /repos/{owner}/{repo}/pulls")
def create_pull(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    head, base = _branch(b["head"], repo), b["base"]
    invalid = [{"resource": "PullRequest", "field": f, "code": "invalid"}
               for f, name in (("head", head), ("base", base))
               if s.git.branch_sha(repo.full_name, name) is None]
    if invalid:
        raise ApiError(422, "Validation Failed", errors=invalid)
    for pull in s.pulls.values():
        if pull["repo"] == repo.full_name and pull["state"] == "open" \
                and pull["head"] == head and pull["base"] == base:
            raise ApiError(422, "Validation Failed", errors=[{
                "resource": "PullRequest", "code": "custom",
                "message": f"A pull request already exists for {repo.owner}:{head}."}])
    number, repo.next_number = repo.next_number, repo.next_number + 1
    stamp = now()
    pull = {"repo": repo.full_name, "id": next(s.ids), "number": number,
            "title": b["title"], "body": b.get("body") or "", "head": head, "base": base,
            "head_sha": s.git.branch_sha(repo.full_name, head),
            "base_sha": s.git.branch_sha(repo.full_name, base), "state": "open",
            "draft": bool(b.get("draft")), "user": login, "labels": [],
            "created_at": stamp, "updated_at": stamp}
    s.pulls[(repo.full_name, number)] = pull
    s.git.set_ref(repo.full_name, f"refs/pull/{number}/head", pull["head_sha"])
    return Reply(201, s.pull_json(pull))


@op("GET /repos/{owner}/{repo}/pulls")
def list_pulls(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    state = q.get("state", "open")
    pulls = [pull for (name, _n), pull in sorted(s.pulls.items()) if name == repo.full_name
             and (state == "all" or pull["state"] == state)
             and ("head" not in q or f"{repo.owner}:{pull['head']}" == q["head"])
             and ("base" not in q or pull["base"] == q["base"])]
    if q.get("direction", "desc") == "desc":
        pulls.reverse()
    return Reply(200, [s.pull_json(pull) for pull in pulls])


@op("GET /repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    return Reply(200, s.pull_json(_pull(s, repo, p["pull_number"])))


@op("PATCH /repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    pull = _pull(s, repo, p["pull_number"])
    if "state" in b and pull.get("merged_at"):
        raise ApiError(422, "Validation Failed", errors=[{
            "resource": "PullRequest", "code": "custom",
            "message": "Cannot change the state of a merged pull request"}])
    for key in ("title", "body", "state"):
        if key in b:
            pull[key] = b[key]
    if b.get("state") == "closed":
        pull["closed_at"] = now()
    pull["updated_at"] = now()
    return Reply(200, s.pull_json(pull))


@op("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge")
def merge_pull(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    pull = _pull(s, repo, p["pull_number"])
    b = b or {}
    head_sha = s.git.branch_sha(repo.full_name, pull["head"])
    if pull["state"] != "open" or head_sha is None:
        raise ApiError(405, "Pull Request is not mergeable")
    if b.get("sha") and b["sha"] != head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    _check_protection(s, repo, login, pull["base"], head_sha)
    method = b.get("merge_method", "merge")
    if method not in ("merge", "squash"):
        raise ApiError(405, f"{method} merges are not allowed on this repository")
    title = b.get("commit_title") or (
        f"Merge pull request #{pull['number']} from {repo.owner}/{pull['head']}"
        if method == "merge" else f"{pull['title']} (#{pull['number']})")
    message = "\n\n".join(x for x in (title, b.get("commit_message") or
                                      (pull["title"] if method == "merge" else "")) if x)
    sha = s.git.merge(repo.full_name, pull["base"], head_sha, message, method == "squash")
    if sha is None:
        raise ApiError(405, "Pull Request is not mergeable")
    stamp = now()
    pull.update(state="closed", merged_at=stamp, closed_at=stamp, updated_at=stamp,
                merge_commit_sha=sha, merged_by=login, head_sha=head_sha)
    return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


def _check_protection(s: State, repo: RepoState, login: str, base: str, sha: str) -> None:
    """GitHub's refusal to merge into a protected branch whose required checks (commit
    statuses, by context) are not all ``success`` on the head; admins pass unless
    ``enforce_admins``."""
    rule = repo.protection.get(base)
    checks = (rule or {}).get("required_status_checks") or {}
    if not checks or (s.level(repo, login) == "admin" and not rule.get("enforce_admins")):
        return
    latest = {x["context"]: x["state"] for x in s.statuses.get((repo.full_name, sha), [])}
    for context in checks.get("contexts") or [c["context"] for c in checks.get("checks", [])]:
        if latest.get(context) != "success":
            state = "expected" if context not in latest else (
                "pending" if latest[context] == "pending" else "failing")
            raise ApiError(405, f"Required status check \"{context}\" is {state}.")


@op("PUT /repos/{owner}/{repo}/branches/{branch}/protection")
def protect_branch(s: State, login: str, p: dict[str, str], q: dict[str, str],
                   b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    if s.level(repo, login) != "admin":
        raise ApiError(403, "Must have admin rights to Repository.")
    from urllib.parse import unquote

    branch = unquote(p["branch"])
    if s.git.branch_sha(repo.full_name, branch) is None:
        raise ApiError(404, "Branch not found")
    repo.protection[branch] = b
    url = f"{s.api}/repos/{repo.full_name}/branches/{branch}/protection"
    checks = b["required_status_checks"]
    body: dict[str, Any] = {"url": url, "enforce_admins": {
        "url": f"{url}/enforce_admins", "enabled": bool(b["enforce_admins"])}}
    if checks is not None:
        contexts = checks.get("contexts") or [c["context"] for c in checks.get("checks", [])]
        body["required_status_checks"] = {
            "url": f"{url}/required_status_checks", "strict": checks["strict"],
            "contexts": contexts, "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": c, "app_id": None} for c in contexts]}
    return Reply(200, body)


@op("GET /repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_files(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    pull = s.pull_json(_pull(s, repo, p["pull_number"]))
    out = subprocess.run(["git", "--git-dir", str(s.git.path(repo.full_name)), "diff",
                          "--name-only", f"{pull['base']['sha']}...{pull['head']['sha']}"],
                         capture_output=True, text=True, check=True).stdout.split()
    return Reply(200, [{"filename": name, "status": "modified", "sha": "0" * 40,
                        "additions": 0, "deletions": 0, "changes": 0, "blob_url": "",
                        "raw_url": "", "contents_url": ""} for name in out])


@op("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls")
def commit_pulls(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    if not s.git.has_commit(repo.full_name, p["commit_sha"]):
        raise ApiError(422, f"No commit found for SHA: {p['commit_sha']}")
    found = [s.pull_json(pull) for (name, _n), pull in sorted(s.pulls.items())
             if name == repo.full_name]
    return Reply(200, [pull for pull in found if p["commit_sha"] in
                       (pull["head"]["sha"], pull["merge_commit_sha"])])


# -- comments and reactions ----------------------------------------------------------------


@op("GET /repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(s: State, login: str, p: dict[str, str], q: dict[str, str],
                  b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    pull = _pull(s, repo, p["issue_number"])
    return Reply(200, [s.comment_json(c) for _i, c in sorted(s.comments.items())
                       if c["repo"] == repo.full_name and c["number"] == pull["number"]])


@op("POST /repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(s: State, login: str, p: dict[str, str], q: dict[str, str],
                   b: Any) -> Reply:
    repo = s.repo(_full(p), login, "read")
    pull = _pull(s, repo, p["issue_number"])
    stamp = now()
    comment = {"id": next(s.ids), "repo": repo.full_name, "number": pull["number"],
               "user": login, "body": b["body"], "created_at": stamp, "updated_at": stamp,
               "reactions": {}}
    s.comments[comment["id"]] = comment
    return Reply(201, s.comment_json(comment))


def _comment(s: State, login: str, p: dict[str, str], need: str) -> dict[str, Any]:
    repo = s.repo(_full(p), login, need)
    comment = s.comments.get(int(p["comment_id"]))
    if comment is None or comment["repo"] != repo.full_name:
        raise ApiError(404, "Not Found")
    return comment


@op("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(s: State, login: str, p: dict[str, str], q: dict[str, str],
                   b: Any) -> Reply:
    comment = _comment(s, login, p, "read")
    if comment["user"] != login and s.level(s.repos[comment["repo"].lower()], login) \
            not in ("write", "maintain", "admin"):
        raise ApiError(403, "Must have write access to edit another user's comment")
    comment.update(body=b["body"], updated_at=now())
    return Reply(200, s.comment_json(comment))


@op("DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(s: State, login: str, p: dict[str, str], q: dict[str, str],
                   b: Any) -> Reply:
    comment = _comment(s, login, p, "read")
    del s.comments[comment["id"]]
    return Reply(204, None)


@op("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def add_reaction(s: State, login: str, p: dict[str, str], q: dict[str, str],
                 b: Any) -> Reply:
    comment = _comment(s, login, p, "read")
    if b["content"] not in REACTIONS:
        raise ApiError(422, "Validation Failed")
    users = comment["reactions"].setdefault(b["content"], [])
    status = 200 if login in users else 201
    if login not in users:
        users.append(login)
    return Reply(status, {"id": next(s.ids), "node_id": "REA", "content": b["content"],
                          "user": s.user_json(login), "created_at": now()})


# -- labels --------------------------------------------------------------------------------


@op("POST /repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_labels(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "triage")
    pull = _pull(s, repo, p["issue_number"])
    names = b["labels"] if isinstance(b, dict) else b
    names = [n["name"] if isinstance(n, dict) else n for n in names]
    pull["labels"] = sorted(set(pull["labels"]) | set(names))
    return Reply(200, [s.label_json(name) for name in pull["labels"]])


@op("GET /repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_labels(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    pull = _pull(s, s.repo(_full(p), login), p["issue_number"])
    return Reply(200, [s.label_json(name) for name in pull["labels"]])


@op("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
def remove_label(s: State, login: str, p: dict[str, str], q: dict[str, str],
                 b: Any) -> Reply:
    from urllib.parse import unquote

    pull = _pull(s, s.repo(_full(p), login, "triage"), p["issue_number"])
    name = unquote(p["name"])
    if name not in pull["labels"]:
        raise ApiError(404, "Label does not exist")
    pull["labels"].remove(name)
    return Reply(200, [s.label_json(n) for n in pull["labels"]])


# -- statuses, check runs, permissions -----------------------------------------------------


def _commit(s: State, repo: RepoState, sha: str) -> str:
    if not s.git.has_commit(repo.full_name, sha):
        raise ApiError(422, f"No commit found for SHA: {sha}")
    return sha


@op("POST /repos/{owner}/{repo}/statuses/{sha}")
def create_status(s: State, login: str, p: dict[str, str], q: dict[str, str],
                  b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    sha = _commit(s, repo, p["sha"])
    stamp = now()
    status = {"id": next(s.ids), "node_id": "SC", "state": b["state"],
              "description": b.get("description"), "target_url": b.get("target_url"),
              "context": b.get("context", "default"), "created_at": stamp,
              "updated_at": stamp, "creator": s.user_json(login), "url": "",
              "avatar_url": None}
    s.statuses.setdefault((repo.full_name, sha), []).append(status)
    return Reply(201, status)


@op("GET /repos/{owner}/{repo}/commits/{ref}/status")
def combined_status(s: State, login: str, p: dict[str, str], q: dict[str, str],
                    b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    sha = _commit(s, repo, p["ref"])
    latest: dict[str, dict[str, Any]] = {}
    for status in s.statuses.get((repo.full_name, sha), []):
        latest[status["context"]] = status
    states = {x["state"] for x in latest.values()}
    overall = ("failure" if states & {"failure", "error"} else
               "pending" if "pending" in states or not states else "success")
    return Reply(200, {"state": overall, "sha": sha, "total_count": len(latest),
                       "statuses": sorted(latest.values(), key=lambda x: -x["id"]),
                       "repository": {"id": repo.id, "name": repo.name,
                                      "full_name": repo.full_name,
                                      "owner": s.user_json(repo.owner),
                                      "private": repo.private},
                       "commit_url": "", "url": ""})


@op("POST /repos/{owner}/{repo}/check-runs")
def create_check(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    _commit(s, repo, b["head_sha"])
    status = "completed" if b.get("conclusion") else b.get("status", "queued")
    stamp = now()
    check = {"repo": repo.full_name, "id": next(s.ids), "head_sha": b["head_sha"],
             "name": b["name"], "status": status, "conclusion": b.get("conclusion"),
             "details_url": b.get("details_url"), "started_at": stamp,
             "completed_at": stamp if status == "completed" else None,
             "output": dict(b.get("output") or {})}
    s.checks[check["id"]] = check
    return Reply(201, s.check_json(check))


@op("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login, "write")
    check = s.checks.get(int(p["check_run_id"]))
    if check is None or check["repo"] != repo.full_name:
        raise ApiError(404, "Not Found")
    for key in ("name", "status", "conclusion", "details_url"):
        if key in b:
            check[key] = b[key]
    if b.get("conclusion"):
        check.update(status="completed", completed_at=now())
    if "output" in b:
        check["output"] = dict(b["output"])
    return Reply(200, s.check_json(check))


@op("GET /user")
def authenticated_user(s: State, login: str, p: dict[str, str], q: dict[str, str],
                       b: Any) -> Reply:
    return Reply(200, s.user_json(login))


@op("GET /repos/{owner}/{repo}/collaborators/{username}/permission")
def permission(s: State, login: str, p: dict[str, str], q: dict[str, str], b: Any) -> Reply:
    repo = s.repo(_full(p), login)
    user = p["username"]
    if user not in s.users and user not in repo.collaborators and user != repo.owner:
        raise ApiError(404, f"{user} is not a user")
    role = s.level(repo, user)
    base = {"maintain": "write", "triage": "read"}.get(role, role)
    return Reply(200, {"permission": base, "role_name": role, "user": s.user_json(user)})


def handle(s: State, key: str, login: str, params: dict[str, str], query: dict[str, str],
           body: Any) -> Reply:
    with s.lock:
        return HANDLERS[key](s, login, params, query, body)


assert len(HANDLERS) == 28, sorted(HANDLERS)
assert set(LEVELS) >= {"admin", "write"}
