"""Hermetic test fixtures: temp HOME and JX_MLOPS_HOME, fixed git identity, no network.

Projects are expensive to create (real `dvc repro`), so one is built per session and each
test gets its own copy of it: the project directory and the whole local forge are copied,
and the project's `origin` is pointed at the copied forge.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jx_mlops.cli.main import main

# GitHub fixtures (loopback server, forge-neutral harness) and the real Prometheus server
# live in their own modules.
pytest_plugins = ["github_fixtures", "prometheus_kit"]

REAL_HOME = Path.home()
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.invalid",
}


def hermetic_env(base: Path) -> dict[str, str]:
    """Environment that keeps git, DVC and jx-mlops inside ``base``."""
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n"
        "[advice]\n\tdetachedHead = false\n")
    return {
        "HOME": str(home),
        "JX_MLOPS_HOME": str(base / "jx-home"),
        "JX_MLOPS_USER": "tester",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(base / "dvc-site"),
        "DVC_GLOBAL_CONFIG_DIR": str(home / ".config" / "dvc"),
        "DVC_SYSTEM_CONFIG_DIR": str(base / "dvc-system"),
        "COLUMNS": "120",
        **IDENTITY,
    }


# What a Jenkins X (Lighthouse) job sets: the suite must not mistake its own CI for an event.
CI_VARIABLES = ("JOB_TYPE", "JOB_NAME", "JOB_SPEC", "BUILD_ID", "REPO_OWNER", "REPO_NAME",
                "PULL_NUMBER", "PULL_BASE_REF", "PULL_BASE_SHA", "PULL_PULL_SHA", "PULL_REFS",
                "PULL_HEAD_REF", "JX_MLOPS_RUN_URL")


def _apply(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(("GIT_", "DVC_", "GITHUB_", "GH_"))
                or k in CI_VARIABLES]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


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
    _apply(monkeypatch, hermetic_env(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@dataclass
class Result:
    """What a CLI run returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> object:
    """Run ``jx-mlops ARGS`` in-process; returns a Result."""
    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_cli_process(*args: str | Path, cwd: Path | None = None,
                    timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m jx_mlops ARGS`` as a separate process (real exit code, no capsys)."""
    return subprocess.run([sys.executable, "-m", "jx_mlops", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class Project:
    """A copy of the session's scaffolded project on its own copy of the local forge."""

    path: Path
    home: Path
    repo: str = "local/churn"


@pytest.fixture(scope="session")
def project_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Create one real project (quickstart render, dvc repro, push) for the session."""
    base = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as mp:
        _apply(mp, hermetic_env(base))
        mp.chdir(base)
        code = main(["-q", "create", "churn", "--quickstart", "sklearn-classifier",
                     "--dir", str(base / "churn")])
        assert code == 0
    return base


def clone_workspace(source: Path, dest: Path) -> Project:
    """Copy a workspace built under ``source`` (the project, its local forge and DVC
    storage, and any files beside them) into ``dest``, wired to the copies."""
    home = dest / "jx-home"
    shutil.rmtree(home, ignore_errors=True)
    for entry in source.iterdir():
        if entry.name in ("home", "dvc-site", "dvc-system"):
            continue  # each test has its own HOME and DVC site/system directories
        target = dest / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target)
    path = dest / "churn"
    bare = home / "forge" / "repos" / "local" / "churn.git"
    subprocess.run(["git", "-C", str(path), "remote", "set-url", "origin", bare.as_uri()],
                   check=True)
    # The DVC remote too (config.local, untracked): run-cache entries one test pushes must
    # not make another test's stages restore instead of run.
    (path / ".dvc" / "config.local").write_text(
        f'[\'remote "storage"\']\n    url = {home / "storage" / "local" / "churn"}\n')
    return Project(path=path, home=home)


@pytest.fixture
def project(project_template: Path, hermetic: Path) -> Project:
    """A fresh copy of the session project, wired to a fresh copy of its forge."""
    return clone_workspace(project_template, hermetic)


def build_workspace(tmp_path_factory: pytest.TempPathFactory, template: Path, name: str,
                    steps: Callable[[Project], None]) -> Path:
    """A copy of ``template`` changed by ``steps`` once, for several tests to copy again
    (``clone_workspace``): a PR trained once serves every test that reads it."""
    base = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        _apply(mp, hermetic_env(base))
        project = clone_workspace(template, base)
        mp.chdir(project.path)
        steps(project)
    return base


def git(path: Path, *args: str) -> str:
    """Run git in ``path`` and return its stdout."""
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True).stdout.strip()
