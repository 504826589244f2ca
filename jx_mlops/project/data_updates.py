"""`jx-mlops retrain --if-data-changed`: a retrain PR when DVC-imported data changed upstream.

Dependabot for data. For every ``dvc import``/``import-url`` .dvc file of the project:

1. ``dvc update --no-download``: DVC compares the source's revision (or the URL's
   checksum) with the one recorded, and downloads nothing. Unchanged: stop here.
2. ``dvc update``: fetch the new data, so its hash is known. A source that moved without
   changing the bytes (another file changed upstream) is not a data change: restore.
3. Otherwise commit the updated .dvc files on ``retrain/data-<hash>``, push, and open a
   pull request whose body is the data diff; CI trains it like any other PR. The branch
   is named after the new data, so a second run finds the open PR instead of opening
   another.

The work tree is restored whenever no pull request results, and on any failure.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from jx_mlops import console
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.commands import checkout as dvc_checkout
from jx_mlops.dvc.commands import update as dvc_update
from jx_mlops.dvc.lockfile import ImportInfo, parse_import
from jx_mlops.errors import GitError, JxMlopsError
from jx_mlops.forge.base import Forge, PullRequest
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo

LABELS = ("retrain", "data")


@dataclass(frozen=True)
class DataChange:
    """One import before and after the update."""

    before: ImportInfo
    after: ImportInfo

    @property
    def data_changed(self) -> bool:
        return self.before.md5 != self.after.md5


@dataclass(frozen=True)
class DataUpdate:
    """What the check found and did; ``pull`` is None when no pull request was needed."""

    imports: tuple[ImportInfo, ...]
    changes: tuple[DataChange, ...]
    pull: PullRequest | None
    reused: bool
    reason: str


def find_imports(repo: GitRepo) -> list[ImportInfo]:
    """Every tracked .dvc file that imports data (``dvc add`` files are not imports)."""
    imports = []
    for name in repo.run("ls-files", "--", "*.dvc").splitlines():
        text = (repo.path / name).read_text(encoding="utf-8")
        found = parse_import(text, name)
        if found is not None:
            imports.append(found)
    return imports


def _read(repo: GitRepo, imports: list[ImportInfo]) -> list[ImportInfo]:
    return [parse_import((repo.path / i.dvc_file).read_text(encoding="utf-8"),
                             i.dvc_file) or i for i in imports]


def _restore(repo: GitRepo, files: list[str], config: ProjectConfig) -> None:
    repo.run("checkout", "--", *files)
    # The old data may never have been pulled here: then there is nothing to put back.
    with contextlib.suppress(JxMlopsError):
        dvc_checkout(config.root, files)


def _short(value: str | None) -> str:
    return f"`{value[:12]}`" if value else "—"


def _describe(change: DataChange) -> str:
    b, a = change.before, change.after
    source = f"{b.source} `{b.source_path}`" if b.source_path else b.source
    size = f"{b.size if b.size is not None else '?'} → {a.size if a.size is not None else '?'}"
    return (f"| `{b.path}` | {source} | {_short(b.rev_lock or b.checksum)} → "
            f"{_short(a.rev_lock or a.checksum)} | {_short(b.md5)} → {_short(a.md5)} | "
            f"{size} |")


def pull_body(changes: list[DataChange]) -> str:
    """The data diff a retrain pull request carries."""
    lines = ["Data imported with DVC changed upstream, so this pull request updates it and "
             "retrains.", "",
             "| Data | Source | Revision | md5 | Size (bytes) |", "|:--|:--|:--|:--|--:|",
             *(_describe(c) for c in changes), "",
             "CI trains this branch (`jx-mlops ci pr`) and posts the evaluation. Opened by "
             "`jx-mlops retrain --if-data-changed`."]
    return "\n".join(lines) + "\n"


def _branch(changes: list[DataChange]) -> str:
    digest = hashlib.sha256("".join(f"{c.after.path}:{c.after.md5}" for c in changes)
                            .encode()).hexdigest()
    return f"retrain/data-{digest[:10]}"


def _open_pull(config: ProjectConfig, repo: GitRepo, forge: Forge, changes: list[DataChange],
               base: str) -> tuple[PullRequest, bool]:
    branch = _branch(changes)
    existing = forge.list_pulls(config.forge.repo, head=branch)
    if existing:
        return existing[0], True
    repo.checkout("HEAD", new_branch=branch)
    repo.add(c.after.dvc_file for c in changes)
    paths = ", ".join(c.after.path for c in changes)
    repo.commit(f"retrain: update imported data ({paths})")
    with console.step(f"Pushing {branch} and opening a pull request"):
        repo.push("origin", [f"{branch}:refs/heads/{branch}"], env=forge.git_env())
        pull = forge.create_pull(config.forge.repo, title=f"retrain: imported data changed "
                                 f"({paths})", body=pull_body(changes), head=branch, base=base)
        forge.add_labels(config.forge.repo, pull.number, list(LABELS))
    return forge.get_pull(config.forge.repo, pull.number), False


def retrain_if_data_changed(config: ProjectConfig) -> DataUpdate:
    """Open a retrain pull request when imported data changed upstream."""
    repo = GitRepo.open(config.root)
    try:
        dirty = repo.dirty_paths()
        if dirty:
            raise GitError(f"uncommitted changes in {', '.join(dirty[:3])}; commit or stash "
                           "them first")
        imports = find_imports(repo)
        if not imports:
            return DataUpdate((), (), None, False, "no DVC imports in this project")
        return _check(config, repo, imports)
    finally:
        repo.close()


def _check(config: ProjectConfig, repo: GitRepo, imports: list[ImportInfo]) -> DataUpdate:
    files = [i.dvc_file for i in imports]
    forge = open_forge(config.forge)
    base = forge.get_repo(config.forge.repo).default_branch
    try:
        with console.step("Asking the sources of imported data (dvc update --no-download)"):
            dvc_update(config.root, files, download=False)
        moved = [i for i, after in zip(imports, _read(repo, imports), strict=True) if after != i]
        if not moved:
            return DataUpdate(tuple(imports), (), None, False, "imported data is up to date")
        repo.run("checkout", "--", *files)
        with console.step("Fetching the new data (dvc update)"):
            dvc_update(config.root, [i.dvc_file for i in moved])
        changes = [DataChange(b, a) for b, a in zip(moved, _read(repo, moved), strict=True)]
        changed = [c for c in changes if c.data_changed]
        if not changed:
            _restore(repo, files, config)
            return DataUpdate(tuple(imports), tuple(changes), None, False,
                              "the sources moved but the imported data is identical")
        unchanged = [c.after.dvc_file for c in changes if not c.data_changed]
        if unchanged:
            _restore(repo, unchanged, config)
        pull, reused = _open_pull(config, repo, forge, changed, base)
        if reused:
            _restore(repo, files, config)
        return DataUpdate(tuple(imports), tuple(changed), pull, reused,
                          "imported data changed upstream")
    except BaseException:
        if repo.dirty_paths():
            _restore(repo, files, config)
        raise
