"""Forge credentials: where the GitHub token comes from, and how git uses it unwritten.

The token is read from ``GITHUB_TOKEN`` (what GitHub Actions provides) or ``GH_TOKEN``
(what the gh CLI uses). It is handed to git through the environment of each git process
(``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``, git >= 2.31), as an
``http.<server>/.extraheader``, so it is never written to ``.git/config``, never part of a
remote URL, and only ever sent to the GitHub server it belongs to.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
REDACTED = "***"


def github_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The GitHub token from the environment (``GITHUB_TOKEN`` first), or None."""
    env = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def git_auth_env(server_url: str, token: str,
                 environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment additions that make git send ``token`` to ``server_url`` only.

    Appends to any ``GIT_CONFIG_COUNT`` entries already in the environment instead of
    replacing them. The header is HTTP Basic with the ``x-access-token`` user, which
    GitHub and GitHub Enterprise accept for every kind of token.
    """
    env = os.environ if environ is None else environ
    try:
        index = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        index = 0
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": str(index + 1),
        f"GIT_CONFIG_KEY_{index}": f"http.{server_url.rstrip('/')}/.extraheader",
        f"GIT_CONFIG_VALUE_{index}": f"AUTHORIZATION: basic {basic}",
        # Never stop to ask for a password in CI: fail with git's message instead.
        "GIT_TERMINAL_PROMPT": "0",
    }


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every token from the environment (and its git header form) masked."""
    token = github_token(environ)
    if not token:
        return text
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return text.replace(token, REDACTED).replace(basic, REDACTED)
