"""Environment repositories: one :class:`EnvironmentRepo` per repository per command.

A command reads an environment repository (its files: see ``environments.records``)
through a cached bare mirror, without a work tree, so a read costs one incremental fetch
however long the history. The fetch happens once per command, on first need; writers that
must build on the forge's latest state fetch again, and say why where they do.
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from jx_mlops.environments.history import HistoryEvent, read_events
from jx_mlops.environments.records import (
    RECORD_DIR,
    DeploymentRecord,
    Freeze,
    Hold,
    read_freeze,
    read_holds,
    read_record,
    read_records,
)
from jx_mlops.environments.verification import (
    FETCH_REFSPEC,
    VerificationRecord,
    fetch_records,
    merge_fetched,
    read_verification,
    save_record,
)
from jx_mlops.errors import ForgeError, GitError
from jx_mlops.forge.base import Forge, Repo
from jx_mlops.fsutil import file_lock, jx_home
from jx_mlops.git.locks import clear_stale_locks
from jx_mlops.git.repo import GitRepo

T = TypeVar("T")


class EnvironmentRepo:
    """One environment repository as one command sees it.

    Opening it costs nothing. The first read fetches the default branch into the mirror
    (with the verification notes riding along when the opener said it will read them),
    and every later read of the command is served from that fetch. Only :meth:`latest`
    fetches the branch again.
    """

    def __init__(self, forge: Forge, name: str, *, verification: bool = False) -> None:
        self.forge, self.name = forge, name
        self._with_notes = verification
        self._remote: Repo | None = None
        self._git: GitRepo | None = None
        self._notes_fetched = False
        self._lock = threading.Lock()  # in_parallel readers may share one

    def expect_verification(self) -> None:
        """The verification notes will be read: fetch them with the branch, not after it."""
        self._with_notes = True

    # -- the repository on the forge ------------------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether the forge has the repository (asked once, unless it had not)."""
        if self._remote is None:
            self._remote = self.forge.find_repo(self.name)
        return self._remote is not None

    def _forge_repo(self) -> Repo:
        if self._remote is None:
            self._remote = self.forge.get_repo(self.name)
        return self._remote

    @property
    def clone_url(self) -> str:
        return self._forge_repo().clone_url

    @property
    def branch(self) -> str:
        """The default branch: what is deployed, and what changes are merged into."""
        return self._forge_repo().default_branch

    def create_if_missing(self, environment: str) -> bool:
        """Create the repository if the forge does not have it; True if created."""
        if self.exists:
            return False
        self._remote = _create(self.forge, self.name, environment)
        return True

    # -- the mirror -----------------------------------------------------------------------

    @property
    def git(self) -> GitRepo:
        """The mirror, fetched on first use (don't keep it across :meth:`latest`)."""
        with self._lock:
            if self._git is None:
                self._fetch()
            assert self._git is not None
            return self._git

    def latest(self) -> GitRepo:
        """Fetch the branch again now: for a change about to be built and landed."""
        with self._lock:
            self._fetch()
            assert self._git is not None
            return self._git

    def _fetch(self) -> None:
        remote = self._forge_repo()
        refspecs = [f"+refs/heads/{remote.default_branch}:refs/heads/{remote.default_branch}"]
        notes = self._with_notes and not self._notes_fetched
        if notes:
            refspecs.append(FETCH_REFSPEC)
        if self._git is not None:
            self._git.close()
            self._git = None
        self._git = _fetch_mirror(self.forge, self.name, remote.clone_url, refspecs)
        if notes:
            merge_fetched(self._git)
            self._notes_fetched = True

    def _notes(self) -> GitRepo:
        """The mirror with the verification notes in it."""
        if self._git is None:
            self._with_notes = True  # not fetched yet: one fetch brings both
        git = self.git
        with self._lock:
            if not self._notes_fetched:  # the branch came without them
                fetch_records(git, self.clone_url, self.forge.git_env())
                self._notes_fetched = True
        return git

    def push(self, refspecs: Sequence[str]) -> None:
        """Push ``refspecs`` from the mirror to the forge (a rejection is ConflictError)."""
        self.git.push("origin", refspecs, env=self.forge.git_env())

    def close(self) -> None:
        if self._git is not None:
            self._git.close()
            self._git = None

    # -- what it says -----------------------------------------------------------------------

    def record(self, model: str, environment: str) -> DeploymentRecord | None:
        """The deployment record of ``model``, or None."""
        return read_record(self.git, self.branch, model, environment)

    def records(self, environment: str, models: Sequence[str] | None = None
                ) -> list[DeploymentRecord]:
        """The deployment records (of ``models``, or all), sorted by model."""
        return read_records(self.git, self.branch, environment, models)

    def events(self, *, model: str | None = None, environment: str | None = None
               ) -> list[HistoryEvent]:
        """The history's events (of ``model``, in ``environment``), newest first."""
        return read_events(self.git, self.branch, model=model, environment=environment)

    def holds(self, model: str, environment: str) -> dict[str, Hold]:
        """The held versions of ``model``."""
        return read_holds(self.git, self.branch, model, environment)

    def freeze(self, environment: str) -> Freeze | None:
        """The environment's freeze as recorded (expired or not), if any."""
        return read_freeze(self.git, self.branch, environment)

    def verification(self, event: HistoryEvent) -> VerificationRecord | None:
        """What verification recorded of the deployment ``event`` made, if anything."""
        return read_verification(self._notes(), event)

    def save_verification(self, event: HistoryEvent, record: VerificationRecord) -> None:
        """Record ``record`` on ``event``'s deployment and push it."""
        save_record(self._notes(), self.clone_url, self.forge.git_env(), event, record)


def collect_history(forge: Forge, environments: Sequence[tuple[str, str]],
                    models: Sequence[str]) -> dict[str, list[HistoryEvent]]:
    """Every event of each of ``models`` in the ``(name, repository)`` environments, newest
    first; each repository is fetched once, and the repositories are read at once."""
    names: dict[str, list[str]] = {}
    for name, repo_name in environments:
        names.setdefault(repo_name, []).append(name)
    repos = [EnvironmentRepo(forge, repo_name) for repo_name in names]
    try:
        found = in_parallel([functools.partial(_repo_events, repo, names[repo.name])
                             for repo in repos])
    finally:
        for repo in repos:
            repo.close()
    wanted = set(models)
    events = sorted((e for repo_events in found for e in repo_events if e.model in wanted),
                    key=lambda e: e.timestamp, reverse=True)
    return {model: [e for e in events if e.model == model] for model in models}


def _repo_events(repo: EnvironmentRepo, environments: list[str]) -> list[HistoryEvent]:
    if not repo.exists:
        return []
    return [e for e in repo.events() if e.environment in environments]


def mirror_path(forge: Forge, repo_name: str) -> Path:
    return jx_home() / "cache" / "mirrors" / forge.kind / f"{repo_name}.git"


def mirror(forge: Forge, repo_name: str, *, tags: bool = False) -> tuple[GitRepo, str]:
    """A cached bare mirror of a forge repository, freshly fetched; returns (repo, branch).

    For source repositories; an environment repository is read through
    :class:`EnvironmentRepo`. Only the default branch (and, with ``tags``, the tags) is
    fetched: branches come and go, and an incremental fetch is cheap however long the
    history.
    """
    remote = forge.get_repo(repo_name)
    branch = remote.default_branch
    refspecs = [f"+refs/heads/{branch}:refs/heads/{branch}"]
    if tags:
        refspecs.append("+refs/tags/*:refs/tags/*")
    return _fetch_mirror(forge, repo_name, remote.clone_url, refspecs), branch


def _fetch_mirror(forge: Forge, repo_name: str, url: str, refspecs: list[str]) -> GitRepo:
    path = mirror_path(forge, repo_name)
    with file_lock(path.with_suffix(".lock")):
        repo = _open_mirror(path, url)
        try:
            # By URL, not by remote name: one git process per read, the URL always current.
            _fetch(repo, url, refspecs, forge.git_env())
        except Exception as exc:
            repo.close()
            raise ForgeError(f"cannot fetch repository {repo_name}: {exc}") from None
    return repo


def _open_mirror(path: Path, url: str) -> GitRepo:
    """The mirror at ``path``, made or repaired: it is a cache, so one that a killed run
    left unreadable (mid-``init``) is made anew."""
    repo = None
    if (path / "HEAD").is_file():
        clear_stale_locks(path)  # a fetch killed mid-way must not wedge every later one
        with contextlib.suppress(GitError):
            repo = GitRepo.open(path)
    if repo is None:
        shutil.rmtree(path, ignore_errors=True)
        repo = GitRepo.init(path, bare=True)
    if repo.remote_url("origin") != url:
        # Pushes go to "origin" (also after a kill between `init` and here). Its URL only:
        # with no fetch refspec, the pushes of concurrent promotions write no
        # refs/remotes/origin/* here for each other's fetches to trip over.
        repo.run("config", "remote.origin.url", url)
        repo.run("config", "--unset-all", "remote.origin.fetch", check=False)
    return repo


def _fetch(repo: GitRepo, url: str, refspecs: list[str], env: dict[str, str]) -> None:
    """Fetch; a local ref naming an object the mirror lacks (a concurrent run's leftover)
    is dropped and the fetch tried once more: nothing in a mirror is kept but main."""
    try:
        repo.fetch(url, refspecs, env=env)
    except GitError as exc:
        bad = re.search(r"bad object (refs/\S+)", exc.message)
        if bad is None:
            raise
        repo.run("update-ref", "-d", bad.group(1), check=False)
        repo.fetch(url, refspecs, env=env)


def in_parallel(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent reads (one per environment) at once; results in call order.

    Each is mostly a git process, so threads overlap the waiting.
    """
    if len(calls) < 2:
        return [call() for call in calls]
    from concurrent.futures import ThreadPoolExecutor

    from jx_mlops.git.env import sanitize_environment

    sanitize_environment()  # edits os.environ once: not from several threads at a time

    with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
        return list(pool.map(lambda call: call(), calls))


def ensure_environment_repo(forge: Forge, repo_name: str, environment: str) -> bool:
    """Create the environment repository if the forge does not have it; True if created."""
    if forge.find_repo(repo_name) is not None:
        return False
    _create(forge, repo_name, environment)
    return True


def _create(forge: Forge, repo_name: str, environment: str) -> Repo:
    return forge.create_repo(repo_name, auto_init=True,
                             description=f"jx-mlops environment repository: {environment}. "
                                         f"{RECORD_DIR}/MODEL.yaml records what is deployed.")
