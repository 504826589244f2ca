"""Which models a directory sees, and their versions, with or without mlops.yaml.

Every artifact is a model: those mlops.yaml lists, those dvc.yaml ``artifacts:``
declares, and those that exist only as GTO tags. In a project (mlops.yaml found at or
above the directory) the project's models come first and a short name means the
project's ``DIR:NAME``; in any other git repository, every artifact of the registry is
listed, as ``gto show`` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from jx_mlops.config.project import CONFIG_FILE, ProjectConfig, load_config
from jx_mlops.dvc.pipeline import Artifact
from jx_mlops.errors import RegistryError
from jx_mlops.git.repo import GitRepo
from jx_mlops.registry.declared import declared_artifacts, dvc_root_of
from jx_mlops.registry.state import RegistryState
from jx_mlops.registry.tags import ModelVersion, full_name, read_state, versions_of


@dataclass(frozen=True)
class RegistryScope:
    """A git repository seen from one directory: the project there, if any."""

    repo_root: Path
    directory: str  # the project's directory inside the repository ('' at the top)
    config: ProjectConfig | None
    declared: tuple[Artifact, ...] = ()  # named DIR:NAME, as GTO names them

    def declared_names(self) -> list[str]:
        names = [m.registry_name or full_name(m.name, self.directory)
                 for m in self.config.models] if self.config else []
        return names + [a.name for a in self.declared if a.name not in names]


def find_repo_root(start: Path) -> Path:
    """The work tree holding ``start``; RegistryError outside any git repository."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    raise RegistryError(f"{start} is not inside a git repository",
                        hint="run in a clone of the repository whose tags hold the registry")


def open_scope(start: Path) -> RegistryScope:
    """The scope of ``start``: its repository, and the project (mlops.yaml) around it."""
    root = find_repo_root(start)
    config = None
    for candidate in (start.resolve(), *start.resolve().parents):
        if (candidate / CONFIG_FILE).is_file():
            config = load_config(candidate)
            break
        if candidate == root:
            break
    directory = "" if config is None else os.path.relpath(config.root, root)
    directory = "" if directory == "." else directory.replace(os.sep, "/")
    repo = GitRepo.open(root)
    try:
        declared = declared_artifacts(repo, None, dvc_root_of(root, config.root if config
                                                               else start), directory)
    finally:
        repo.close()
    return RegistryScope(root, directory, config, declared)


def known_models(scope: RegistryScope, state: RegistryState) -> list[str]:
    """Every model the scope sees: declared ones first, then those known from tags."""
    names = scope.declared_names()
    prefix = f"{scope.directory}:" if scope.directory else ""
    tagged = sorted(n for n in state.artifacts if n.startswith(prefix) and n not in names)
    return names + tagged


def resolve_model(scope: RegistryScope, state: RegistryState, name: str) -> str:
    """The full name ``name`` means here; RegistryError naming the known models."""
    known = known_models(scope, state)
    for candidate in (full_name(name, scope.directory), name):
        if candidate in known:
            return candidate
    listed = ", ".join(known) or "none"
    raise RegistryError(f"no model named {name!r} in {scope.repo_root} (models: {listed})",
                        hint="a model is listed in mlops.yaml or dvc.yaml, or has GTO tags")


def newest_first(versions: list[ModelVersion]) -> list[ModelVersion]:
    """By model, then each model's versions newest first, as ``gto show MODEL`` lists them."""
    by_model = sorted(versions, key=lambda v: v.key, reverse=True)
    return sorted(by_model, key=lambda v: v.model)


def collect_versions(start: Path, model: str | None = None) -> list[ModelVersion]:
    """The versions ``gto show`` lists (of ``model``, or of every model seen from
    ``start``), each with the stages it is in now, newest first."""
    scope = open_scope(start)
    repo = GitRepo.open(scope.repo_root)
    try:
        state = read_state(repo)
        names = [resolve_model(scope, state, model)] if model else known_models(scope, state)
        wanted = set(names)
        found = [v for v in versions_of(state, unregistered=True) if v.model in wanted]
    finally:
        repo.close()
    return newest_first(found)
