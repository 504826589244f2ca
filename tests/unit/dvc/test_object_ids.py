"""DVC object ids are checked before they are used (they are paths too), and the bytes
read by an id are checked against it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from jx_mlops.dvc.hashes import check_object_id
from jx_mlops.dvc.lockfile import parse_dvc_file, parse_lock
from jx_mlops.dvc.storage import cache_file, parse_dir_manifest, read_cached
from jx_mlops.errors import DvcError

GOOD = "0123456789abcdef0123456789abcdef"
EXPECTED = "expected an md5 (32 lowercase hex digits, '.dir' after a directory's)"


@pytest.mark.parametrize("value", [GOOD, f"{GOOD}.dir"])
def test_dvc_ids_pass(value: str) -> None:
    assert check_object_id(value, "here") == value


@pytest.mark.parametrize("value", [
    "xx/home/runner/.docker/config.json", f"{GOOD[:30]}/..", GOOD.upper(), f"{GOOD}.DIR",
    f"{GOOD}\n", f"{GOOD}.dir/x", GOOD[:31], "", 12, None])
def test_anything_else_is_one_line_naming_where(value: object) -> None:
    with pytest.raises(DvcError) as info:
        check_object_id(value, "dvc.lock: stages.train.outs[0].md5")
    assert info.value.message == \
        f"dvc.lock: stages.train.outs[0].md5: {EXPECTED}, got {repr(value)[:80]}"


def test_dvc_lock_and_dvc_files_name_the_key() -> None:
    lock = ("schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
            f"    - path: models/model.pkl\n      md5: {GOOD}\n"
            "    - path: metrics.json\n      md5: xx/etc/passwd\n")
    with pytest.raises(DvcError) as info:
        parse_lock(lock, "dvc.lock at PR #1 (abc1234)")
    assert info.value.message == ("dvc.lock at PR #1 (abc1234): stages.train.outs[1].md5: "
                                  f"{EXPECTED}, got 'xx/etc/passwd'")
    with pytest.raises(DvcError, match=r"^data/raw.csv.dvc: outs\[0\].md5: expected"):
        parse_dvc_file("outs:\n- path: raw.csv\n  md5: ../../x\n", "data/raw.csv.dvc")
    # An unquoted all-digit hash is still one, and a cloud etag stays a plain string.
    parsed = parse_lock("stages:\n  s:\n    outs:\n    - path: a\n      md5: "
                        "01234567890123456789012345678901\n    - path: b\n      etag: '0x8D9'\n")
    assert [o.md5 for o in parsed.stages[0].outs] == ["01234567890123456789012345678901",
                                                      "0x8D9"]


@pytest.mark.parametrize(("entries", "problem"), [
    ([{"relpath": "../escape.py", "md5": GOOD}],
     "[0].relpath: expected a path inside the directory, got '../escape.py'"),
    ([{"relpath": "/etc/passwd", "md5": GOOD}],
     "[0].relpath: expected a path inside the directory, got '/etc/passwd'"),
    ([{"relpath": "a.py", "md5": GOOD}, {"relpath": "b.py", "md5": "xx/etc/shadow"}],
     f"[1].md5: {EXPECTED}, got 'xx/etc/shadow'"),
    ([{"relpath": "nested", "md5": f"{GOOD}.dir"}],
     f"[0].md5: a directory inside a directory manifest ({GOOD}.dir)"),
    ({"relpath": "a"}, "not a DVC directory manifest: expected a list of files"),
])
def test_dir_manifests_are_checked_entry_by_entry(entries: object, problem: str) -> None:
    with pytest.raises(DvcError) as info:
        parse_dir_manifest(json.dumps(entries).encode(), f"DVC directory object {GOOD}.dir")
    assert info.value.message == f"DVC directory object {GOOD}.dir: {problem}"


def test_the_local_cache_is_read_by_checked_id_and_checked_content(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    with pytest.raises(DvcError, match="DVC object id: expected an md5"):
        cache_file(tmp_path, "xx/etc/passwd")
    data = b"weights"
    md5 = hashlib.md5(data).hexdigest()
    stored = cache_file(tmp_path, md5)
    stored.parent.mkdir(parents=True)
    stored.write_bytes(data)
    assert read_cached(tmp_path, md5) == data
    stored.write_bytes(b"planted")
    with pytest.raises(DvcError) as info:
        read_cached(tmp_path, md5)
    assert info.value.message == (
        f"{stored}: DVC object {md5} does not match its hash (its bytes have md5 "
        f"{hashlib.md5(b'planted').hexdigest()}): altered or corrupt, not used")
    assert read_cached(tmp_path, GOOD) is None
