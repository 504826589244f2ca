"""Crash points for the crash-safety tests.

A long operation (a promotion, a stage tag) calls ``failpoint(NAME)`` between two steps;
the tests set ``$JX_MLOPS_FAILPOINT`` to kill a real process there, as ``kill -9`` would,
and check that a re-run completes what it left.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    """Die here, as ``kill -9`` would, when $JX_MLOPS_FAILPOINT names this point."""
    if os.environ.get("JX_MLOPS_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
