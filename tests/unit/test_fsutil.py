"""Bounded reads of untrusted files: no link out of the root, no device, no giant."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jx_mlops.errors import InputError
from jx_mlops.fsutil import read_bounded


def test_bounded_reads(tmp_path: Path) -> None:
    inside = tmp_path / "repo"
    inside.mkdir()
    (tmp_path / "secret").write_text("key")
    (inside / "link").symlink_to(tmp_path / "secret")
    (inside / "ok").write_text("fine")
    (inside / "ok-link").symlink_to(inside / "ok")
    assert read_bounded(inside / "ok-link", root=inside) == b"fine"
    with pytest.raises(InputError, match="outside"):
        read_bounded(inside / "link", root=inside)
    os.mkfifo(inside / "fifo")
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(inside / "fifo", root=inside)
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(Path("/dev/zero"))
    with pytest.raises(InputError, match="larger than 3 bytes"):
        read_bounded(inside / "ok", max_bytes=3)
    with pytest.raises(FileNotFoundError):
        read_bounded(inside / "missing")
