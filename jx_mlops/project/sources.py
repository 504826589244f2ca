"""Where a quickstart comes from: a bundled name, a local directory or a git repository.

A git quickstart is cloned into a temporary directory that lives as long as the ``with``
block of :func:`open_quickstart`; ``URL#SUBDIR`` picks a quickstart inside a repository
that holds several (its ``_shared/`` layer, if any, is used as for the bundled ones).
Quickstarts from directories and repositories are untrusted: see ``Quickstart.trusted``.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from jx_mlops.errors import GitError, QuickstartError
from jx_mlops.project.quickstarts import (
    QUICKSTART_FILE,
    Quickstart,
    find_quickstart,
    load_quickstart,
)

# scheme://..., user@host:path (scp-like, as git accepts), or GitHub shorthand gh:OWNER/REPO.
_URL = re.compile(r"^(?:(?:https?|ssh|git|file)://|[\w.-]+@[\w.-]+:|gh:)")
_GITHUB_SHORTHAND = re.compile(r"^gh:([\w.-]+/[\w.-]+?)(?:\.git)?$")


def is_git_url(spec: str) -> bool:
    """True when ``spec`` names a git repository rather than a bundled name or a directory."""
    return bool(_URL.match(spec))


def _split(spec: str) -> tuple[str, str | None]:
    url, _sep, subdir = spec.partition("#")
    short = _GITHUB_SHORTHAND.match(url)
    if url.startswith("gh:"):
        if not short:
            raise QuickstartError(f"quickstart {spec!r}: expected gh:OWNER/REPO")
        url = f"https://github.com/{short.group(1)}.git"
    if subdir:
        parts = PurePosixPath(subdir).parts
        if PurePosixPath(subdir).is_absolute() or ".." in parts:
            raise QuickstartError(f"quickstart {spec!r}: #{subdir} must be a relative path "
                                  "inside the repository")
    return url, subdir or None


def _clone(url: str, dest: Path, ref: str | None) -> str:
    """Clone ``url`` at ``ref`` (branch, tag or commit) into ``dest``; returns the commit."""
    from jx_mlops.git.repo import GitRepo

    try:
        repo = GitRepo.clone(url, dest)
        try:
            if ref:
                repo.checkout(ref)
            return repo.head_sha()
        finally:
            repo.close()
    except GitError as exc:
        raise QuickstartError(f"cannot fetch quickstart {url}"
                              f"{f' at {ref}' if ref else ''}: {exc.message}") from None


@contextlib.contextmanager
def open_quickstart(spec: str, *, ref: str | None = None,
                    trust: bool = False) -> Iterator[Quickstart]:
    """The quickstart ``spec`` names, usable inside the ``with`` block.

    ``ref`` (a branch, tag or commit) only applies to git repositories. ``trust`` marks a
    quickstart from a directory or repository as allowed to run code.
    """
    if not is_git_url(spec):
        if ref:
            raise QuickstartError(f"--vcs-ref {ref}: quickstart {spec!r} is not a git URL")
        quickstart = find_quickstart(spec)
        yield quickstart if quickstart.source == "bundled" else quickstart.from_source(
            quickstart.source, trusted=trust)
        return
    url, subdir = _split(spec)
    with tempfile.TemporaryDirectory(prefix="jx-mlops-quickstart-") as tmp:
        checkout = Path(tmp) / "repo"
        commit = _clone(url, checkout, ref)
        path = checkout / subdir if subdir else checkout
        if not path.resolve().is_relative_to(checkout.resolve()):
            raise QuickstartError(f"quickstart {spec!r}: #{subdir} is a symbolic link out of "
                                  "the repository")
        if not (path / QUICKSTART_FILE).is_file():
            where = f"directory {subdir!r}" if subdir else "the repository root"
            raise QuickstartError(f"{url} is not a quickstart: no {QUICKSTART_FILE} in {where}"
                                  f"{'' if subdir else ' (add #SUBDIR to pick one inside)'}")
        try:
            quickstart = load_quickstart(path)
        except QuickstartError as exc:  # name the repository, not our temporary clone
            raise QuickstartError(exc.message.replace(str(checkout), url)) from None
        yield quickstart.from_source(spec, revision=commit, trusted=trust)
