"""The models a repository declares, by GTO's full names, with or without mlops.yaml.

Two declarations, as GTO and DVC read them:

- every dvc.yaml's ``artifacts:`` below the DVC root, resolved as DVC resolves it
  (templated paths included, :mod:`jx_mlops.dvc.pipeline`); an artifact of
  ``DIR/dvc.yaml`` is ``DIR:NAME``, DIR relative to the top of the git repository, as
  DVC and Studio name it (``experiments:exp-model`` for a DVC root in ``experiments/``);
- GTO's own index, ``artifacts.yaml`` at the top of the repository (``INDEX`` in
  ``.gto``, or ``GTO_INDEX``), whose entries GTO lists even before any tag.

Models that exist only as tags are found by the registry itself (``registry.read_state``).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import replace
from pathlib import Path

from jx_mlops.dvc.pipeline import Artifact, read_artifacts
from jx_mlops.errors import ConfigError
from jx_mlops.evaluation.dvcfiles import read_pipeline
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import load_as_dvc

GTO_INDEX = "artifacts.yaml"


def index_file(repo_root: Path) -> str:
    """GTO's index: ``$GTO_INDEX``, else ``INDEX`` in ``.gto``, else artifacts.yaml."""
    if os.environ.get("GTO_INDEX"):
        return os.environ["GTO_INDEX"]
    config = repo_root / ".gto"
    if config.is_file():
        try:
            data = load_as_dvc(config.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("INDEX"), str):
            return str(data["INDEX"])
    return GTO_INDEX


def index_artifacts(repo: GitRepo, rev: str | None) -> tuple[Artifact, ...]:
    """The entries of GTO's index at ``rev`` (None: the work tree), paths relative to the
    top of the repository; ConfigError naming the file when GTO would refuse it."""
    name = index_file(repo.path)
    if rev is None:
        path = repo.path / name
        data = path.read_bytes() if path.is_file() else None
    else:
        data = repo.read_blob(rev, name)
    if data is None:
        return ()
    try:
        section = load_as_dvc(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: not valid YAML: {exc}") from None
    return tuple(replace(a, dvcfile=name) for a in read_artifacts(section, name, strict=True))


def declared_artifacts(repo: GitRepo, rev: str | None, dvc_root: str = "",
                       project: str | None = None) -> tuple[Artifact, ...]:
    """Every artifact dvc.yaml files and GTO's index declare at ``rev`` (None: the work
    tree), dvc.yaml's first, each name once; paths relative to ``project`` (the project's
    directory in the repository; default the DVC root). An index entry belongs to a
    project below the top only when its path is inside it."""
    base = dvc_root if project is None else project
    pipeline = read_pipeline(repo, rev, dvc_root)
    found = [replace(a, path=_relative(pipeline.git_path(a.path), base))
             for a in pipeline.artifacts]
    names = {a.name for a in found}
    found += [replace(a, path=_relative(a.path, base)) for a in index_artifacts(repo, rev)
              if a.name not in names and (not base or "://" in a.path
                                          or a.path.startswith(f"{base}/"))]
    return tuple(found)


def _relative(path: str, base: str) -> str:
    if "://" in path or not base:
        return path
    return posixpath.relpath(path, base)


def dvc_root_of(repo_root: Path, directory: Path) -> str:
    """The DVC root ``directory`` belongs to (the nearest ancestor holding ``.dvc``, as DVC
    finds it), relative to ``repo_root``; the top of the repository when there is none."""
    directory = directory.resolve()
    top = repo_root.resolve()
    for candidate in (directory, *directory.parents):
        if (candidate / ".dvc").is_dir():
            relative = os.path.relpath(candidate, top)
            return "" if relative == "." else relative.replace(os.sep, "/")
        if candidate == top:
            break
    return ""
