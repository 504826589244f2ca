"""Quickstarts: discovery, variables and rendering into a new project directory.

A quickstart is a folder with ``quickstart.yaml`` (name, description, variables, tasks,
files to track with DVC) and a ``template/`` tree. Files ending in ``.tmpl`` get their
``{{ variable }}`` placeholders filled and lose the suffix; all others are copied as they
are, so DVC's own ``${...}`` templating in a dvc.yaml is never touched.

Files every bundled quickstart shares (CI pipelines, for instance) live once in
``quickstarts/_shared/template/``: they are rendered first, and a quickstart's own file of
the same path wins. Folders whose name starts with ``_`` are not quickstarts.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from jx_mlops.errors import QuickstartError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TEMPLATE_SUFFIX = ".tmpl"
SHARED = "_shared"


@dataclass(frozen=True)
class Variable:
    """A template variable; ``default`` may itself use earlier variables."""

    name: str
    description: str
    default: str | None


@dataclass(frozen=True)
class Quickstart:
    """A loaded quickstart definition."""

    name: str
    description: str
    path: Path
    variables: tuple[Variable, ...]
    tasks: tuple[str, ...]
    track: tuple[str, ...]
    requires: tuple[str, ...]

    @property
    def template(self) -> Path:
        return self.path / "template"

    @property
    def layers(self) -> tuple[Path, ...]:
        """Template trees rendered in order: the shared one (if any), then this one's."""
        shared = self.path.parent / SHARED / "template"
        return (shared, self.template) if shared.is_dir() else (self.template,)


def quickstarts_dir() -> Path:
    """The bundled quickstarts: inside the wheel, or the source checkout's quickstarts/."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_quickstarts", package.parent / "quickstarts"):
        if candidate.is_dir():
            return candidate
    raise QuickstartError("the bundled quickstarts are missing from this installation")


def _str_list(data: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise QuickstartError(f"{where}: {key}: expected a list of strings")
    return tuple(value)


def load_quickstart(path: Path) -> Quickstart:
    """Read ``path/quickstart.yaml``; errors name the file and key."""
    where = path / "quickstart.yaml"
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuickstartError(f"{path}: not a quickstart (no quickstart.yaml)") from None
    except yaml.YAMLError as exc:
        raise QuickstartError(f"{where}: invalid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise QuickstartError(f"{where}: name: expected the quickstart's name")
    variables = []
    raw_vars = data.get("variables") or {}
    if not isinstance(raw_vars, dict):
        raise QuickstartError(f"{where}: variables: expected a mapping of name -> spec")
    for name, spec in raw_vars.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise QuickstartError(f"{where}: variables.{name}: expected a mapping")
        default = spec.get("default")
        variables.append(Variable(str(name), str(spec.get("description", "")),
                                  None if default is None else str(default)))
    if not (path / "template").is_dir():
        raise QuickstartError(f"{path}: quickstart has no template/ directory")
    return Quickstart(
        name=data["name"], description=" ".join(str(data.get("description", "")).split()),
        path=path, variables=tuple(variables), tasks=_str_list(data, "tasks", str(where)),
        track=_str_list(data, "track", str(where)), requires=_str_list(data, "requires",
                                                                      str(where)),
    )


def list_quickstarts() -> list[Quickstart]:
    """Every bundled quickstart, by name."""
    base = quickstarts_dir()
    return [load_quickstart(p) for p in sorted(base.iterdir())
            if not p.name.startswith("_") and (p / "quickstart.yaml").is_file()]


def find_quickstart(name: str) -> Quickstart:
    """A bundled quickstart by name, or a local directory path."""
    local = Path(name).expanduser()
    if ("/" in name or name.startswith(".")) and local.is_dir():
        return load_quickstart(local.resolve())
    known = list_quickstarts()
    for quickstart in known:
        if quickstart.name == name:
            return quickstart
    names = ", ".join(q.name for q in known)
    raise QuickstartError(f"unknown quickstart {name!r} (available: {names}; "
                          "see `jx-mlops quickstart list`)")


def substitute(text: str, values: Mapping[str, str], where: str) -> str:
    """Fill ``{{ name }}`` placeholders; an unknown name is an error naming ``where``."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise QuickstartError(f"{where}: unknown template variable {name!r}")
        return values[name]

    return PLACEHOLDER.sub(fill, text)


def resolve_variables(quickstart: Quickstart, given: Mapping[str, str]) -> dict[str, str]:
    """Given values plus defaults (in declaration order); unknown or missing ones are errors."""
    declared = {v.name for v in quickstart.variables}
    unknown = sorted(set(given) - declared)
    if unknown:
        raise QuickstartError(
            f"quickstart {quickstart.name} has no variable {unknown[0]!r} "
            f"(variables: {', '.join(sorted(declared))})")
    values: dict[str, str] = {}
    for var in quickstart.variables:
        if var.name in given:
            values[var.name] = given[var.name]
        elif var.default is not None:
            values[var.name] = substitute(var.default, values,
                                          f"quickstart.yaml variables.{var.name}")
        else:
            raise QuickstartError(f"quickstart {quickstart.name} needs a value for "
                                  f"{var.name!r} ({var.description}); pass --set {var.name}=...")
    return values


def _sources(quickstart: Quickstart) -> dict[Path, Path]:
    """Output path (relative to the project) -> template file; a later layer wins."""
    sources: dict[Path, Path] = {}
    for layer in quickstart.layers:
        for source in sorted(layer.rglob("*")):
            if source.is_file() and "__pycache__" not in source.parts:
                relative = source.relative_to(layer)
                sources[relative.with_name(relative.name.removesuffix(TEMPLATE_SUFFIX))] = source
    return sources


def render(quickstart: Quickstart, dest: Path, values: Mapping[str, str]) -> list[Path]:
    """Render the template layers into ``dest`` (which must exist); returns files written."""
    written = []
    for relative, source in sorted(_sources(quickstart).items()):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.name.endswith(TEMPLATE_SUFFIX):
            text = source.read_text(encoding="utf-8")
            target.write_text(substitute(text, values, str(relative)), encoding="utf-8")
        else:
            shutil.copy2(source, target)
        written.append(target)
    return written
