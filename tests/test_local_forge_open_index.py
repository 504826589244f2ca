"""The local forge's index of open pull requests (open/N markers): finding open PRs reads
only those, whatever the number of PRs the repository ever had."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kit.local_forge import REPO, push_branch

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home


@pytest.fixture
def forge() -> LocalForge:
    made = LocalForge(jx_home() / "forge")
    made.create_repo(REPO, auto_init=True)
    return made


def markers(forge: LocalForge) -> list[str]:
    return sorted(p.name for p in (forge.root / "repos" / f"{REPO}.forge" / "open").iterdir())


def open_numbers(forge: LocalForge) -> list[int]:
    return [p.number for p in forge.list_pulls(REPO)]


def test_open_index_follows_open_close_reopen_merge(forge, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        push_branch(forge, tmp_path, name, {f"{name}.txt": name})
        forge.create_pull(REPO, title=name, body="", head=name, base="main")
    assert markers(forge) == ["1", "2", "3"] and open_numbers(forge) == [1, 2, 3]
    forge.update_pull(REPO, 2, state="closed")
    forge.merge_pull(REPO, 3)
    assert markers(forge) == ["1"] and open_numbers(forge) == [1]
    forge.update_pull(REPO, 2, state="open")
    assert open_numbers(forge) == [1, 2]
    assert [p.number for p in forge.list_pulls(REPO, state="all")] == [1, 2, 3]
    assert [p.number for p in forge.list_pulls(REPO, state="closed")] == [3]


def test_repositories_from_before_the_index_get_it_built(forge, tmp_path: Path) -> None:
    for name in ("a", "b"):
        push_branch(forge, tmp_path, name, {f"{name}.txt": name})
        forge.create_pull(REPO, title=name, body="", head=name, base="main")
    forge.merge_pull(REPO, 1)
    shutil.rmtree(forge.root / "repos" / f"{REPO}.forge" / "open")
    assert open_numbers(forge) == [2]
    assert markers(forge) == ["2"]


def test_stale_markers_are_skipped_and_pruned(forge, tmp_path: Path) -> None:
    push_branch(forge, tmp_path, "a", {"a.txt": "a"})
    forge.create_pull(REPO, title="a", body="", head="a", base="main")
    forge.merge_pull(REPO, 1)
    index = forge.root / "repos" / f"{REPO}.forge" / "open"
    (index / "1").touch()  # killed after merging, before the marker went
    (index / "7").touch()  # killed after the marker, before the record
    assert open_numbers(forge) == []
    push_branch(forge, tmp_path, "b", {"b.txt": "b"})
    forge.create_pull(REPO, title="b", body="", head="b", base="main")
    assert markers(forge) == ["2"]
