"""Who acts: one name for every record jx-mlops writes or shows.

The forges record it as PR author, commenter and merger, the forced-merge commit and its
``Forced-by:`` trailer carry it, promotion records, holds and version tags are written by
it, and history, status and audit show it back. Each of them used to pick a name of its
own (the login, git's committer name, the Actions actor), so one person showed up under
two names in one history; they all ask here now.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping

from jx_mlops.git.repo import config_value

_NOT_IN_EMAIL = re.compile(r"[^A-Za-z0-9._+-]+")


def actor(environ: Mapping[str, str] | None = None) -> str:
    """The acting user: ``JX_MLOPS_USER``; else, in GitHub Actions, ``GITHUB_ACTOR``; else
    git's ``user.name``; else the login name of this process (``jx-mlops`` if it has none).

    In Actions the actor comes before git's name because approvals and permission checks
    compare GitHub logins, ``GITHUB_ACTOR`` is the login of whoever triggered the run (the
    commenter of a ChatOps run), and a workflow's git name is usually a bot's.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("JX_MLOPS_USER", "").strip()
    if explicit:
        return explicit
    github = env.get("GITHUB_ACTOR", "").strip()
    if github and env.get("GITHUB_ACTIONS") == "true":
        return github
    return config_value("user.name") or _login()


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user with no passwd entry and no LOGNAME
        return "jx-mlops"


def commit_identity(user: str) -> dict[str, str]:
    """The git author and committer variables of a commit or tag made as ``user``."""
    email = f"{_NOT_IN_EMAIL.sub('-', user).strip('-') or 'user'}@users.noreply.jx-mlops"
    return {"GIT_AUTHOR_NAME": user, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": user, "GIT_COMMITTER_EMAIL": email}
