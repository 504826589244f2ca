"""GitHubForge beyond the contract: errors, retries, credentials, GitHub Enterprise URLs."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from kit.github import LOGIN, TOKEN, github_forge
from kit.github_server import GitHubServer

from jx_mlops.errors import ForgeError, NotFoundError
from jx_mlops.forge.base import ForgeConfig
from jx_mlops.forge.github.forge import GitHubForge, RetryPolicy, github_urls
from jx_mlops.forge.kinds import open_forge

REPO = "acme/app"


class Clock:
    """Records the waits a forge asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_github_enterprise_and_github_com_urls() -> None:
    assert github_urls(None) == ("https://github.com", "https://api.github.com")
    assert github_urls("https://api.github.com") == ("https://github.com",
                                                     "https://api.github.com")
    assert github_urls("https://ghe.example.com/") == ("https://ghe.example.com",
                                                       "https://ghe.example.com/api/v3")
    assert github_urls("https://ghe.example.com/api/v3") == ("https://ghe.example.com",
                                                             "https://ghe.example.com/api/v3")


def test_open_forge_needs_a_token(monkeypatch: pytest.MonkeyPatch, github: GitHubServer) -> None:
    config = ForgeConfig(kind="github", repo=REPO, url=github.url)
    with pytest.raises(ForgeError, match="set GITHUB_TOKEN or GH_TOKEN"):
        open_forge(config)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    forge = open_forge(config)
    assert forge.kind == "github" and TOKEN not in repr(forge)
    assert forge.create_repo(REPO).full_name == REPO


def test_bad_token_is_one_line_without_the_token(github: GitHubServer) -> None:
    forge = github_forge(github, token="ghp_wrongwrongwrongwrongwrongwrong0000")
    with pytest.raises(ForgeError) as caught:
        forge.get_repo(REPO)
    message = caught.value.user_message()
    assert message.startswith("GitHub rejected the token (401 Bad credentials)")
    assert "set GITHUB_TOKEN or GH_TOKEN" in message and "ghp_" not in message


def test_missing_permission_names_it_and_the_repository(github: GitHubServer) -> None:
    github_forge(github).create_repo(REPO, auto_init=True)
    github.add_user(LOGIN, "ghp_readonlyreadonlyreadonlyreadonly00",
                    permissions={"metadata=read", "pull_requests=read"})
    reader = github_forge(github, token="ghp_readonlyreadonlyreadonlyreadonly00")
    with pytest.raises(ForgeError) as caught:
        reader.set_status(REPO, "0" * 40, state="success", context="x")
    assert str(caught.value) == (
        "GitHub refused to set a commit status (POST /repos/acme/app/statuses/" + "0" * 40
        + ") on acme/app (403 Resource not accessible by personal access token): the token "
        "needs statuses: write")


def test_private_repository_is_not_found_with_a_hint(github: GitHubServer) -> None:
    github.add_user("outsider", "ghp_outsideroutsideroutsideroutside000")
    github_forge(github).create_repo(REPO)
    outsider = github_forge(github, token="ghp_outsideroutsideroutsideroutside000")
    with pytest.raises(NotFoundError) as caught:
        outsider.get_repo(REPO)
    assert caught.value.user_message() == (
        f"repository acme/app not found on {github.url} (or the token cannot see it) "
        "(or the token lacks metadata: read)")


def test_secondary_rate_limit_waits_what_github_says(github: GitHubServer) -> None:
    clock = Clock()
    forge = github_forge(github, sleep=clock)
    forge.create_repo(REPO)
    github.fail("GET /repos/{owner}/{repo}", 403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.", headers={"Retry-After": "3"})
    github.fail("GET /repos/{owner}/{repo}", 429, "Too many requests",
                headers={"Retry-After": "2"})
    assert forge.get_repo(REPO).full_name == REPO
    assert clock.waits == [3.0, 2.0]


def test_primary_rate_limit_waits_until_the_reset(github: GitHubServer) -> None:
    clock = Clock()
    forge = github_forge(github, sleep=clock)
    forge.create_repo(REPO)
    reset = str(int(time.time()) + 3)
    github.fail("GET /repos/{owner}/{repo}", 403, "API rate limit exceeded for user ID 1.",
                headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    forge.get_repo(REPO)
    assert len(clock.waits) == 1 and 2.0 <= clock.waits[0] <= 4.0


def test_a_rate_limit_longer_than_the_bound_fails_at_once(github: GitHubServer) -> None:
    clock = Clock()
    forge = github_forge(github, sleep=clock, retry=RetryPolicy(attempts=5, max_wait=30))
    forge.create_repo(REPO)
    github.fail("GET /repos/{owner}/{repo}", 403, "API rate limit exceeded",
                headers={"X-RateLimit-Remaining": "0",
                         "X-RateLimit-Reset": str(int(time.time()) + 3600)})
    with pytest.raises(ForgeError, match=r"rate limit exceeded; it resets in \d+s, longer "
                                         r"than jx-mlops waits \(30s\)"):
        forge.get_repo(REPO)
    assert clock.waits == []


def test_server_errors_back_off_then_give_up(github: GitHubServer) -> None:
    clock = Clock()
    forge = github_forge(github, sleep=clock, retry=RetryPolicy(attempts=4, max_wait=3))
    forge.create_repo(REPO)
    github.fail("GET /repos/{owner}/{repo}", 502, "Server Error", times=2)
    assert forge.get_repo(REPO).full_name == REPO
    assert clock.waits == [1.0, 2.0]
    github.fail("GET /repos/{owner}/{repo}", 503, "Unavailable", times=4)
    with pytest.raises(ForgeError, match="after 4 attempts: 503 Unavailable"):
        forge.get_repo(REPO)
    assert clock.waits == [1.0, 2.0, 1.0, 2.0, 3.0]


def test_repository_in_the_users_own_account(github: GitHubServer) -> None:
    forge = github_forge(github)
    assert forge.create_repo(f"{LOGIN}/mine").full_name == f"{LOGIN}/mine"
    with pytest.raises(ForgeError, match="GitHub created tester/stray instead of nobody/stray"):
        forge.create_repo("nobody/stray")


def test_git_push_over_http_keeps_the_token_out_of_git_config(github: GitHubServer,
                                                              tmp_path: Path) -> None:
    forge = github_forge(github)
    remote = forge.create_repo(REPO, auto_init=True)
    work = tmp_path / "clone"
    env = {**os.environ, **forge.git_env()}
    subprocess.run(["git", "clone", "-q", remote.clone_url, str(work)], env=env, check=True)
    (work / "x.txt").write_text("x")
    subprocess.run(["git", "-C", str(work), "add", "x.txt"], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "x"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:refs/heads/x"],
                   env=env, check=True)
    assert "git push acme/app" in github.calls
    config = (work / ".git" / "config").read_text()
    assert TOKEN not in config and "extraheader" not in config
    # Without the credentials git is refused, and never prompts.
    denied = subprocess.run(["git", "-C", str(work), "push", "origin", "HEAD:refs/heads/y"],
                            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                            capture_output=True, text=True, check=False)
    assert denied.returncode != 0


def test_forge_repr_and_errors_never_show_the_token(github: GitHubServer) -> None:
    forge = GitHubForge(TOKEN, url=github.url, retry=RetryPolicy(attempts=1))
    assert TOKEN not in repr(forge)
    with pytest.raises(ForgeError) as caught:
        forge.get_pull("acme/none", 1)
    assert TOKEN not in caught.value.user_message()


def test_the_poster_is_the_tokens_account_or_the_actions_bot(
        github: GitHubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Markers count only in comments by the poster: a personal token's own login
    (GET /user), the Actions bot for a workflow's token (which may not read GET /user),
    or whatever JX_MLOPS_BOT names (a GitHub App's ``APP[bot]``)."""
    from kit.github import ACTIONS_BOT, ACTIONS_TOKEN

    assert github_forge(github).poster() == LOGIN
    github.add_user(ACTIONS_BOT, ACTIONS_TOKEN, integration=True)
    assert github_forge(github, token=ACTIONS_TOKEN).poster() == ACTIONS_BOT
    monkeypatch.setenv("JX_MLOPS_BOT", "acme-mlops[bot]")
    assert github_forge(github, token=ACTIONS_TOKEN).poster() == "acme-mlops[bot]"
