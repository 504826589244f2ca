"""Quickstarts: definition, validation, variables and rendering into a new project directory.

A quickstart is a folder with ``quickstart.yaml`` (name, description, variables, required
packages, tasks, files to track with DVC) and a ``template/`` tree. Files ending in
``.tmpl`` get their ``{{ variable }}`` placeholders filled and lose the suffix; all others
are copied as they are, so DVC's own ``${...}`` templating in a dvc.yaml is never touched.

Files every bundled quickstart shares (the README, the pipeline helpers in ``src/kit``, CI
pipelines) live once in ``quickstarts/_shared/template/``: they are rendered first, and a
quickstart's own file of the same path wins. Folders whose name starts with ``_`` are not
quickstarts. Where a quickstart comes from (bundled, a directory, a git repository) is
:mod:`jx_mlops.quickstart_sources`' business.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from jx_mlops.errors import InputError, QuickstartError
from jx_mlops.fsutil import read_text_bounded
from jx_mlops.yamlio import safe_load, yaml_problem

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TEMPLATE_SUFFIX = ".tmpl"
SHARED = "_shared"
QUICKSTART_FILE = "quickstart.yaml"
QUICKSTART_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KEYS = ("version", "name", "description", "variables", "requires", "tasks", "track")
VARIABLE_KEYS = ("description", "default", "choices", "pattern")
# Filled by jx-mlops itself, whatever the quickstart declares (the last two: how CI
# installs jx-mlops, see project/install.py).
BUILTIN_VARIABLES = ("quickstart", "quickstart_description", "jx_mlops_source",
                     "jx_mlops_action")


@dataclass(frozen=True)
class Variable:
    """A template variable; ``default`` may itself use earlier variables."""

    name: str
    description: str
    default: str | None
    choices: tuple[str, ...] = ()
    pattern: str | None = None

    def check(self, value: str, quickstart: str) -> None:
        """A QuickstartError when ``value`` is not one of the choices or misses the pattern."""
        if self.choices and value not in self.choices:
            raise QuickstartError(f"quickstart {quickstart}: {self.name}={value!r}: expected "
                                  f"one of {', '.join(self.choices)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise QuickstartError(f"quickstart {quickstart}: {self.name}={value!r}: does not "
                                  f"match {self.pattern} ({self.description})")


@dataclass(frozen=True)
class Quickstart:
    """A loaded quickstart definition.

    ``source`` says where it came from (``bundled``, a directory, a git URL) and
    ``revision`` the commit for a git source; ``trusted`` quickstarts may run code (their
    ``tasks`` and pipeline) at ``create`` time: the bundled ones are, others only with
    ``--trust``.
    """

    name: str
    description: str
    path: Path
    variables: tuple[Variable, ...]
    tasks: tuple[str, ...]
    track: tuple[str, ...]
    requires: tuple[str, ...]
    source: str = "bundled"
    revision: str | None = None
    trusted: bool = True

    @property
    def template(self) -> Path:
        return self.path / "template"

    @property
    def layers(self) -> tuple[Path, ...]:
        """Template trees rendered in order: the shared one (if any), then this one's."""
        shared = self.path.parent / SHARED / "template"
        return (shared, self.template) if shared.is_dir() else (self.template,)

    def from_source(self, source: str, *, revision: str | None = None,
                    trusted: bool = False) -> Quickstart:
        """This quickstart, marked as loaded from ``source`` (untrusted by default)."""
        return replace(self, source=source, revision=revision, trusted=trusted)


def quickstarts_dir() -> Path:
    """The bundled quickstarts: inside the wheel, or the source checkout's quickstarts/."""
    package = Path(__file__).resolve().parents[1]  # jx_mlops/
    for candidate in (package / "_quickstarts", package.parent / "quickstarts"):
        if candidate.is_dir():
            return candidate
    raise QuickstartError("the bundled quickstarts are missing from this installation")


# -- quickstart.yaml ------------------------------------------------------------------------


def _str_list(data: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise QuickstartError(f"{where}: {key}: expected a list of strings")
    return tuple(value)


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise QuickstartError(f"{where}: expected a string, got {value!r}")
    return str(value).lower() if isinstance(value, bool) else str(value)


def _read_variable(name: Any, spec: Any, where: str) -> Variable:
    at = f"{where}: variables.{name}"
    if not isinstance(name, str) or not VARIABLE_NAME.match(name):
        raise QuickstartError(f"{at}: a variable name is letters, digits and underscores")
    spec = spec or {}
    if not isinstance(spec, dict):
        raise QuickstartError(f"{at}: expected a mapping ({', '.join(VARIABLE_KEYS)})")
    unknown = sorted(set(spec) - set(VARIABLE_KEYS))
    if unknown:
        raise QuickstartError(f"{at}.{unknown[0]}: unknown key (expected one of: "
                              f"{', '.join(VARIABLE_KEYS)})")
    choices = spec.get("choices") or []
    if not isinstance(choices, list):
        raise QuickstartError(f"{at}.choices: expected a list of values")
    pattern = spec.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise QuickstartError(f"{at}.pattern: not a regular expression: {exc}") from None
    default = spec.get("default")
    return Variable(name, " ".join(str(spec.get("description", "")).split()),
                    None if default is None else _scalar(default, f"{at}.default"),
                    tuple(_scalar(c, f"{at}.choices") for c in choices),
                    None if pattern is None else str(pattern))


def _read_definition(where: Path) -> dict[str, Any]:
    try:
        data = safe_load(read_text_bounded(where, root=where.parent, max_bytes=1024 * 1024))
    except FileNotFoundError:
        raise QuickstartError(f"{where.parent}: not a quickstart (no {QUICKSTART_FILE})") \
            from None
    except InputError as exc:
        raise QuickstartError(exc.message) from None
    except yaml.YAMLError as exc:
        raise QuickstartError(f"{where}: invalid YAML: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise QuickstartError(f"{where}: expected a mapping with name, description, variables")
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise QuickstartError(f"{where}: {unknown[0]}: unknown key (expected one of: "
                              f"{', '.join(KEYS)})")
    if data.get("version", 1) != 1:
        raise QuickstartError(f"{where}: version: expected 1, got {data['version']!r}")
    name = data.get("name")
    if not isinstance(name, str) or not QUICKSTART_NAME.match(name):
        raise QuickstartError(f"{where}: name: expected a lowercase name with dashes, "
                              f"got {name!r}")
    return data


def load_quickstart(path: Path) -> Quickstart:
    """Read and validate ``path/quickstart.yaml``; errors name the file and key."""
    where = path / QUICKSTART_FILE
    data = _read_definition(where)
    raw_vars = data.get("variables") or {}
    if not isinstance(raw_vars, dict):
        raise QuickstartError(f"{where}: variables: expected a mapping of name -> spec")
    variables = tuple(_read_variable(name, spec, str(where)) for name, spec in raw_vars.items())
    if not (path / "template").is_dir():
        raise QuickstartError(f"{path}: quickstart has no template/ directory")
    return Quickstart(
        name=data["name"], description=" ".join(str(data.get("description", "")).split()),
        path=path, variables=variables, tasks=_str_list(data, "tasks", str(where)),
        track=_str_list(data, "track", str(where)),
        requires=_str_list(data, "requires", str(where)),
    )


def list_quickstarts() -> list[Quickstart]:
    """Every bundled quickstart, by name."""
    base = quickstarts_dir()
    return [load_quickstart(p) for p in sorted(base.iterdir())
            if not p.name.startswith("_") and (p / QUICKSTART_FILE).is_file()]


def find_quickstart(name: str) -> Quickstart:
    """A bundled quickstart by name, or a local directory path (untrusted)."""
    local = Path(name).expanduser()
    if "/" in name or name.startswith("."):
        if not local.is_dir():
            raise QuickstartError(f"quickstart directory {name} does not exist")
        return load_quickstart(local.resolve()).from_source(str(local.resolve()))
    known = list_quickstarts()
    for quickstart in known:
        if quickstart.name == name:
            return quickstart
    names = ", ".join(q.name for q in known)
    raise QuickstartError(f"unknown quickstart {name!r} (available: {names}; "
                          "see `jx-mlops quickstart list`)")


# -- requirements -------------------------------------------------------------------------


def missing_requirements(quickstart: Quickstart) -> list[str]:
    """The ``requires`` entries this Python does not satisfy (its pipeline runs here)."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for text in quickstart.requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise QuickstartError(f"quickstart {quickstart.name}: requires: {text!r} is not "
                                  f"a package requirement ({exc})") from None
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(text)
            continue
        if requirement.specifier and not requirement.specifier.contains(installed,
                                                                          prereleases=True):
            missing.append(f"{text} (found {installed})")
    return missing


# -- variables and rendering ----------------------------------------------------------------


def substitute(text: str, values: Mapping[str, str], where: str) -> str:
    """Fill ``{{ name }}`` placeholders; an unknown name is an error naming ``where``."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise QuickstartError(f"{where}: unknown template variable {name!r}")
        return values[name]

    return PLACEHOLDER.sub(fill, text)


def resolve_variables(quickstart: Quickstart, given: Mapping[str, str]) -> dict[str, str]:
    """Given values plus defaults (in declaration order); unknown, missing or invalid
    values are errors."""
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
                                          f"{QUICKSTART_FILE} variables.{var.name}")
        else:
            raise QuickstartError(f"quickstart {quickstart.name} needs a value for "
                                  f"{var.name!r} ({var.description}); pass --set {var.name}=...")
        var.check(values[var.name], quickstart.name)
    return values


def _layer_bound(quickstart: Quickstart, layer: Path) -> Path:
    """The folder a layer's files must stay in: the quickstart's, or (for ``_shared``) the
    folder holding both, so a ``template`` or ``_shared`` that links elsewhere is refused."""
    root = quickstart.path.resolve()
    bound = root if layer == quickstart.template else root.parent
    _check_inside(quickstart, layer, bound)
    return bound


def _check_inside(quickstart: Quickstart, source: Path, bound: Path) -> None:
    # A link anywhere on the way could pull any file of this machine into the new repository.
    if not source.resolve().is_relative_to(bound):
        raise QuickstartError(f"quickstart {quickstart.name}: {source.name} leads outside the "
                              f"quickstart (to {source.resolve()}); templates hold plain "
                              "files only")


def _sources(quickstart: Quickstart) -> dict[Path, Path]:
    """Output path (relative to the project) -> template file; a later layer wins."""
    sources: dict[Path, Path] = {}
    for layer in quickstart.layers:
        bound = _layer_bound(quickstart, layer)
        for source in sorted(layer.rglob("*")):
            if "__pycache__" in source.parts or source.suffix == ".pyc":
                continue
            if source.is_symlink():
                # A link could pull any file of this machine into the new repository.
                raise QuickstartError(f"quickstart {quickstart.name}: "
                                      f"{source.relative_to(layer)} is a symbolic link; "
                                      "templates hold plain files only")
            _check_inside(quickstart, source, bound)
            if source.is_file():
                relative = source.relative_to(layer)
                sources[relative.with_name(relative.name.removesuffix(TEMPLATE_SUFFIX))] = source
    return sources


def check_template(quickstart: Quickstart, values: Mapping[str, str]) -> int:
    """Substitute every template file in memory (nothing written); returns the file count.

    Run before anything is created, so an unknown placeholder or a symbolic link is an
    error that leaves no trace.
    """
    sources = _sources(quickstart)
    filled = {**builtin_values(quickstart), **values}
    for relative, source in sources.items():
        if source.name.endswith(TEMPLATE_SUFFIX):
            substitute(source.read_text(encoding="utf-8"), filled, str(relative))
    return len(sources)


def builtin_values(quickstart: Quickstart) -> dict[str, str]:
    """Variables every template may use without declaring them."""
    from jx_mlops.project.install import install_values

    return {"quickstart": quickstart.name, "quickstart_description": quickstart.description,
            **install_values()}


def render(quickstart: Quickstart, dest: Path, values: Mapping[str, str]) -> list[Path]:
    """Render the template layers into ``dest`` (which must exist); returns files written."""
    filled = {**builtin_values(quickstart), **values}
    written = []
    for relative, source in sorted(_sources(quickstart).items()):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.name.endswith(TEMPLATE_SUFFIX):
            text = source.read_text(encoding="utf-8")
            target.write_text(substitute(text, filled, str(relative)), encoding="utf-8")
        else:
            shutil.copy2(source, target)
        written.append(target)
    return written
