"""Putting a project on its forge: the repository (made when missing), the environment
repositories, ``origin``, the default branch pushed, and the DVC remote's data.

`create` publishes the project it has just built; `init --repo` and `jx-mlops forge repo
create` publish a repository that already exists (an adopted DVC project), so that
retrain, pull requests, `ci release` and promotion work on it as on a created one.
Every refusal (a detached HEAD, no commit yet, an ``origin`` elsewhere) comes from
:func:`plan_publication`, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jx_mlops import console
from jx_mlops.config.project import ProjectConfig
from jx_mlops.environments.repo import ensure_environment_repo
from jx_mlops.errors import ConflictError, DvcError, UsageError
from jx_mlops.forge.base import STATUS_CONTEXT, Forge, ForgeConfig, Repo
from jx_mlops.forge.kinds import kind_named, open_forge
from jx_mlops.forge.protection import protect_default_branch
from jx_mlops.fsutil import jx_home
from jx_mlops.git.repo import GitRepo


@dataclass(frozen=True)
class Publication:
    """What publishing did: the forge repository (``created`` now or found), the branch
    pushed as its default, the environment repositories, and what the user should know."""

    repo: str
    clone_url: str
    branch: str
    created: bool
    environments_created: tuple[str, ...] = ()
    environments_reused: tuple[str, ...] = ()
    committed: str | None = None  # the commit of init's files, when one was made
    dvc_remote: str | None = None
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"repo": self.repo, "clone_url": self.clone_url, "branch": self.branch,
                "created": self.created,
                "environments_created": list(self.environments_created),
                "environments_reused": list(self.environments_reused),
                "committed": self.committed, "dvc_remote": self.dvc_remote,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class PublicationPlan:
    """Where a repository will be published, checked before anything is written."""

    forge: Forge
    name: str
    branch: str
    remote: Repo | None  # None: the forge has no such repository yet


def ensure_environments(forge: Forge, environments: Sequence[tuple[str, str]]
                        ) -> tuple[list[str], list[str]]:
    """Create the environment repositories (``(environment, OWNER/NAME)``) the forge lacks;
    returns (created, reused)."""
    created: list[str] = []
    reused: list[str] = []
    for env_name, env_repo in environments:
        (created if ensure_environment_repo(forge, env_repo, env_name) else reused).append(
            env_repo)
    return created, reused


def push_default_branch(forge: Forge, repo: GitRepo, remote: Repo, branch: str) -> None:
    """Point ``origin`` at ``remote``, push ``branch`` there and track it, as a clone
    would (``origin/HEAD`` included, which is how later commands find the default branch)."""
    repo.set_remote("origin", remote.clone_url)
    try:
        repo.push("origin", [f"{branch}:refs/heads/{branch}"], env=forge.git_env())
    except ConflictError:
        # Behind the forge (pull requests merged since) is published already; diverged not.
        repo.fetch("origin", [f"+refs/heads/{branch}:refs/remotes/origin/{branch}"],
                   env=forge.git_env())
        if not repo.is_ancestor(branch, f"refs/remotes/origin/{branch}"):
            raise UsageError(f"{remote.full_name} has commits that {branch} lacks: pull them "
                             f"(`git pull origin {branch}`) and run `jx-mlops forge repo "
                             "create` again") from None
    repo.run("branch", "--quiet", f"--set-upstream-to=origin/{branch}", branch)
    repo.run("remote", "set-head", "origin", branch, check=False)


def protect(forge: Forge, name: str, branch: str) -> None:
    """Merges into ``branch`` need a passing evaluation (GitHub enforces it itself; on the
    local forge `forge pr merge --force` goes past it and records why)."""
    why_not = protect_default_branch(forge, name, branch, (STATUS_CONTEXT,))
    if why_not:
        console.warn(f"{branch} of {name} is not protected: {why_not}; ask an admin to "
                     f"require status check {STATUS_CONTEXT}")


def _same_place(url: str, remote: Repo | None, kind: str, name: str) -> bool:
    """Whether the git remote ``url`` is the forge repository ``name``."""
    if kind_named(kind).repo_in_url(url) == name:
        return True
    if remote is None:
        return False
    if url == remote.clone_url:
        return True
    local = url.removeprefix("file://")
    there = remote.clone_url.removeprefix("file://")
    return Path(local).is_absolute() and Path(local).resolve() == Path(there).resolve()


def plan_publication(root: Path, forge_config: ForgeConfig) -> PublicationPlan:
    """Check that the repository at ``root`` can be published as ``forge_config.repo``;
    UsageError naming what to do otherwise. Opens the forge (ForgeError without its
    credentials) and asks it whether the repository exists; writes nothing."""
    name = forge_config.repo
    forge = open_forge(forge_config)
    repo = GitRepo.open(root)
    try:
        branch = repo.current_branch()
        if branch is None:
            raise UsageError(f"{root}: HEAD is detached; check out the branch to publish "
                             f"as {name}'s default branch")
        if repo.try_rev_parse("HEAD") is None:
            raise UsageError(f"{root}: {branch} has no commit yet; commit your project "
                             "first (`git add -A && git commit`), then publish it")
        remote = forge.find_repo(name)
        origin = repo.remote_url("origin")
        if origin is not None and not _same_place(origin, remote, forge_config.kind, name):
            raise UsageError(f"origin is {origin}, not {name} on {kind_named(forge.kind).TITLE}"
                             "; jx-mlops pushes to origin: rename it (`git remote rename "
                             "origin upstream`) or point it at the forge repository")
    finally:
        repo.close()
    return PublicationPlan(forge, name, branch, remote)


def _dvc_remote(root: Path, plan: PublicationPlan, notes: list[str]) -> tuple[str | None, bool]:
    """(the project's default DVC remote, whether it was added now): on the local forge,
    one is added under JX_MLOPS_HOME when there is none (as `create` makes); elsewhere a
    note says CI needs one."""
    from jx_mlops.dvc.commands import add_default_remote
    from jx_mlops.dvc.storage import default_remote_url

    url = default_remote_url(root)
    if url is not None:
        return url, False
    if kind_named(plan.forge.kind).HOSTED:
        notes.append("no default DVC remote: CI needs one it can reach for data and models "
                     "(`dvc remote add -d storage s3://...`, then commit .dvc/config)")
        return None, False
    url = str(jx_home() / "storage" / plan.name)
    add_default_remote(root, "storage", url)
    return url, True


def _commit(repo: GitRepo, paths: Sequence[str], message: str) -> str | None:
    """Commit ``paths`` only (whatever else is staged stays staged); None: nothing changed."""
    if not paths:
        return None
    repo.add(paths)
    if not repo.run("diff", "--cached", "--name-only", "--", *paths).strip():
        return None
    repo.run("commit", "-q", "-m", message, "--", *paths)
    return repo.head_sha()


def _push_data(root: Path, notes: list[str]) -> None:
    from jx_mlops.dvc.commands import push as dvc_push

    with console.step("Pushing data and models to the DVC remote"):
        try:
            dvc_push(root, run_cache=True)
        except DvcError as exc:  # outputs never reproduced here are not in the cache
            notes.append(f"dvc push failed ({exc.message}); run `dvc push` once `dvc repro` "
                         "has filled the cache")


def publish(plan: PublicationPlan, config: ProjectConfig, *, commit: Sequence[str] = (),
            message: str = "") -> Publication:
    """Publish the project of ``config`` as ``plan`` says: commit ``commit`` (with the DVC
    remote it may add), create the forge repository when missing (its default branch the
    one checked out, protected like a created project's), the environment repositories,
    point ``origin`` there, push, and push the DVC data."""
    forge, root = plan.forge, config.root
    notes: list[str] = []
    repo = GitRepo.open(root)
    try:
        dvc_remote, added = _dvc_remote(root, plan, notes)
        committed = _commit(repo, [*commit, *([".dvc/config"] if added else [])],
                            message or "Publish with jx-mlops: a DVC remote for the project")
        remote = plan.remote
        with console.step(f"Publishing {plan.name} and its environment repositories"):
            if remote is None:
                remote = forge.create_repo(plan.name, description=f"ML project {plan.name}",
                                           default_branch=plan.branch)
            created, reused = ensure_environments(
                forge, [(e.name, e.repo) for e in config.environments])
            push_default_branch(forge, repo, remote, plan.branch)
            if plan.remote is None:
                protect(forge, plan.name, remote.default_branch)
    finally:
        repo.close()
    if remote.default_branch != plan.branch:
        notes.append(f"{plan.name}'s default branch is {remote.default_branch}: pull requests "
                     f"target it, not {plan.branch}")
    if dvc_remote is not None:
        _push_data(root, notes)
    return Publication(plan.name, remote.clone_url, plan.branch, plan.remote is None,
                       tuple(created), tuple(reused), committed, dvc_remote, tuple(notes))


def check_committed(root: Path, paths: Sequence[str]) -> None:
    """Refuse to publish while ``paths`` (mlops.yaml) differ from what is committed: CI
    and the other clones read the committed ones."""
    repo = GitRepo.open(root)
    try:
        changed = repo.run("status", "--porcelain", "--", *paths).splitlines()
    finally:
        repo.close()
    if changed:
        path = changed[0][3:]
        raise UsageError(f"{path} is not committed: CI reads the committed one (`git add "
                         f"{path} && git commit`, then publish)")


def publish_project(config: ProjectConfig) -> Publication:
    """Publish the project of ``config`` where its mlops.yaml says (its committed
    mlops.yaml: that is what CI and other clones read)."""
    from jx_mlops.config.project import CONFIG_FILE

    if not config.forge.configured:
        open_forge(config.forge)  # the ConfigError that says how to name one
    check_committed(config.root, [CONFIG_FILE])
    return publish(plan_publication(config.root, config.forge), config)


def create_repository(start: Path, name: str | None, *, description: str = ""
                      ) -> Publication | Repo:
    """`jx-mlops forge repo create [NAME]`: in a project, without NAME or with its own,
    publish the project (:func:`publish_project`); otherwise an empty repository NAME on
    the project's forge, or the local forge outside a project."""
    from jx_mlops.config.project import CONFIG_FILE, find_project_root, load_config
    from jx_mlops.forge.base import REPO_NAME

    root = find_project_root(start)
    config = load_config(root) if (root / CONFIG_FILE).is_file() else None
    if config is not None and name in (None, config.forge.repo):
        return publish_project(config)
    if name is None:
        raise UsageError(f"no {CONFIG_FILE} in {root}: name the repository "
                         "(`jx-mlops forge repo create OWNER/NAME`)")
    if not REPO_NAME.match(name):
        raise UsageError(f"{name!r}: expected OWNER/NAME")
    forge_config = config.forge if config is not None and config.forge.configured else None
    forge = open_forge(ForgeConfig(forge_config.kind, name, forge_config.url)
                       if forge_config is not None else None)
    return forge.create_repo(name, description=description)
