"""The models a repository declares: mlops.yaml ``models:`` and dvc.yaml ``artifacts:``.

DVC's ``artifacts:`` section (``dvc.yaml`` at any level of the repository) names each
artifact with its ``path`` and optional ``type``, ``desc``, ``labels`` and ``meta``; an
artifact declared in ``DIR/dvc.yaml`` has the full name ``DIR:NAME``, as in GTO and DVC.
Models that exist only as tags are found by the registry itself (``registry.read_state``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jx_mlops.errors import ConfigError
from jx_mlops.registry.tags import full_name
from jx_mlops.yamlio import safe_load


@dataclass(frozen=True)
class DeclaredArtifact:
    """One artifact a dvc.yaml declares."""

    name: str  # GTO's full name, DIR:NAME
    path: str
    type: str = ""
    desc: str = ""
    labels: tuple[str, ...] = ()


def _read_dvc_yaml(path: Path) -> dict[str, Any]:
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    return data if isinstance(data, dict) else {}


def _artifact(name: str, value: Any, where: str, directory: str) -> DeclaredArtifact:
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        raise ConfigError(f"{where}: artifacts.{name}: expected a mapping with a path")
    labels = value.get("labels") or []
    if not isinstance(labels, list):
        raise ConfigError(f"{where}: artifacts.{name}.labels: expected a list")
    return DeclaredArtifact(full_name(str(name), directory), value["path"],
                            str(value.get("type") or ""), str(value.get("desc") or ""),
                            tuple(str(label) for label in labels))


def dvc_artifacts(repo_root: Path, directory: str = "") -> list[DeclaredArtifact]:
    """The artifacts ``DIRECTORY/dvc.yaml`` declares (none when it has no such section)."""
    path = repo_root / directory / "dvc.yaml" if directory else repo_root / "dvc.yaml"
    section = _read_dvc_yaml(path).get("artifacts") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: artifacts: expected a mapping of name to artifact")
    return [_artifact(str(name), value, str(path), directory)
            for name, value in section.items()]
