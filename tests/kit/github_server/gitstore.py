"""Bare git repositories behind the loopback GitHub: branches, commits, real merges."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_IDENTITY = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.invalid",
             "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.invalid"}


def _git(git_dir: Path, *args: str, check: bool = True,
         input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(_IDENTITY, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True,
                          text=True, check=check, env=env, input=input_text)


class GitStore:
    """One directory of bare repositories, ``OWNER/NAME.git``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, full_name: str) -> Path:
        return self.root / f"{full_name}.git"

    def create(self, full_name: str, *, readme: str | None) -> None:
        path = self.path(full_name)
        path.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True,
                       capture_output=True)
        # What the smart-HTTP backend needs to accept pushes.
        _git(path, "config", "http.receivepack", "true")
        _git(path, "config", "uploadpack.allowAnySHA1InWant", "true")
        if readme is not None:
            blob = _git(path, "hash-object", "-w", "--stdin", input_text=readme).stdout.strip()
            tree = _git(path, "mktree", input_text=f"100644 blob {blob}\tREADME.md\n"
                        ).stdout.strip()
            commit = _git(path, "commit-tree", tree, "-m", "Initial commit").stdout.strip()
            _git(path, "update-ref", "refs/heads/main", commit)

    def branches(self, full_name: str) -> list[str]:
        out = _git(self.path(full_name), "for-each-ref", "--format=%(refname:short)",
                   "refs/heads/").stdout
        return out.split()

    def default_branch(self, full_name: str) -> str:
        """The repository's HEAD: main, or the first branch pushed into it empty."""
        return _git(self.path(full_name), "symbolic-ref", "--short", "HEAD").stdout.strip()

    def set_default_branch(self, full_name: str, branch: str) -> None:
        _git(self.path(full_name), "symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def branch_sha(self, full_name: str, branch: str) -> str | None:
        out = _git(self.path(full_name), "rev-parse", "--verify", "--quiet",
                   f"refs/heads/{branch}", check=False)
        return out.stdout.strip() or None

    def has_commit(self, full_name: str, sha: str) -> bool:
        return _git(self.path(full_name), "cat-file", "-e", f"{sha}^{{commit}}",
                    check=False).returncode == 0

    def set_ref(self, full_name: str, ref: str, sha: str) -> None:
        _git(self.path(full_name), "update-ref", ref, sha)

    def merge(self, full_name: str, base: str, head_sha: str, message: str,
              squash: bool) -> str | None:
        """Merge ``head_sha`` into branch ``base``; the new sha, or None on conflicts."""
        path = self.path(full_name)
        base_sha = self.branch_sha(full_name, base)
        assert base_sha is not None
        merged = _git(path, "merge-tree", "--write-tree", base_sha, head_sha, check=False)
        if merged.returncode != 0:
            return None
        tree = merged.stdout.splitlines()[0]
        parents = ["-p", base_sha] + ([] if squash else ["-p", head_sha])
        commit = _git(path, "commit-tree", tree, *parents, "-m", message).stdout.strip()
        _git(path, "update-ref", f"refs/heads/{base}", commit, base_sha)
        return commit
