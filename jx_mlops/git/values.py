"""What :mod:`jx_mlops.git` returns: plain frozen values, no git library object."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommitInfo:
    """One commit, as the report and the registry need it."""

    sha: str
    summary: str
    author: str
    committed_at: int
    parents: tuple[str, ...]


@dataclass(frozen=True)
class TagInfo:
    """A tag and the commit it points at; ``annotated`` tags carry tagger and message."""

    name: str
    target: str
    annotated: bool
    tagger: str
    tagged_at: int
    message: str
    object: str = ""  # the tag object's own sha (annotated tags): changes if it is re-made


@dataclass(frozen=True)
class CommitMessage:
    """A commit with its whole message (subject, body and trailers)."""

    sha: str
    parents: tuple[str, ...]
    committed_at: int
    message: str


@dataclass(frozen=True)
class MergeResult:
    """The outcome of a three-way merge computed without a work tree."""

    tree: str
    conflicts: tuple[str, ...]
