"""Bring a pull request up to date with its base, as GitHub's "Update branch" does.

`ci pr` trains what merging would produce, so a PR whose base moved first gets the base
merged in. Conflicts are of two kinds:

- in files the pipeline generates (dvc.lock and git-tracked stage outputs): any side will
  do, because `dvc repro` rewrites them next; the base's side is taken;
- in params files, resolved key by key: both sides changing *different* keys (adjacent
  lines, which git alone calls a conflict) merge cleanly; both changing the *same* key to
  different values is a conflict a person must resolve.

Any other conflict is a person's to resolve: nothing is merged, and the error names the
files (and keys).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from jx_mlops.errors import ConflictError, JxMlopsError
from jx_mlops.evaluation.dvcfiles import read_pipeline
from jx_mlops.evaluation.formats import read_values
from jx_mlops.git.repo import GitRepo
from jx_mlops.project.retrain import ParamSetting, apply_settings

_MISSING = object()


@dataclass(frozen=True)
class BranchUpdate:
    """What bringing the PR up to date did: ``commits`` of the base merged in (0: none),
    and which conflicted files were regenerated or merged key by key."""

    base: str
    commits: int
    regenerated: tuple[str, ...] = ()
    merged_params: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """The sentence the PR comment carries (empty when nothing was merged)."""
        if not self.commits:
            return ""
        plural = "commit" if self.commits == 1 else "commits"
        return f"Brought up to date with {self.base} ({self.commits} {plural})."


class MergeConflictError(ConflictError):
    """The base cannot be merged without a person: ``conflicts`` are ``file`` or
    ``file: key`` strings."""

    def __init__(self, base: str, conflicts: list[str]) -> None:
        super().__init__(f"cannot bring the PR up to date with {base}: both changed "
                         + ", ".join(conflicts) + "; merge it by hand")
        self.conflicts = tuple(conflicts)


def generated_files(repo: GitRepo, rev: str) -> set[str]:
    """dvc.lock and the git-tracked stage outputs of dvc.yaml at ``rev``."""
    pipeline = read_pipeline(repo, rev)
    files = {"dvc.lock", *pipeline.lockfiles()}
    files |= {out.path for out in pipeline.outputs if not out.cached}
    return {os.path.normpath(f) for f in files}


def _values(repo: GitRepo, rev: str, path: str) -> tuple[str, dict[str, Any]] | None:
    data = repo.read_blob(rev, path)
    if data is None:
        return None
    try:
        return data.decode("utf-8"), read_values(path, data)
    except ValueError:  # not UTF-8 (a ValueError too), not parsed, not a mapping
        return None


def merge_params(repo: GitRepo, path: str, ancestor: str, ours: str, theirs: str
                 ) -> tuple[str | None, list[str]]:
    """Merge the params file ``path`` key by key: (merged text, []) or (None, conflicts)."""
    sides = [_values(repo, rev, path) for rev in (ancestor, ours, theirs)]
    if any(side is None for side in sides):
        return None, [path]
    (_, old), (text, mine), (_, other) = (s for s in sides if s is not None)
    taken, conflicts = [], []
    for key in sorted(set(old) | set(mine) | set(other)):
        was, a, b = (d.get(key, _MISSING) for d in (old, mine, other))
        if b == was or a == b:
            continue
        if a != was:
            conflicts.append(f"{path}: {key}")
        elif b is _MISSING or a is _MISSING:
            conflicts.append(f"{path}: {key} (added or removed)")
        else:
            taken.append(ParamSetting(path, key, b, f"{key}={b}"))
    if conflicts:
        return None, conflicts
    try:
        return apply_settings(text, taken, path), []
    except JxMlopsError:
        return None, [path]


def _changed(repo: GitRepo, since: str, rev: str) -> set[str]:
    out = repo.run("diff", "--name-only", "--no-renames", since, rev)
    return {os.path.normpath(line) for line in out.splitlines() if line}


def _plan(repo: GitRepo, head: str, base_rev: str, conflicts: tuple[str, ...]
          ) -> tuple[list[str], dict[str, str]]:
    """Sort the files to resolve: generated ones (taken whole from the base, to be
    regenerated), params merged by key; raise for the rest.

    A generated file both sides changed is taken whole from the base even when git could
    merge it line by line: a dvc.lock stitched from two runs would claim a stage ran on
    inputs it never saw, and DVC would skip it.
    """
    ancestor = repo.merge_base(head, base_rev) or base_rev
    generated = generated_files(repo, head) | generated_files(repo, base_rev)
    both = _changed(repo, ancestor, head) & _changed(repo, ancestor, base_rev) & generated
    regenerated, merged, human = sorted(both), {}, []
    for path in sorted(set(conflicts)):
        if os.path.normpath(path) in generated:
            if os.path.normpath(path) not in both:
                regenerated.append(path)
            continue
        text, problems = merge_params(repo, path, ancestor, head, base_rev) \
            if path.endswith((".yaml", ".yml")) else (None, [path])
        if text is None:
            human += problems
        else:
            merged[path] = text
    if human:
        raise MergeConflictError(base_rev.removeprefix("origin/"), human)
    return sorted(regenerated), merged


def _take_base(repo: GitRepo, base_rev: str, path: str) -> None:
    if repo.read_blob(base_rev, path) is None:
        repo.run("rm", "-q", "-f", "--", path)
    else:
        repo.run("checkout", base_rev, "--", path)


def bring_up_to_date(repo: GitRepo, base: str, base_rev: str) -> BranchUpdate:
    """Merge ``base_rev`` into the checked-out PR branch (a merge commit, not pushed).

    Refuses with :class:`MergeConflictError` before touching the work tree when a
    conflict needs a person.
    """
    head = repo.head_sha()
    if repo.is_ancestor(base_rev, head):
        return BranchUpdate(base, 0)
    commits = int(repo.run("rev-list", "--count", f"{head}..{base_rev}"))
    result = repo.merge_tree(head, base_rev)
    regenerated, merged = _plan(repo, head, base_rev, result.conflicts)
    message = f"Merge {base} into the PR branch ({commits} commits), by jx-mlops ci pr"
    repo.run("merge", "--no-ff", "--no-commit", "-q", base_rev, check=False)
    for path in regenerated:
        _take_base(repo, base_rev, path)
    for path, text in merged.items():
        (repo.path / path).write_text(text, encoding="utf-8")
    repo.add(merged)
    repo.run("commit", "-q", "--no-verify", "-m", message)
    return BranchUpdate(base, commits, tuple(regenerated), tuple(merged))
