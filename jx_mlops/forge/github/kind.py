"""GitHub (and GitHub Enterprise) as a kind of forge (see
:class:`jx_mlops.forge.base.ForgeKind`): a token from the environment, repositories named
by their github.com remote URLs, model versions signed keyless by the release workflow."""

from __future__ import annotations

import os
import re

from jx_mlops.errors import ForgeError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up

if TYPE_CHECKING:
    from jx_mlops.forge.base import Forge, ForgeConfig

NAME = "github"
TITLE = "GitHub"
SUMMARY = "GitHub or GitHub Enterprise, token from GITHUB_TOKEN or GH_TOKEN"
CI_PROVIDERS: tuple[str, ...] = ("github-actions",)
DEFAULT_OWNER: str | None = None
HOSTED = True
# GitHub keeps every pull request's head in the base repository, a fork's too.
PULL_HEAD_REF: str | None = "refs/pull/{number}/head"

_REMOTE = re.compile(r"github\.com[:/]([^/]+/[^/]+?)(?:\.git)?/?$")


def _api_url(config: ForgeConfig) -> str | None:
    # A project without forge.url runs on github.com, or on the server its Actions run on.
    return config.url or os.environ.get("GITHUB_API_URL")


def open_forge(config: ForgeConfig) -> Forge:
    """GitHubForge for ``config`` (url: a GitHub Enterprise server), token from the env."""
    from jx_mlops.forge.github.credentials import github_token
    from jx_mlops.forge.github.forge import GitHubForge

    token = github_token()
    if token is None:
        raise ForgeError("the github forge needs a token: set GITHUB_TOKEN or GH_TOKEN",
                         hint="in GitHub Actions: env: GITHUB_TOKEN: ${{ github.token }}")
    # PyGithub paces writes; GitHub asks for a second between mutating requests.
    interval = os.environ.get("JX_MLOPS_GITHUB_WRITE_INTERVAL", "1.0")
    try:
        write_interval = float(interval)
    except ValueError:
        raise ForgeError(f"JX_MLOPS_GITHUB_WRITE_INTERVAL: expected seconds, got {interval!r}"
                         ) from None
    return GitHubForge(token, url=_api_url(config), write_interval=write_interval or None)


def git_credentials(config: ForgeConfig) -> dict[str, str]:
    """The token as git's extra header for the project's server, when there is one: a PR
    run from a fork may have none and still fetch a public base commit."""
    from jx_mlops.forge.github.credentials import git_auth_env, github_token
    from jx_mlops.forge.github.forge import github_urls

    token = github_token()
    if token is None:
        return {}
    server, _api = github_urls(_api_url(config))
    return git_auth_env(server, token)


def repo_in_url(url: str) -> str | None:
    found = _REMOTE.search(url)
    return found.group(1) if found else None


def keyless_identity(repo: str) -> str | None:
    return f"https://github.com/{repo}/.github/workflows/mlops-release.yml@refs/heads/main"
