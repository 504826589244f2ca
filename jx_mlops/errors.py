"""One exception hierarchy: every error knows the line a user should read.

The CLI is the only error boundary (see ``cli.main``): a :class:`JxMlopsError` prints its
message on one line and exits 1; anything else is a bug and exits 3.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 1000


def one_line_message(text: str) -> str:
    """``text`` as the one line a terminal shows: newlines folded, cut to a readable length.

    Messages quote input (a value, a git or DVC error); a 10 MB value or a multi-line tool
    error must still print as one line a person can read.
    """
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    if len(line) > MAX_MESSAGE_CHARS:
        line = f"{line[:MAX_MESSAGE_CHARS - 1]}…"
    return line


class JxMlopsError(Exception):
    """An error the user can act on; ``str(err)`` is the one line they read."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_message(self) -> str:
        """The single line printed to stderr, with the hint when there is one."""
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(JxMlopsError):
    """mlops.yaml (or another input file) is missing or invalid."""


class GitError(JxMlopsError):
    """A git operation failed or a revision does not exist."""


class DvcError(JxMlopsError):
    """A DVC command failed or DVC metadata is unreadable."""


class ForgeError(JxMlopsError):
    """The forge (local or GitHub) refused or failed a request."""


class NotFoundError(ForgeError):
    """A repository, pull request or comment does not exist on the forge."""


class ConflictError(ForgeError):
    """A merge or push could not be applied because the target moved or conflicts."""


class QuickstartError(JxMlopsError):
    """A quickstart is unknown or cannot be rendered."""


class RegistryError(JxMlopsError):
    """A model version cannot be registered or read."""


class PromotionError(JxMlopsError):
    """A promotion cannot proceed (unknown environment, missing version, gate...)."""


class UsageError(JxMlopsError):
    """The command line itself is wrong (bad KEY=VALUE, conflicting options...)."""


class InputError(ConfigError):
    """A file or payload the tool reads is too big, too deep, not a file, or malformed."""


class ComputeError(JxMlopsError):
    """The compute engine (a Ray head) is unreachable, refused a job or lost one."""
