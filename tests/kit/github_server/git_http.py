"""Git's smart HTTP protocol for the loopback GitHub, through ``git http-backend`` (CGI).

Clone and fetch need a token the server knows, push needs write permission on the
repository: HTTP Basic auth whose password is the token, as GitHub takes it over HTTPS.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any

_GIT_PATH = re.compile(r"^/(?P<repo>[^/]+/[^/]+?)\.git(?P<rest>/.*)$")


def _deny(handler: Any, status: int, message: str, challenge: bool = False) -> None:
    data = message.encode()
    handler.send_response(status)
    if challenge:
        handler.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def serve_git(handler: Any, github: Any, path: str, query: str, body: bytes) -> None:
    """Answer one smart-HTTP request of git for ``/OWNER/NAME.git/...``."""
    match = _GIT_PATH.match(path)
    repo = github.state.repos.get(match["repo"].lower()) if match else None
    if match is None or repo is None:
        _deny(handler, 404, "Repository not found.")
        return
    login = github.token_login(handler.headers.get("Authorization"))
    if login is None:
        _deny(handler, 401, "Authentication required", challenge=True)
        return
    pushing = "git-receive-pack" in path or "service=git-receive-pack" in query
    level = github.state.level(repo, login)
    if level == "none" or (pushing and level not in ("write", "maintain", "admin")):
        _deny(handler, 403, f"Permission to {repo.full_name}.git denied to {login}.")
        return
    github.calls.append(f"git {'push' if pushing else 'fetch'} {repo.full_name}")
    env = {**os.environ, "GIT_PROJECT_ROOT": str(github.state.git.root),
           "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": f"/{repo.full_name}.git{match['rest']}",
           "REQUEST_METHOD": handler.command, "QUERY_STRING": query,
           "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
           "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": login,
           "REMOTE_ADDR": "127.0.0.1", "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
           "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", "")}
    store = github.state.git
    empty = pushing and not store.branches(repo.full_name)
    proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True,
                          check=False)
    pushed = store.branches(repo.full_name) if empty else []
    if pushed and store.default_branch(repo.full_name) not in pushed:
        # GitHub makes the first branch pushed into an empty repository its default.
        store.set_default_branch(repo.full_name, pushed[0])
    head, _sep, payload = proc.stdout.partition(b"\r\n\r\n")
    if not _sep:
        head, _sep, payload = proc.stdout.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        key, _colon, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        elif key:
            headers.append((key, value.strip()))
    handler.send_response(status)
    for key, value in headers:
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
