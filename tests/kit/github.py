"""Fixtures for GitHub tests: the loopback server, and a forge-neutral test harness.

``forge_harness`` is parametrised over both forges so the contract suite runs the same
tests against the local forge and against GitHubForge talking to the loopback server.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jx_mlops.forge.github.forge import GitHubForge, RetryPolicy
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home
from kit.github_server import GitHubServer

# Shaped like a real token, so a leak would be recognisable anywhere it ended up.
TOKEN = "ghp_jxMlopsLoopbackT0kenAbCdEfGhIjKlMn01"
# A workflow's GITHUB_TOKEN: an integration's token, commenting as the Actions bot.
ACTIONS_TOKEN = "ghs_actionsWorkflowTokenOfTheRunner0001"
ACTIONS_BOT = "github-actions[bot]"
LOGIN = "tester"  # the hermetic JX_MLOPS_USER
ORG = "acme"


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    """A running loopback GitHub with org ``acme`` administered by ``tester`` (TOKEN)."""
    with GitHubServer(tmp_path / "github") as server:
        server.add_user(LOGIN, TOKEN)
        server.add_org(ORG, LOGIN)
        monkeypatch.setenv("JX_MLOPS_GITHUB_WRITE_INTERVAL", "0")
        yield server
    assert server.violations == [], server.violations


def github_forge(server: GitHubServer, **kwargs: Any) -> GitHubForge:
    kwargs.setdefault("retry", RetryPolicy(attempts=3, max_wait=5))
    kwargs.setdefault("user", LOGIN)
    return GitHubForge(kwargs.pop("token", TOKEN), url=server.url, **kwargs)


@dataclass
class Harness:
    """A forge plus what a test needs around it: pushing branches, setting permissions."""

    forge: Any
    work: Path
    server: GitHubServer | None = None

    @property
    def kind(self) -> str:
        return str(self.forge.kind)

    def git(self, path: Path, *args: str) -> str:
        env = {**os.environ, **self.forge.git_env()}
        return subprocess.run(["git", "-C", str(path), *args], check=True, env=env,
                              capture_output=True, text=True).stdout.strip()

    def push_branch(self, repo: str, branch: str, files: dict[str, str],
                    base: str = "main") -> str:
        """Commit ``files`` on ``branch`` (from ``base``) and push it; returns the sha."""
        work = self.work / repo.replace("/", "_")
        if not work.exists():
            env = {**os.environ, **self.forge.git_env()}
            subprocess.run(["git", "clone", "-q", self.forge.get_repo(repo).clone_url,
                            str(work)], check=True, env=env, capture_output=True)
        self.git(work, "fetch", "-q", "origin")
        self.git(work, "checkout", "-q", "-B", branch, f"origin/{base}")
        for name, text in files.items():
            (work / name).write_text(text)
        self.git(work, "add", "-A")
        self.git(work, "commit", "-q", "-m", f"change {branch}")
        self.git(work, "push", "-q", "origin", f"{branch}:refs/heads/{branch}")
        return self.git(work, "rev-parse", "HEAD")

    def parents(self, repo: str, sha: str) -> list[str]:
        work = self.work / repo.replace("/", "_")
        self.git(work, "fetch", "-q", "origin")
        return self.git(work, "rev-list", "--parents", "-n1", sha).split()[1:]

    def set_permission(self, repo: str, user: str, level: str) -> None:
        if self.server is not None:
            self.server.set_permission(repo, user, level)
        else:
            self.forge.set_permission(repo, user, level)

    def comment_as(self, user: str, repo: str, number: int, body: str) -> int:
        """``user`` (read permission on ``repo``) comments ``body`` on PR ``number``."""
        self.set_permission(repo, user, "read")
        if self.server is None:
            return int(LocalForge(self.forge.root, user=user).create_comment(repo, number,
                                                                            body).id)
        token = f"ghp_{user}CommentToken00000000000000000000"[:40]
        self.server.add_user(user, token)
        return github_forge(self.server, token=token, user=user).create_comment(
            repo, number, body).id

    def fresh(self) -> Any:
        """Another forge object for the same account, which has learnt nothing yet."""
        if self.server is None:
            return LocalForge(self.forge.root)
        return github_forge(self.server, page_size=2)

    def restrict(self, repo: str) -> None:
        """Strangers get no permission (GitHub's rule; the local forge's opt-in)."""
        if self.server is None:
            self.forge.set_permission(repo, None, "none")


def _local_harness(request: pytest.FixtureRequest, work: Path) -> Harness:
    return Harness(LocalForge(jx_home() / "forge"), work)


def _github_harness(request: pytest.FixtureRequest, work: Path) -> Harness:
    server = request.getfixturevalue("github")
    return Harness(github_forge(server, page_size=2), work, server)


# One harness per forge of FORGES (forge/kinds.py): the contract suite runs against each.
HARNESSES: dict[str, Callable[[pytest.FixtureRequest, Path], Harness]] = {
    "local": _local_harness,
    "github": _github_harness,
}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    work = tmp_path / "work"
    work.mkdir()
    return HARNESSES[request.param](request, work)


@dataclass
class GitHubProject:
    """The session's project, moved onto the loopback GitHub (owner ``local``)."""

    path: Path
    server: GitHubServer
    repo: str = "local/churn"

    def forge(self) -> GitHubForge:
        return github_forge(self.server)

    def clone(self, dest: Path, *, branch: str = "main", depth: int | None = None) -> Path:
        """What actions/checkout does with persist-credentials: false."""
        from jx_mlops.forge.github.credentials import git_auth_env

        args = ["git", "clone", "-q", "--branch", branch]
        if depth:
            args += ["--depth", str(depth)]
        subprocess.run([*args, f"{self.server.url}/{self.repo}.git", str(dest)], check=True,
                       env={**os.environ, **git_auth_env(self.server.url, TOKEN)})
        return dest


@pytest.fixture
def github_project(project: Any, github: GitHubServer) -> GitHubProject:
    """A copy of the session project whose repositories live on the loopback GitHub."""
    from jx_mlops.forge.github.credentials import git_auth_env

    github.add_org("local", LOGIN)
    for bare in sorted((project.home / "forge" / "repos" / "local").glob("*.git")):
        github.import_repo(f"local/{bare.name[:-4]}", bare)
    path = project.path
    env = {**os.environ, **git_auth_env(github.url, TOKEN)}

    def run(*args: str) -> None:
        subprocess.run(["git", "-C", str(path), *args], check=True, env=env,
                       capture_output=True)

    run("remote", "set-url", "origin", f"{github.url}/local/churn.git")
    config = path / "mlops.yaml"
    config.write_text(config.read_text().replace(
        "  kind: local\n", f"  kind: github\n  url: {github.url}\n"))
    # CI's clones have no config.local: the tracked DVC remote must be this test's own
    # storage, not the session template's (which every test's release would write into).
    (path / ".dvc" / "config.local").unlink()
    dvc_config = path / ".dvc" / "config"
    storage = project.home / "storage" / "local" / "churn"
    dvc_config.write_text(re.sub(r"(?m)^(\s*url = ).*$", lambda m: m.group(1) + str(storage),
                                 dvc_config.read_text()))
    run("commit", "-qam", "Move the project to GitHub")
    run("push", "-q", "origin", "main")
    return GitHubProject(path, github)


def retrain_on_github(gp: GitHubProject, cli: Any, monkeypatch: pytest.MonkeyPatch,
                      setting: str) -> dict[str, Any]:
    """`jx-mlops retrain --set SETTING` on the loopback GitHub; returns PR #1 as stored."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    result = cli("-C", gp.path, "retrain", "--set", setting)
    assert result.code == 0, result.err
    pull: dict[str, Any] = gp.server.state.pulls[("local/churn", 1)]
    return pull


def lab_on_github(lab: Any, server: GitHubServer) -> None:
    """Move the synthetic ``lab`` project and its environment repositories onto the
    loopback GitHub (owner ``local``, administered by ``tester``)."""
    from jx_mlops.forge.github.credentials import git_auth_env

    server.add_org("local", LOGIN)
    for bare in sorted((lab.home / "forge" / "repos" / "local").glob("*.git")):
        server.import_repo(f"local/{bare.name[:-4]}", bare)
    config = lab.path / "mlops.yaml"
    config.write_text(config.read_text().replace(
        f"  repo: local/{lab.name}\n", f"  kind: github\n  url: {server.url}\n"
                                        f"  repo: local/{lab.name}\n", 1))
    env = {**os.environ, **git_auth_env(server.url, TOKEN)}
    for args in (("remote", "set-url", "origin", f"{server.url}/local/{lab.name}.git"),
                 ("commit", "-qam", "Move the project to GitHub"),
                 ("push", "-q", "origin", "main")):
        done = subprocess.run(["git", "-C", str(lab.path), *args], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
