"""The local forge as a kind of forge (see :class:`jx_mlops.forge.base.ForgeKind`): the
default, a directory under ``$JX_MLOPS_HOME`` that needs no credentials."""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up


if TYPE_CHECKING:
    from jx_mlops.forge.base import Forge, ForgeConfig

NAME = "local"
TITLE = "the local forge"
SUMMARY = "a forge in $JX_MLOPS_HOME on this machine"
CI_PROVIDERS: tuple[str, ...] = ()
DEFAULT_OWNER: str | None = "local"
HOSTED = False
PULL_HEAD_REF: str | None = None


def open_forge(config: ForgeConfig) -> Forge:
    """The one local forge of this machine (``config`` names a repository in it)."""
    from jx_mlops.forge.local.forge import LocalForge
    from jx_mlops.fsutil import jx_home

    return LocalForge(jx_home() / "forge")


def git_credentials(config: ForgeConfig) -> dict[str, str]:
    return {}  # file:// remotes


def repo_in_url(url: str) -> str | None:
    return None  # a clone's origin is a path: init asks for --repo


def keyless_identity(repo: str) -> str | None:
    return None  # create and init make a key pair here
