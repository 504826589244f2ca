"""The environment git runs in: what jx-mlops inherits from a parent git process is
dropped before any git command runs (re-exported by :mod:`jx_mlops.git`)."""

from __future__ import annotations

import os

# Variables a parent git process (a hook, `git rebase -x`...) may leak into our environment
# and that would silently redirect every command at another repository. pre-commit strips
# the same family; the identity, transport and config variables are kept on purpose.
_KEPT_GIT_VARS = {
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
    "GIT_CONFIG_COUNT", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_SYSTEM",
    "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS", "GIT_TERMINAL_PROMPT",
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
    "GIT_TRACE", "GIT_TRACE_PACKET", "GIT_CURL_VERBOSE",
}
_sanitized = False


def sanitize_environment() -> None:
    """Drop inherited GIT_* variables that would point git at another repository."""
    global _sanitized
    if _sanitized:
        return
    for name in list(os.environ):
        if name.startswith("GIT_") and name not in _KEPT_GIT_VARS and not name.startswith(
            ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")
        ):
            del os.environ[name]
    _sanitized = True
