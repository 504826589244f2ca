"""Which forge a project uses, and opening it (the local forge by default, or GitHub)."""

from __future__ import annotations

from jx_mlops.errors import ConfigError, ForgeError
from jx_mlops.forge.base import Forge, ForgeConfig
from jx_mlops.fsutil import jx_home


def open_forge(config: ForgeConfig | None = None) -> Forge:
    """The forge a project's mlops.yaml names (the local forge by default)."""
    if config is not None and not config.configured:
        raise ConfigError("mlops.yaml: forge: this command needs a forge (add forge: {kind: "
                          "local, repo: OWNER/NAME}, or run `jx-mlops init --repo OWNER/NAME`)")
    kind = config.kind if config else "local"
    if kind == "local":
        from jx_mlops.forge.local.forge import LocalForge

        return LocalForge(jx_home() / "forge")
    if kind == "github":
        return _open_github(config)
    raise ForgeError(f"forge kind {kind!r} is not available in this version (use 'local')")


def _open_github(config: ForgeConfig | None) -> Forge:
    """GitHubForge for ``config`` (url: a GitHub Enterprise server), token from the env."""
    import os

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
    # A project without forge.url runs on github.com, or on the server its Actions run on.
    url = (config.url if config else None) or os.environ.get("GITHUB_API_URL")
    return GitHubForge(token, url=url,
                       write_interval=write_interval or None)


def git_credentials(config: ForgeConfig) -> dict[str, str]:
    """What git needs to fetch from the project's forge, when a token is at hand.

    Unlike ``open_forge(...).git_env()`` this does not insist on a token: a PR run from
    a fork may have none and still fetch a public base commit.
    """
    if config.kind != "github":
        return {}
    import os

    from jx_mlops.forge.github.credentials import git_auth_env, github_token
    from jx_mlops.forge.github.forge import github_urls

    token = github_token()
    if token is None:
        return {}
    server, _api = github_urls(config.url or os.environ.get("GITHUB_API_URL"))
    return git_auth_env(server, token)


