"""GTO's tag grammar: which event a git tag name records, and the name for an event.

Names as ``gto`` writes them (GTO 1.x, ``gto/constants.py``):

- ``NAME@vX.Y.Z`` registers a version, ``NAME@vX.Y.Z!`` deregisters it;
- ``NAME@deprecated`` deprecates the whole artifact;
- ``NAME#STAGE`` assigns a stage to the version at the tagged commit, ``NAME#STAGE!``
  unassigns it;
- any of them may end in a counter ``#N`` (``churn#prod#3``, ``churn#prod!#4``): GTO's
  "non-simple" notation, where N is one more than the artifact's highest counter so far;
- a monorepo artifact ``DIR:NAME`` is written ``DIR=NAME`` in the tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Action = Literal["register", "deregister", "deprecate", "assign", "unassign"]

_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_DIR = r"[a-zA-Z0-9-_./]+"
SEMVER = (r"v(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
          r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
          r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
VERSION = re.compile(f"^{SEMVER}$")
NAME = re.compile(f"^{_NAME}$")
FULL_NAME = re.compile(f"^(?:{_DIR}:)?{_NAME}$")
TAG = re.compile(
    rf"^(?P<artifact>(?:{_DIR}=)?{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>{SEMVER}))(?P<cancel>!?)"
    rf"|@(?P<deprecated>deprecated)|@(?P<created>created))"
    rf"(?:#(?P<counter>[0-9]+))?$")


@dataclass(frozen=True)
class TagName:
    """What a tag name says: the artifact (full name, ``DIR:NAME``) and the event."""

    artifact: str
    action: Action
    version: str = ""
    stage: str = ""
    counter: int | None = None


def parse_tag_name(name: str) -> TagName | None:
    """The event ``name`` records in GTO's grammar, or None for any other tag.

    ``NAME@created`` matches GTO's pattern but GTO indexes no event for it: None here too.
    """
    match = TAG.match(name)
    if not match or match["created"]:
        return None
    artifact = match["artifact"].replace("=", ":")
    counter = int(match["counter"]) if match["counter"] else None
    cancel = bool(match["cancel"])
    if match["deprecated"]:
        return TagName(artifact, "deprecate", counter=counter)
    if match["version"]:
        return TagName(artifact, "deregister" if cancel else "register",
                       version=match["version"], counter=counter)
    return TagName(artifact, "unassign" if cancel else "assign", stage=match["stage"],
                   counter=counter)


def in_tag(artifact: str) -> str:
    """An artifact's full name as written in a tag (``DIR:NAME`` -> ``DIR=NAME``)."""
    return artifact.replace(":", "=")


def event_tag(action: Action, artifact: str, *, version: str = "", stage: str = "",
              counter: int | None = None) -> str:
    """The tag name ``gto`` gives this event (with ``#counter`` unless it is None)."""
    base = in_tag(artifact)
    names = {"register": f"{base}@{version}", "deregister": f"{base}@{version}!",
             "deprecate": f"{base}@deprecated", "assign": f"{base}#{stage}",
             "unassign": f"{base}#{stage}!"}
    return names[action] if counter is None else f"{names[action]}#{counter}"


def next_counter(artifact: str, tag_names: Iterable[str]) -> int:
    """GTO's counter for the artifact's next non-simple tag: one past the highest so far."""
    counters = [parsed.counter for parsed in map(parse_tag_name, tag_names)
                if parsed is not None and parsed.artifact == artifact
                and parsed.counter is not None]
    return max(counters, default=0) + 1


def event_message(action: Action, artifact: str, *, version: str = "",
                  stage: str = "") -> str:
    """The first line of the message ``gto`` writes for this event, word for word."""
    messages = {
        "register": f"Registering artifact {artifact} version {version}",
        "deregister": f"Deregistering artifact {artifact} version {version}",
        "deprecate": f"Deprecating artifact '{artifact}'",
        "assign": f"Assigning stage {stage} to artifact {artifact} version {version}",
        "unassign": (f"Unassigning stage '{stage}' to artifact '{artifact}' "
                     f"version '{version}'"),
    }
    return messages[action]
