"""The environment every test runs in: its own HOME, JX_MLOPS_HOME and git identity."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_HOME = Path.home()
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.invalid",
}

# What a Jenkins X (Lighthouse) job sets: the suite must not mistake its own CI for an event
# (nor its Prometheus, JX_MLOPS_PROMETHEUS_URL, for the one a test's mlops.yaml names).
CI_VARIABLES = ("JOB_TYPE", "JOB_NAME", "JOB_SPEC", "BUILD_ID", "REPO_OWNER", "REPO_NAME",
                "PULL_NUMBER", "PULL_BASE_REF", "PULL_BASE_SHA", "PULL_PULL_SHA", "PULL_REFS",
                "PULL_HEAD_REF", "JX_MLOPS_RUN_URL", "JX_MLOPS_PROMETHEUS_URL")


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


def apply_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Drop every inherited git, DVC, GitHub and CI variable, then set ``env``."""
    for key in [k for k in os.environ if k.startswith(("GIT_", "DVC_", "GITHUB_", "GH_"))
                or k in CI_VARIABLES]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
