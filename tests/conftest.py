"""Fixtures only; the helpers are in the kit package (tests/kit).

Every test is hermetic: temp HOME and JX_MLOPS_HOME, fixed git identity, no network. A test
that uses the session's trained project (``project_template``) is marked ``slow``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kit.cli import Result
from kit.hermetic import REAL_HOME, apply_env, hermetic_env
from kit.lab import ENVIRONMENTS, Lab, make_lab
from kit.workspace import Project, build_once, clone_workspace

from jx_mlops.cli.main import main
from jx_mlops.fsutil import jx_home

# GitHub fixtures (loopback server, forge-neutral harness) and the real Prometheus server.
pytest_plugins = ["kit.github", "kit.prometheus"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whatever trains the session's quickstart project is slow, wherever it is."""
    for item in items:
        if "project_template" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def real_home_untouched() -> Iterator[None]:
    """Fail loudly if anything wrote jx-mlops state into the real home directory."""
    target = REAL_HOME / ".jx-mlops"
    existed = target.exists()
    yield
    assert existed or not target.exists(), f"a test wrote to the real {target}"


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test: its own HOME, JX_MLOPS_HOME and git identity; cwd is tmp_path."""
    apply_env(monkeypatch, hermetic_env(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``jx-mlops ARGS`` in-process; returns a Result."""
    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Create one real project (quickstart render, dvc repro, push) for the session: once
    for all xdist workers (``build_once``)."""
    def create(base: Path) -> None:
        with pytest.MonkeyPatch.context() as mp:
            apply_env(mp, hermetic_env(base))
            mp.chdir(base)
            code = main(["-q", "create", "churn", "--quickstart", "sklearn-classifier",
                         "--dir", str(base / "churn")])
            assert code == 0

    return build_once(tmp_path_factory, "template", create)


@pytest.fixture
def project(project_template: Path, hermetic: Path) -> Project:
    """A fresh copy of the session project, wired to a fresh copy of its forge."""
    return clone_workspace(project_template, hermetic)


@pytest.fixture
def lab_environments() -> str:
    """The environments block of the ``lab`` project's mlops.yaml (a module may override
    this fixture)."""
    return ENVIRONMENTS


@pytest.fixture
def lab(hermetic: Path, monkeypatch: pytest.MonkeyPatch, lab_environments: str) -> Lab:
    """A synthetic project published on the local forge with its environments (no `dvc
    repro`, no model version yet); cwd is the project."""
    made = make_lab(hermetic, jx_home(), environments=lab_environments)
    monkeypatch.chdir(made.path)
    return made
