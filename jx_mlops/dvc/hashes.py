"""DVC object ids and the digests that check them.

DVC names every object by its md5: 32 lowercase hex digits, ``.dir`` appended for a
directory's manifest. A pull request writes dvc.lock and ``.dvc`` files, and a writer of
the DVC remote writes ``.dir`` manifests, so an id is checked against that shape before
it is used at all: an id is also a path (``files/md5/XX/REST``), and ``xx/<an absolute
path>`` would name any file of the machine. Bytes read by id are checked against it: the
md5 of a file object (and of a ``.dir`` manifest) is the md5 of its bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from jx_mlops.errors import DvcError

OBJECT_ID = re.compile(r"^[0-9a-f]{32}(\.dir)?$")
_EXPECTED = "an md5 (32 lowercase hex digits, '.dir' after a directory's)"
_BLOCK = 1 << 20


def check_object_id(value: object, where: str) -> str:
    """``value`` when it is a DVC object id; DvcError naming ``where`` (the file and
    key it came from) otherwise."""
    if not isinstance(value, str) or not OBJECT_ID.fullmatch(value):
        shown = repr(value)[:80]
        raise DvcError(f"{where}: expected {_EXPECTED}, got {shown}")
    return value


@dataclass(frozen=True)
class Digests:
    """What a file's bytes hash to."""

    md5: str
    sha256: str
    size: int


def digests_of(blocks: Iterable[bytes]) -> Digests:
    """md5, sha256 and size of the bytes ``blocks`` yields, in one pass."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    for block in blocks:
        md5.update(block)
        sha256.update(block)
        size += len(block)
    return Digests(md5.hexdigest(), sha256.hexdigest(), size)


def blocks(handle: BinaryIO) -> Iterable[bytes]:
    """The bytes of an open file, a block at a time."""
    return iter(lambda: handle.read(_BLOCK), b"")


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def object_md5(md5: str) -> str:
    """The md5 an object's bytes must have: its id without ``.dir``."""
    return md5.removesuffix(".dir")
