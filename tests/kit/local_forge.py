"""A repository on the local forge with branches pushed to it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from jx_mlops.forge.local.forge import LocalForge
from kit.git import git

REPO = "acme/app"


def push_branch(forge: LocalForge, tmp_path: Path, branch: str, files: dict[str, str],
                base: str = "main") -> str:
    """Commit ``files`` on ``branch`` (from ``base``) and push it; returns the sha."""
    work = tmp_path / f"work-{branch.replace('/', '-')}"
    if not work.exists():
        subprocess.run(["git", "clone", "-q", forge.get_repo(REPO).clone_url, str(work)],
                       check=True)
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-B", branch, f"origin/{base}")
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", f"change {branch}")
    git(work, "push", "-q", "origin", f"{branch}:refs/heads/{branch}")
    return git(work, "rev-parse", "HEAD")
