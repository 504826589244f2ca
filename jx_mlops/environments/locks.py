"""Crash and concurrency safety of changes to an environment repository.

A killed run may leave git's lock files behind (the forge clears them when no git process
holds them), and two runs of one change on one machine take turns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from jx_mlops.forge.base import Forge
from jx_mlops.fsutil import file_lock, jx_home


def recovered_locks(forge: Forge, env_repo: str) -> bool:
    """Whether the forge cleared git locks a killed run left in ``env_repo`` (a local
    forge can; a hosted one clears its own)."""
    recover = getattr(forge, "recover_locks", None)
    return bool(recover(env_repo)) if recover is not None else False


@contextlib.contextmanager
def serialized(forge: Forge, env_repo: str, model: str) -> Iterator[None]:
    """One change of ``model`` in ``env_repo`` at a time on this machine.

    Concurrent runs of the same promotion would race to push one branch and open one pull
    request; in turn, the second finds the first's result (already deployed, or its open
    pull request) and reports it. The kernel drops the lock of a killed run.
    """
    path = jx_home() / "locks" / forge.kind / env_repo / f"{model}.lock"
    with file_lock(path):
        yield
