"""The models a repository declares in dvc.yaml ``artifacts:``, by GTO's full names.

DVC's ``artifacts:`` section (``dvc.yaml`` at any level of the repository) names each
artifact with its ``path`` and optional ``type``, ``desc``, ``labels`` and ``meta``; an
artifact declared in ``DIR/dvc.yaml`` has the full name ``DIR:NAME``, as in GTO and DVC.
The section is parsed by ``dvc.pipeline`` (strictly: a malformed entry is an error naming
the file and key). Models that exist only as tags are found by the registry itself
(``registry.read_state``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from jx_mlops.dvc.pipeline import Artifact, load_spec, read_artifacts
from jx_mlops.errors import ConfigError
from jx_mlops.registry.tags import full_name


def declared_in(text: str, where: str, directory: str = "") -> list[Artifact]:
    """The artifacts the dvc.yaml ``text`` of ``directory`` declares, named ``DIR:NAME``."""
    section = load_spec(text, where).get("artifacts")
    return [replace(artifact, name=full_name(artifact.name, directory))
            for artifact in read_artifacts(section, where, strict=True)]


def dvc_artifacts(repo_root: Path, directory: str = "") -> list[Artifact]:
    """The artifacts ``DIRECTORY/dvc.yaml`` of the work tree declares (none without one)."""
    path = repo_root / directory / "dvc.yaml" if directory else repo_root / "dvc.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    return declared_in(text, str(path), directory)
