"""The local forge's repositories: a bare git repository and a records directory each.

Layout under the forge's root::

    lock                           flock(2)-ed while a repository is created
    repos/OWNER/NAME.git/          a bare repository (clone URL: file://...)
    repos/OWNER/NAME.forge/        the forge's records for that repository
        lock                       flock(2)-ed around every read-modify-write
        state.json                 counters and the comment -> pull index

:class:`RepoStore` is what the pull requests, the rules and the checks of
:class:`jx_mlops.forge.local.forge.LocalForge` share: where a repository's files are, its
bare git repository, and its records lock.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from jx_mlops.errors import ConflictError, ForgeError, NotFoundError
from jx_mlops.forge.base import REPO_NAME, Repo
from jx_mlops.forge.local.records import now_iso
from jx_mlops.fsutil import file_lock, write_json_atomic
from jx_mlops.git.repo import GitRepo


class RepoStore:
    """The repositories of a local forge rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def check_name(self, name: str) -> None:
        if not REPO_NAME.match(name) or ".." in name:
            raise ForgeError(f"invalid repository name {name!r}: expected OWNER/NAME")

    def git_dir(self, name: str) -> Path:
        return self.root / "repos" / f"{name}.git"

    def meta_dir(self, name: str) -> Path:
        return self.root / "repos" / f"{name}.forge"

    def _repo(self, name: str) -> Repo:
        git_dir = self.git_dir(name)
        default = "main"
        head = git_dir / "HEAD"
        if head.is_file():
            text = head.read_text().strip()
            if text.startswith("ref: refs/heads/"):
                default = text[len("ref: refs/heads/"):]
        return Repo(full_name=name, clone_url=git_dir.resolve().as_uri(),
                    default_branch=default, web_url=f"local://{name}")

    def find(self, name: str) -> Repo | None:
        self.check_name(name)
        if not (self.git_dir(name) / "HEAD").is_file():
            return None
        return self._repo(name)

    def get(self, name: str) -> Repo:
        repo = self.find(name)
        if repo is None:
            raise NotFoundError(f"repository {name} not found on the local forge ({self.root})")
        return repo

    def create(self, name: str, *, description: str, auto_init: bool,
               identity: dict[str, str], default_branch: str = "main") -> Repo:
        """A new repository whose HEAD is ``default_branch`` (with ``auto_init``, a first
        commit on it by ``identity``)."""
        self.check_name(name)
        with file_lock(self.root / "lock"):
            if self.find(name) is not None:
                raise ConflictError(f"repository {name} already exists on the local forge")
            git_dir = self.git_dir(name)
            staging = git_dir.with_name(f".{git_dir.name}.creating")
            shutil.rmtree(staging, ignore_errors=True)
            GitRepo.init(staging, bare=True, branch=default_branch)
            if auto_init:
                _initial_commit(staging, name, description, identity, default_branch)
            write_json_atomic(self.meta_dir(name) / "state.json",
                              {"next_pull": 1, "next_comment": 1, "comment_pull": {},
                               "description": description, "created_at": now_iso()})
            # The rename is the commit point: a repository either exists whole or not at all.
            staging.rename(git_dir)
        return self._repo(name)

    def all(self) -> list[Repo]:
        base = self.root / "repos"
        if not base.is_dir():
            return []
        names = sorted(f"{p.parent.name}/{p.name[:-4]}" for p in base.glob("*/*.git")
                       if (p / "HEAD").is_file())
        return [self._repo(n) for n in names]

    def bare(self, name: str) -> GitRepo:
        """The repository's bare git directory, opened (NotFoundError when there is none)."""
        self.get(name)
        return GitRepo.open(self.git_dir(name))

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[Path]:
        """The repository's records directory, with its lock held."""
        self.get(name)
        meta = self.meta_dir(name)
        with file_lock(meta / "lock"):
            yield meta


def _initial_commit(bare: Path, name: str, description: str, identity: dict[str, str],
                    branch: str) -> None:
    with tempfile.TemporaryDirectory(prefix="jx-forge-init-") as tmp:
        work = GitRepo.init(Path(tmp))
        (Path(tmp) / "README.md").write_text(f"# {name.split('/')[1]}\n\n{description}\n")
        work.add(["README.md"])
        work.run("commit", "-q", "-m", "Initial commit", env=identity)
        work.push(bare.resolve().as_uri(), [f"HEAD:refs/heads/{branch}"])
        work.close()
