"""A loopback GitHub: the REST subset jx-mlops uses, plus git over smart HTTP.

Runs in-process on a thread (``with GitHubServer(tmp) as server: ...``). Every request
body is checked against GitHub's published request schema and every response against the
response schema of its operation (tests/schemas/github); a request outside the subset, a
body that does not validate, or a response the server itself got wrong is recorded in
``server.violations``, and the fixtures fail the test on any.

Also GitHub-like: tokens map to logins (``Authorization: token T`` / ``Bearer T``) and may
be limited to fine-grained permissions (403 with ``X-Accepted-GitHub-Permissions``); an
integration's token (GitHub Actions' ``GITHUB_TOKEN``, ``add_user(..., integration=True)``)
acts as a bot login and may not read ``GET /user``;
lists are paginated with ``Link`` headers; faults (rate limits, 5xx) can be queued per
operation. Git clone/fetch/push go through ``git http-backend`` with HTTP Basic auth,
the way GitHub accepts a token over HTTPS.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kit.github_server import schemas
from kit.github_server.api import ApiError, Reply, State
from kit.github_server.git_http import serve_git
from kit.github_server.gitstore import GitStore
from kit.github_server.handlers import handle

# The fine-grained permission each operation needs (what GitHub documents per endpoint).
NEEDS = {
    "GET /repos/{owner}/{repo}": "metadata=read",
    "POST /user/repos": "administration=write",
    "POST /orgs/{org}/repos": "administration=write",
    "GET /repos/{owner}/{repo}/contents/{path}": "contents=read",
    "GET /repos/{owner}/{repo}/git/ref/{ref}": "contents=read",
    "POST /repos/{owner}/{repo}/git/refs": "contents=write",
    "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge": "contents=write",
    "POST /repos/{owner}/{repo}/statuses/{sha}": "statuses=write",
    "GET /repos/{owner}/{repo}/commits/{ref}/status": "statuses=read",
    "POST /repos/{owner}/{repo}/check-runs": "checks=write",
    "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": "checks=write",
    "GET /repos/{owner}/{repo}/collaborators/{username}/permission": "metadata=read",
    "PUT /repos/{owner}/{repo}/branches/{branch}/protection": "administration=write",
}


def needs(key: str) -> str:
    if key in NEEDS:
        return NEEDS[key]
    return "pull_requests=" + ("read" if key.startswith("GET") else "write")


@dataclass
class Token:
    login: str
    permissions: frozenset[str] | None = None  # None: everything the user may do
    integration: bool = False  # an app's installation token (Actions' GITHUB_TOKEN)

    def allows(self, need: str) -> bool:
        if self.permissions is None:
            return True
        name, level = need.split("=")
        return need in self.permissions or (level == "read" and f"{name}=write"
                                            in self.permissions)


@dataclass
class Fault:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class GitHubServer:
    """The loopback GitHub. Use as a context manager; ``url`` is its web/git address."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tokens: dict[str, Token] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.calls: list[str] = []
        self.violations: list[str] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.github = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.api_url = f"{self.url}/api/v3"
        self.state = State(GitStore(root / "git"), self.url)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> GitHubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- set-up for tests ----------------------------------------------------------------

    def add_user(self, login: str, token: str | None = None,
                 permissions: set[str] | None = None, *, integration: bool = False) -> None:
        self.state.user_json(login)
        if token:
            self.tokens[token] = Token(login, frozenset(permissions) if permissions is not None
                                       else None, integration)

    def add_org(self, org: str, *members: str) -> None:
        self.state.orgs[org] = set(members)
        self.state.user_json(org)

    def set_permission(self, repo: str, user: str, level: str) -> None:
        self.add_user(user)
        self.state.repos[repo.lower()].collaborators[user] = level

    def import_repo(self, full_name: str, bare: Path) -> str:
        """Host a copy of the bare repository ``bare`` as ``full_name``; its clone URL."""
        import subprocess

        from kit.github_server.api import RepoState, now

        owner, name = full_name.split("/")
        path = self.state.git.path(full_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--bare", str(bare), str(path)], check=True)
        subprocess.run(["git", "--git-dir", str(path), "config", "http.receivepack", "true"],
                       check=True)
        self.state.repos[full_name.lower()] = RepoState(next(self.state.ids), owner, name,
                                                        "", now())
        return f"{self.url}/{full_name}.git"

    def fail(self, key: str, status: int, message: str, *, headers: dict[str, str] | None = None,
             times: int = 1) -> None:
        """Answer the next ``times`` calls of operation ``key`` with an error."""
        fault = Fault(status, {"message": message,
                               "documentation_url": "https://docs.github.com/rest"},
                      headers or {})
        self.faults.setdefault(key, []).extend([fault] * times)

    # -- one API request -----------------------------------------------------------------

    def api(self, method: str, path: str, query: dict[str, str], auth: str | None,
            raw: bytes) -> Reply:
        found = schemas.match(method, path)
        if found is None:
            self.violations.append(f"{method} {path}: not an operation of the subset")
            return Reply(404, {"message": "Not Found", "documentation_url": ""})
        route, params = found
        self.calls.append(route.key)
        token = self.tokens.get(_bearer(auth))
        if token is None:
            return Reply(401, {"message": "Bad credentials",
                               "documentation_url": "https://docs.github.com/rest"})
        if self.faults.get(route.key):
            fault = self.faults[route.key].pop(0)
            return Reply(fault.status, fault.body, fault.headers)
        if route.key == "GET /user" and token.integration:
            return Reply(403, {"message": "Resource not accessible by integration",
                               "documentation_url": "https://docs.github.com/rest"})
        if route.key != "GET /user" and not token.allows(needs(route.key)):
            return Reply(403, {"message": "Resource not accessible by personal access token",
                               "documentation_url": "https://docs.github.com/rest"},
                         {"X-Accepted-GitHub-Permissions": needs(route.key)})
        body = json.loads(raw) if raw else None
        problems = schemas.problems(f"request {route.key}", body) if raw else []
        if problems:
            self.violations.append(f"request {route.key}: {problems}")
            return Reply(422, {"message": "Invalid request.", "errors": problems,
                               "documentation_url": ""})
        try:
            reply = handle(self.state, route.key, token.login, params, query, body)
        except ApiError as exc:
            return Reply(exc.status, exc.body, exc.headers)
        return self._complete(route.key, reply, query, f"{self.api_url}{path}")

    def _complete(self, key: str, reply: Reply, query: dict[str, str], base: str) -> Reply:
        """Fill the response to its schema, paginate lists, validate."""
        if reply.body is None:
            return reply
        name = f"response {key}"
        body = schemas.fill(schemas.document(name), reply.body)
        if isinstance(body, list):
            body, reply.headers["Link"] = _page(body, query, base)
            reply.headers = {k: v for k, v in reply.headers.items() if v}
        elif isinstance(body.get("statuses"), list):
            body["statuses"], link = _page(body["statuses"], query, base)
            if link:
                reply.headers["Link"] = link
        problems = schemas.problems(name, body)
        if problems:
            self.violations.append(f"{name}: {problems}")
            return Reply(500, {"message": "loopback server bug", "errors": problems})
        return Reply(reply.status, body, reply.headers)

    def token_login(self, auth: str | None) -> str | None:
        """The login behind git's HTTP Basic credentials (the password is the token)."""
        if not auth or not auth.lower().startswith("basic "):
            return None
        try:
            _user, _sep, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
        token = self.tokens.get(password)
        return token.login if token else None


def _bearer(auth: str | None) -> str:
    if not auth:
        return ""
    scheme, _sep, value = auth.partition(" ")
    return value.strip() if scheme.lower() in ("token", "bearer") else ""


def _page(items: list[Any], query: dict[str, str], base: str) -> tuple[list[Any], str]:
    per_page = min(int(query.get("per_page", "30")), 100)
    page = int(query.get("page", "1"))
    chunk = items[(page - 1) * per_page: page * per_page]
    if page * per_page >= len(items):
        return chunk, ""
    rest = {**query, "page": str(page + 1)}
    return chunk, f'<{base}?{urllib.parse.urlencode(rest)}>; rel="next"'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one small response must not wait for a delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    @property
    def github(self) -> GitHubServer:
        return self.server.github  # type: ignore[attr-defined,no-any-return]

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        raw = self._body()
        if parsed.path.startswith("/api/v3/"):
            query = dict(urllib.parse.parse_qsl(parsed.query))
            reply = self.github.api(self.command, parsed.path[len("/api/v3"):], query,
                                    self.headers.get("Authorization"), raw)
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        serve_git(self, self.github, parsed.path, parsed.query, raw)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch
