"""Model versions as annotated GTO-style tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.git import git

from jx_mlops.errors import RegistryError
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.tags import bump_version, get_version, list_versions, register_version


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    git(tmp_path, "init", "-q", "-b", "main")
    for n in range(3):
        git(tmp_path, "commit", "-q", "--allow-empty", "-m", f"c{n}")
    return GitRepo.open(tmp_path)


def test_register_bumps_and_is_idempotent(repo: GitRepo) -> None:
    first, created = register_version(repo, "churn", repo.rev_parse("HEAD~2"), {"k": 1})
    assert (first.version, first.tag, created) == ("v0.0.1", "churn@v0.0.1", True)
    again, created = register_version(repo, "churn", repo.rev_parse("HEAD~2"), {"k": 2})
    assert (again.version, created) == ("v0.0.1", False)
    second, _ = register_version(repo, "churn", repo.rev_parse("HEAD~1"), {}, bump="minor")
    third, _ = register_version(repo, "churn", repo.rev_parse("HEAD"), {}, version="v1.0.0")
    assert [v.version for v in list_versions(repo, "churn")] == ["v0.0.1", "v0.1.0", "v1.0.0"]
    assert get_version(repo, "churn", "v0.0.1").metadata == {"k": 1}
    assert second.commit == repo.rev_parse("HEAD~1") and third.registered_by
    message = git(repo.path, "tag", "-l", "--format=%(contents:subject)", "churn@v0.0.1")
    assert message == "Registering artifact churn version v0.0.1"


def test_versions_are_immutable_and_validated(repo: GitRepo) -> None:
    register_version(repo, "churn", repo.rev_parse("HEAD~1"), {})
    with pytest.raises(RegistryError, match="already exists at another commit"):
        register_version(repo, "churn", repo.rev_parse("HEAD"), {}, version="v0.0.1")
    with pytest.raises(RegistryError, match=r"invalid version '1\.0'"):
        register_version(repo, "churn", repo.rev_parse("HEAD"), {}, version="1.0")
    with pytest.raises(RegistryError, match=r"churn@v9\.9\.9 is not registered"):
        get_version(repo, "churn", "v9.9.9")


def test_lightweight_and_foreign_tags_are_ignored(repo: GitRepo) -> None:
    git(repo.path, "tag", "churn@v5.0.0")
    git(repo.path, "tag", "-a", "v1.0.0", "-m", "app release")
    assert list_versions(repo) == []


def test_bump() -> None:
    assert bump_version("v1.2.3", "patch") == "v1.2.4"
    assert bump_version("v1.2.3", "minor") == "v1.3.0"
    assert bump_version("v1.2.3", "major") == "v2.0.0"
