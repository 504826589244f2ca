"""The forge registry: every kind of forge jx-mlops can use, and opening the project's.

As pre-commit's ``all_languages``: a mapping from name to a module conforming to
:class:`jx_mlops.forge.base.ForgeKind`. Adding a forge is one sub-package (its Forge and
its ``kind`` module), one line in ``FORGES``, and one parameter of the forge contract
suite (tests/github_fixtures.py). Importing this module is cheap: a kind module imports
its forge only when one is opened.
"""

from __future__ import annotations

from jx_mlops.errors import ConfigError, ForgeError
from jx_mlops.forge.github import kind as github
from jx_mlops.forge.local import kind as local

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up

if TYPE_CHECKING:
    from jx_mlops.forge.base import Forge, ForgeConfig, ForgeKind

FORGES: dict[str, ForgeKind] = {
    local.NAME: local,
    github.NAME: github,
}
DEFAULT_FORGE = local.NAME


def kind_named(name: str) -> ForgeKind:
    """The kind called ``name`` (ForgeError naming the known ones otherwise)."""
    kind = FORGES.get(name)
    if kind is None:
        raise ForgeError(f"forge kind {name!r} is not available in this version "
                         f"({', '.join(FORGES)})")
    return kind


def open_forge(config: ForgeConfig | None = None) -> Forge:
    """The forge a project's mlops.yaml names (the default forge without ``config``)."""
    from jx_mlops.forge.base import ForgeConfig

    if config is not None and not config.configured:
        raise ConfigError("mlops.yaml: forge: this command needs a forge (add forge: {kind: "
                          f"{DEFAULT_FORGE}, repo: OWNER/NAME}}, or run `jx-mlops init --repo "
                          "OWNER/NAME`)")
    config = config or ForgeConfig(DEFAULT_FORGE)
    return kind_named(config.kind).open_forge(config)


def git_credentials(config: ForgeConfig) -> dict[str, str]:
    """What git needs to fetch from the project's forge, when credentials are at hand.

    Unlike ``open_forge(...).git_env()`` this does not insist on them: a PR run from a
    fork may have none and still fetch a public base commit.
    """
    return kind_named(config.kind).git_credentials(config)


def kind_of_remote(url: str) -> tuple[str, str] | None:
    """(kind, OWNER/NAME) when the git remote ``url`` is a repository on a known forge."""
    for kind in FORGES.values():
        repo = kind.repo_in_url(url)
        if repo is not None:
            return kind.NAME, repo
    return None


def kind_of_provider(provider: str) -> ForgeKind | None:
    """The forge a CI provider (``CiContext.provider``) runs on, if it runs on one only."""
    return next((k for k in FORGES.values() if provider in k.CI_PROVIDERS), None)
