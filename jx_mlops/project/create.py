"""`jx-mlops create`: a new project from a quickstart, published on the forge.

The project is built in a hidden staging directory next to the target and renamed into
place only once it is complete (rendered, git and DVC initialised, baseline trained and
committed), so a failure never leaves a half-written project behind.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jx_mlops import console
from jx_mlops.compare.cost import RunRecord, StageCost
from jx_mlops.config.project import MODEL_NAME, load_config
from jx_mlops.dvc.commands import add as dvc_add
from jx_mlops.dvc.commands import add_default_remote, dvc_env
from jx_mlops.dvc.commands import init as dvc_init
from jx_mlops.dvc.commands import push as dvc_push
from jx_mlops.errors import ConflictError, QuickstartError, UsageError
from jx_mlops.evaluation.runrecords import make_record, measured_repro, save_record
from jx_mlops.forge.base import Forge, ForgeConfig
from jx_mlops.forge.kinds import DEFAULT_FORGE, kind_named, open_forge
from jx_mlops.fsutil import jx_home
from jx_mlops.git.repo import GitRepo
from jx_mlops.project.keys import add_keyless_signing, add_signing
from jx_mlops.project.publish import ensure_environments, protect, push_default_branch
from jx_mlops.project.quickstarts import (
    Quickstart,
    check_template,
    missing_requirements,
    render,
    resolve_variables,
)
from jx_mlops.project.sources import open_quickstart


@dataclass(frozen=True)
class CreatedProject:
    """What `create` made."""

    path: Path
    repo: str
    quickstart: str
    commit: str
    environments_created: tuple[str, ...]
    environments_reused: tuple[str, ...]
    dvc_remote: str


def _check_target(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise QuickstartError(f"target directory {dest} exists and is not empty; "
                              "choose another --dir or remove it")


def _check_can_run(quickstart: Quickstart, train: bool) -> None:
    """Refuse, before anything is written, to run code that is untrusted or cannot work.

    A quickstart's tasks and its pipeline (the baseline ``dvc repro``) are code from the
    quickstart's author: bundled quickstarts are trusted, others need ``--trust``, as
    copier asks for templates with tasks.
    """
    runs = [f"its tasks ({'; '.join(quickstart.tasks)})"] if quickstart.tasks else []
    if train:
        runs.append("its pipeline (the baseline `dvc repro`)")
    if not runs:
        return
    if not quickstart.trusted:
        escape = "" if quickstart.tasks else ", or --no-train to skip the baseline"
        raise QuickstartError(
            f"quickstart {quickstart.name} from {quickstart.source} would run code on this "
            f"machine: {' and '.join(runs)}; pass --trust if you trust its source{escape}")
    missing = missing_requirements(quickstart)
    if missing:
        # The project (and its requirements.txt) does not exist yet: name the quickstart's.
        listed = quickstart.template / "requirements.txt"
        how = f"pip install -r {listed}" if listed.is_file() else \
            "pip install " + " ".join(f"'{m.split(' (found')[0]}'" for m in missing)
        raise QuickstartError(
            f"quickstart {quickstart.name} needs {', '.join(missing)} in the Python that runs "
            f"its pipeline ({sys.executable}): `{how}`"
            f"{'' if quickstart.tasks else ', or pass --no-train'}")


def _variables(quickstart: Quickstart, settings: Mapping[str, str],
               context: Mapping[str, str]) -> dict[str, str]:
    """The template's values: ``--set`` ones, defaults, and what ``create`` itself knows
    (``context``: project name, owner, forge), which every template may use and a
    quickstart may declare to document or constrain it."""
    declared = {v.name for v in quickstart.variables}
    given = {**settings, **{k: v for k, v in context.items() if k in declared}}
    return {**context, **resolve_variables(quickstart, given)}


def _commit_message(quickstart: Quickstart) -> str:
    message = f"Create project from quickstart {quickstart.name}"
    if quickstart.source != "bundled":
        at = f" at {quickstart.revision}" if quickstart.revision else ""
        message += f"\n\nQuickstart source: {quickstart.source}{at}"
    return message


def _run_task(task: str, cwd: Path, quickstart: str) -> None:
    proc = subprocess.run(task, shell=True, cwd=cwd, env=dvc_env(), capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
        raise QuickstartError(f"quickstart {quickstart}: task `{task}` failed "
                              f"(exit {proc.returncode}): {lines[-1]}")


def _build(quickstart: Quickstart, staging: Path, values: Mapping[str, str], remote: str,
           train: bool, forge_url: str | None = None) -> tuple[str, tuple[StageCost, ...]]:
    """Render, initialise git and DVC, train the baseline and commit; returns the commit
    and what training it cost."""
    with console.step(f"Rendering quickstart {quickstart.name}"):
        render(quickstart, staging, values)
        if forge_url:
            _set_forge_url(staging / "mlops.yaml", forge_url)
        # A quickstart that renders an invalid mlops.yaml stops here.
        forge = load_config(staging).forge
        identity = kind_named(forge.kind).keyless_identity(forge.repo)
        if identity is None:
            add_signing(staging, staging / "mlops.yaml")
        else:  # signed keyless in CI (GitHub Actions: the release workflow's identity)
            add_keyless_signing(staging / "mlops.yaml", identity)
        load_config(staging)
        repo = GitRepo.init(staging, branch="main")
        for task in quickstart.tasks:
            _run_task(task, staging, quickstart.name)
    with console.step("Initialising DVC (local remote, tracked data)"):
        dvc_init(staging)
        add_default_remote(staging, "storage", remote)
        if quickstart.track:
            dvc_add(staging, list(quickstart.track))
    stages: tuple[StageCost, ...] = ()
    if train:
        with console.step("Training the baseline (dvc repro)") as detail:
            stages = measured_repro(staging, pull=False, on_line=detail)
    repo.add_all()
    commit = repo.commit(_commit_message(quickstart))
    repo.close()
    return commit, stages


def _publish(forge: Forge, path: Path, repo_name: str, envs: list[tuple[str, str]],
             record: RunRecord | None) -> tuple[list[str], list[str]]:
    with console.step(f"Publishing {repo_name} and its environment repositories"):
        remote = forge.create_repo(repo_name, description=f"ML project {repo_name}")
        created, reused = ensure_environments(forge, envs)
        repo = GitRepo.open(path)
        push_default_branch(forge, repo, remote, "main")
        protect(forge, repo_name, remote.default_branch)
        if record is not None:
            save_record(repo, record, push=True, env=forge.git_env())
        repo.close()
    with console.step("Pushing data and models to the DVC remote"):
        dvc_push(path, run_cache=True)
    return created, reused


def _check_forge_options(name: str, owner: str | None, dvc_remote: str | None) -> str:
    """The owner to use; a hosted forge (GitHub) needs an explicit owner and a DVC remote
    its CI can reach."""
    kind = kind_named(name)
    owner = owner or kind.DEFAULT_OWNER
    if not owner:
        raise UsageError(f"--forge {name} needs --owner: the {kind.TITLE} user or "
                         "organization that will own the repositories")
    if kind.HOSTED and not dvc_remote:
        raise UsageError(f"--forge {name} needs --dvc-remote URL: a DVC remote CI can reach "
                         "(s3://, gs://, azure://, ssh://...)")
    return owner


def _set_forge_url(config: Path, url: str) -> None:
    """Add ``forge.url`` (a GitHub Enterprise server) to a rendered mlops.yaml."""
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.rstrip() == "forge:":
            lines.insert(index + 1, f"  url: {url}\n")
            config.write_text("".join(lines), encoding="utf-8")
            return
    raise QuickstartError(f"{config}: no top-level 'forge:' section to add the url to")


def create_project(name: str, *, quickstart: str, directory: Path | None = None,
                   forge_kind: str = DEFAULT_FORGE, owner: str | None = None,
                   settings: Mapping[str, str] | None = None, dvc_remote: str | None = None,
                   train: bool = True, trust: bool = False, vcs_ref: str | None = None,
                   forge_url: str | None = None) -> CreatedProject:
    """Scaffold project ``name`` from ``quickstart`` and publish it on the forge.

    ``quickstart`` is a bundled name, a directory or a git URL (``vcs_ref`` picks its
    branch, tag or commit); quickstarts that are not bundled run code only with ``trust``.
    ``forge_kind`` names a forge of ``FORGES``; on a hosted one (GitHub, ``forge_url`` for
    GitHub Enterprise) ``owner`` and ``dvc_remote`` are required.
    Every check (name, forge options, target, variables, template, trust, packages,
    forge) happens before anything is written.
    """
    if not MODEL_NAME.match(name):
        raise QuickstartError(f"invalid project name {name!r}: use lowercase letters, digits "
                              "and dashes, at most 63 (it names the repository and the model)")
    reserved = sorted(set(settings or {}) & {"project_name", "owner", "forge_kind"})
    if reserved:
        flag = {"project_name": "NAME", "owner": "--owner", "forge_kind": "--forge"}
        raise QuickstartError(f"--set {reserved[0]}: give it as {flag[reserved[0]]}")
    owner = _check_forge_options(forge_kind, owner, dvc_remote)
    dest = (directory or Path.cwd() / name).resolve()
    _check_target(dest)
    with open_quickstart(quickstart, ref=vcs_ref, trust=trust) as qs:
        values = _variables(qs, settings or {}, {"project_name": name, "owner": owner,
                                                 "forge_kind": forge_kind})
        check_template(qs, values)
        _check_can_run(qs, train)
        repo_name = f"{values.get('owner', owner)}/{name}"
        forge = open_forge(ForgeConfig(kind=forge_kind, repo=repo_name, url=forge_url))
        if forge.find_repo(repo_name) is not None:
            raise ConflictError(f"repository {repo_name} already exists on the {forge.kind} "
                                "forge")
        remote = dvc_remote or str(jx_home() / "storage" / repo_name)
        commit, stages = _build_in_place(qs, dest, values, remote, train, forge_url)
    config = load_config(dest)
    envs = [(e.name, e.repo) for e in config.environments]
    record = make_record(commit, stages) if stages else None
    created, reused = _publish(forge, dest, repo_name, envs, record)
    return CreatedProject(dest, repo_name, qs.name, commit, tuple(created), tuple(reused), remote)


def _build_in_place(qs: Quickstart, dest: Path, values: Mapping[str, str], remote: str,
                    train: bool, forge_url: str | None) -> tuple[str, tuple[StageCost, ...]]:
    """Build in a hidden staging directory, then rename it to ``dest``; returns the commit
    and what training it cost."""
    staging = dest.parent / f".{dest.name}.jx-creating"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        commit, stages = _build(qs, staging, values, remote, train, forge_url)
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
    except BaseException:  # whatever stopped the build, leave no half-built project
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return commit, stages
