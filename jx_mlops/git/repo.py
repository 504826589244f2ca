"""The only module that runs git: a typed API over the git binary.

Everything returns plain strings or our own frozen dataclasses; git failures become
:class:`GitError` with git's own last line of explanation. Objects are read through one
long-lived ``git cat-file --batch`` per repository (:mod:`jx_mlops.git.process`), so looking
up a revision or a file costs no new process.
"""

from __future__ import annotations

import fnmatch
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from jx_mlops.errors import ConflictError, GitError
from jx_mlops.git.process import (
    WORK_TREE_COMMANDS,
    Completed,
    GitObject,
    ObjectReader,
    driver_settings,
    parse_tree,
    run_git,
)
from jx_mlops.git.values import CommitInfo, CommitMessage, MergeResult, TagInfo


def _identity_hint(message: str) -> str | None:
    if "Please tell me who you are" in message or "empty ident" in message or (
        "unable to auto-detect email" in message
    ):
        return 'set an identity: git config --global user.name "You"; ' \
               'git config --global user.email you@example.com'
    return None


def config_value(key: str, cwd: Path | None = None) -> str | None:
    """``git config --get KEY`` as git resolves it in ``cwd`` (the repository's config,
    then the global and system files); None when it is not set."""
    result = run_git(["config", "--get", key], cwd=cwd)
    return (result.text.strip() or None) if result.status == 0 else None


def _located(path: Path) -> tuple[Path, bool] | None:
    """(git directory, bare?) when ``path`` itself is a work tree's top or a git
    directory; None otherwise (a subdirectory of a work tree is not a repository here)."""
    if not path.is_dir():
        return None
    result = run_git(["rev-parse", "--absolute-git-dir", "--is-bare-repository",
                      "--show-prefix"], cwd=path)
    lines = result.text.splitlines()
    if result.status != 0 or len(lines) < 2:
        return None
    git_dir, bare = Path(lines[0]), lines[1] == "true"
    prefix = lines[2] if len(lines) > 2 else ""
    if bare:
        return (git_dir, True) if git_dir.resolve() == path.resolve() else None
    return (git_dir, False) if not prefix else None


class GitRepo:
    """A git repository (work tree or bare) seen through a narrow, typed API."""

    def __init__(self, path: Path, git_dir: Path, *, bare: bool) -> None:
        self._path = path
        self._git_dir = git_dir
        self._bare = bare
        self._objects = ObjectReader(path)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> GitRepo:
        """Open the repository at ``path`` (a work tree or a bare repository)."""
        located = _located(path)
        if located is None:
            raise GitError(f"not a git repository: {path}")
        git_dir, bare = located
        return cls(git_dir if bare else path.resolve(), git_dir, bare=bare)

    @classmethod
    def enclosing(cls, path: Path) -> tuple[GitRepo, str]:
        """The work tree holding ``path`` and ``path`` relative to its top ('' at the
        top): a project (a DVC root) may live in a sub-directory of its repository."""
        result = run_git(["rev-parse", "--show-toplevel", "--show-prefix"], cwd=path) \
            if path.is_dir() else None
        lines = result.text.splitlines() if result is not None and not result.status else []
        if not lines:
            raise GitError(f"not a git repository: {path}")
        prefix = lines[1].strip("/") if len(lines) > 1 else ""
        return cls.open(Path(lines[0])), prefix

    @classmethod
    def init(cls, path: Path, *, bare: bool = False, branch: str = "main") -> GitRepo:
        """Create a repository whose first branch is ``branch``."""
        path.mkdir(parents=True, exist_ok=True)
        result = run_git(["init", *(["--bare"] if bare else []), "-q", "-b", branch], cwd=path)
        if result.status:
            raise GitError(f"git init {path}: {result.explain()}")
        return cls.open(path)

    @classmethod
    def clone(cls, url: str, dest: Path, *, branch: str | None = None,
              depth: int | None = None, env: Mapping[str, str] | None = None) -> GitRepo:
        """Clone ``url`` into ``dest``; ``env`` carries credentials for this call only."""
        args = ["clone", "-q"]
        if branch:
            args += ["--branch", branch]
        if depth:
            args += ["--depth", str(depth)]
        result = run_git([*args, url, str(dest)], env=env)
        if result.status:
            raise GitError(f"git clone {url}: {result.explain()}")
        return cls.open(dest)

    # -- plumbing -----------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The work tree, or the git directory of a bare repository."""
        return self._path

    @property
    def git_dir(self) -> Path:
        return self._git_dir

    def _git(self, args: Sequence[str], *, data: bytes | None = None,
             env: Mapping[str, str] | None = None) -> Completed:
        # Commands that write or read work-tree files would run the clone's own filter
        # and merge drivers: those are switched off first (git/process.py).
        drivers = driver_settings(self._path) if not self._bare and args and \
            args[0] in WORK_TREE_COMMANDS else []
        return run_git(args, cwd=self._path, data=data, env=env, config=drivers)

    def run(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        """Run ``git ARGS`` here and return stdout (stripped of its final newline)."""
        result = self._git(args, env=env)
        if check and result.status:
            message = result.explain()
            raise GitError(f"git {args[0]}: {message}", hint=_identity_hint(message))
        return result.text.rstrip("\n")

    def close(self) -> None:
        """Stop the repository's object reader (started again if the repository is used)."""
        self._objects.close()

    # -- revisions and content ----------------------------------------------------------

    def try_rev_parse(self, rev: str) -> str | None:
        """The commit sha ``rev`` names, or None when it names nothing."""
        if not rev or rev.startswith("-"):
            return None
        found = self._objects.read(f"{rev}^{{commit}}")
        return found.sha if found is not None and found.kind == "commit" else None

    def read_object(self, spec: str) -> GitObject | None:
        """The object ``spec`` names (``SHA``, ``REV:PATH``...) as git stores it, or None."""
        return self._objects.read(spec)

    def parents(self, sha: str) -> tuple[str, ...]:
        """The parent commits of ``sha``."""
        commit = self._objects.read(f"{sha}^{{commit}}") if sha else None
        if commit is None:
            raise GitError(f"unknown revision {sha!r} in {self.path}")
        header = commit.data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
        return tuple(line.split()[1] for line in header.splitlines()
                     if line.startswith("parent "))

    def rev_parse(self, rev: str) -> str:
        """The commit sha ``rev`` names; GitError when it names nothing."""
        sha = self.try_rev_parse(rev)
        if sha is None:
            raise GitError(f"unknown revision {rev!r} in {self.path}")
        return sha

    def read_blob(self, rev: str, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``; None when the file is absent there."""
        commit = self.try_rev_parse(rev)
        if commit is None:
            raise GitError(f"unknown revision {rev!r} in {self.path}")
        found = self._objects.read(f"{commit}:{path}") if path.strip("/") else None
        return found.data if found is not None and found.kind == "blob" else None

    def tree_entries(self, spec: str) -> list[tuple[str, str, str]] | None:
        """(name, kind, sha) of each entry of the tree ``spec`` names (``SHA``,
        ``REV:DIR``, ``REV^{tree}``); kind is blob, tree or commit (a submodule). None
        when ``spec`` names no tree. Read through the object reader: no process."""
        found = self._objects.read(spec)
        if found is None or found.kind != "tree":
            return None
        return parse_tree(found.data)

    def tree_id(self, rev: str) -> str:
        """The sha of the root tree of commit ``rev``; GitError when it names none."""
        found = self._objects.read(f"{rev}^{{tree}}")
        if found is None or found.kind != "tree":
            raise GitError(f"unknown revision {rev!r} in {self.path}")
        return found.sha

    def blob_data(self, sha: str) -> bytes | None:
        """The bytes of blob ``sha``; None when it is not a blob here."""
        found = self._objects.read(sha)
        return found.data if found is not None and found.kind == "blob" else None

    def tree_files(self, tree: str) -> list[str]:
        """Every file path under tree ``tree`` (a tree sha or ``REV:DIR``), recursively,
        as one ``git ls-tree -r`` (fast on large trees)."""
        out = self._git(["ls-tree", "-r", "-z", "--name-only", tree])
        if out.status:
            raise GitError(f"git ls-tree {tree}: {out.explain()}")
        return [p for p in out.out.decode("utf-8", "surrogateescape").split("\0") if p]

    def list_tree(self, rev: str, directory: str) -> list[str]:
        """Names of the entries of ``directory`` at ``rev`` (empty when it is absent)."""
        out = self.run("ls-tree", "--name-only", f"{rev}:{directory}", check=False)
        return out.splitlines() if out and not out.startswith("fatal") else []

    def list_files(self, rev: str | None, pattern: str) -> list[str]:
        """Paths matching the glob ``pattern`` (``*`` crosses directories) at ``rev``; None
        means the work tree (tracked plus untracked, not ignored, files)."""
        if rev is None:
            out = self.run("ls-files", "-c", "-o", "--exclude-standard", "--", pattern)
        else:
            # ls-tree takes no wildcards: list the tree and match here.
            out = self.run("ls-tree", "-r", "--name-only", rev)
            out = "\n".join(fnmatch.filter(out.splitlines(), pattern))
        return sorted(set(out.splitlines()))

    def notes_show(self, ref: str, sha: str) -> str | None:
        """The note of commit ``sha`` under ``refs/notes/REF``, if it has one.

        Read from the notes tree (plain or fanned-out ``ab/cdef...`` paths) through the
        object reader, so looking up records costs no git process.
        """
        for path in (sha, f"{sha[:2]}/{sha[2:]}", f"{sha[:2]}/{sha[2:4]}/{sha[4:]}"):
            found = self._objects.read(f"refs/notes/{ref}:{path}")
            if found is not None and found.kind == "blob":
                return found.data.decode("utf-8", "replace").rstrip("\n")
        return None

    def notes_add(self, ref: str, rev: str, text: str) -> None:
        """Attach (or replace) the note of ``rev`` under ``refs/notes/REF``."""
        self.run("notes", f"--ref={ref}", "add", "-f", "-m", text, rev)

    def notes_merge(self, ref: str, other: str) -> None:
        """Merge notes ref ``other`` into ``refs/notes/REF`` (notes of different commits
        never conflict; for the same commit ours wins)."""
        self.run("notes", f"--ref={ref}", "merge", "-q", "-s", "ours", other)

    def log(self, rev: str, *, max_count: int = 50, paths: Sequence[str] = (),
            first_parent: bool = False) -> list[CommitInfo]:
        """Commits reachable from ``rev``, newest first."""
        args = ["log", f"--max-count={max_count}", "--format=%H%x00%P%x00%an%x00%ct%x00%s"]
        if first_parent:
            args.append("--first-parent")
        out = self.run(*args, rev, "--", *paths)
        commits = []
        for line in out.splitlines():
            sha, parents, author, ts, summary = line.split("\x00", 4)
            commits.append(CommitInfo(sha, summary, author, int(ts), tuple(parents.split())))
        return commits

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of ``a`` and ``b``, if they share history."""
        out = self.run("merge-base", a, b, check=False)
        return out.strip() if re.fullmatch(r"[0-9a-f]{40,64}", out.strip()) else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._git(["merge-base", "--is-ancestor", ancestor, descendant]).status == 0

    # -- work tree ----------------------------------------------------------------------

    def current_branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        out = self.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.strip() or None

    def head_sha(self) -> str:
        return self.rev_parse("HEAD")

    def dirty_paths(self) -> list[str]:
        """Tracked files with uncommitted changes (untracked files are ignored)."""
        out = self.run("status", "--porcelain", "--untracked-files=no")
        return [line[3:] for line in out.splitlines() if line.strip()]

    def add(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        if paths:
            self.run("add", "--", *paths)

    def add_all(self) -> None:
        self.run("add", "-A")

    def commit(self, message: str, *, allow_empty: bool = False) -> str:
        """Commit the index; returns the new sha."""
        self.run("commit", "-q", "-m", message, *(["--allow-empty"] if allow_empty else []))
        return self.head_sha()

    def has_staged_changes(self) -> bool:
        return bool(self.run("diff", "--cached", "--name-only"))

    def checkout(self, ref: str, *, new_branch: str | None = None) -> None:
        """Check out ``ref``; with ``new_branch``, (re)create that branch at ``ref``."""
        if new_branch:
            self.run("checkout", "-q", "-B", new_branch, ref)
        else:
            self.run("checkout", "-q", ref)

    # -- remotes ------------------------------------------------------------------------

    def remote_url(self, name: str = "origin") -> str | None:
        out = self.run("remote", "get-url", name, check=False)
        return out.strip() or None

    def set_remote(self, name: str, url: str) -> None:
        if self.remote_url(name) is None:
            self.run("remote", "add", name, url)
        else:
            self.run("remote", "set-url", name, url)

    def fetch(self, remote: str = "origin", refspecs: Sequence[str] = (), *,
              depth: int | None = None, tags: bool = False, prune: bool = False,
              env: Mapping[str, str] | None = None) -> None:
        args = ["fetch", "-q", remote, *refspecs]
        for flag, wanted in ((f"--depth={depth}", depth), ("--tags", tags), ("--prune", prune)):
            if wanted:
                args.insert(1, flag)
        self.run(*args, env=env)

    def push(self, remote: str, refspecs: Sequence[str], *, force: bool = False,
             env: Mapping[str, str] | None = None) -> None:
        """Push; a rejected non-fast-forward becomes ConflictError so callers can retry."""
        args = ["push", "-q", "--porcelain", remote, *refspecs]
        if force:
            args.insert(1, "--force")
        result = self._git(args, env=env)
        if not result.status:
            return
        # --porcelain says why a ref was refused on stdout ("!  SRC:DST  [rejected] (fetch
        # first)"); stderr's one line is only "failed to push some refs". Only git's own
        # "[rejected]" says the remote ref moved; "[remote rejected] (failed to update
        # ref)" is the remote refusing for its own reasons (a lock a killed run left, a
        # hook), a GitError its callers recover from.
        refused = [ln.split("\t")[-1] for ln in result.text.splitlines() if ln.startswith("!")]
        why = " ".join(refused) or result.explain()
        if any(summary.startswith("[rejected]") for summary in refused):
            raise ConflictError(f"push to {remote} rejected: {why}")
        raise GitError(f"git push: {result.explain()}" + (f" ({why})" if refused else ""))

    # -- refs, tags and plumbing (used by the registry and the local forge) ---------------

    def ref_sha(self, ref: str) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", ref, check=False)
        return out.strip() or None

    def update_ref(self, ref: str, new: str, old: str | None) -> None:
        """Move ``ref`` to ``new`` only if it still points at ``old`` (compare-and-swap)."""
        try:
            self.run("update-ref", ref, new, old or "0" * 40)
        except GitError as exc:
            raise ConflictError(f"{ref} moved while updating it: {exc.message}") from None

    def merge_tree(self, ours: str, theirs: str) -> MergeResult:
        """Three-way merge of two commits into a tree object, without a work tree."""
        result = self._git(["merge-tree", "--write-tree", "--name-only", "--no-messages",
                            ours, theirs])
        lines = result.text.splitlines()
        if result.status not in (0, 1) or not lines:
            raise GitError(f"git merge-tree: {result.explain()}")
        return MergeResult(tree=lines[0], conflicts=tuple(ln for ln in lines[1:] if ln))

    def commit_tree(self, tree: str, parents: Sequence[str], message: str,
                    env: Mapping[str, str] | None = None) -> str:
        """Create a commit object for ``tree`` (used for merges in bare repositories)."""
        args = ["commit-tree", tree, "-m", message]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, env=env).strip()

    def tags(self, pattern: str = "*", *more: str) -> list[TagInfo]:
        """Every tag matching ``pattern`` (or any of ``more``) with its target commit and
        annotation, in one call, in refname order."""
        fmt = "%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objectname)%00" \
              "%(taggername) %(taggeremail)%00%(taggerdate:unix)%00%(contents)%01"
        out = self.run("for-each-ref", f"--format={fmt}",
                       *(f"refs/tags/{p}" for p in (pattern, *more)))
        tags = []
        for record in out.split("\x01"):
            record = record.lstrip("\n")
            if not record:
                continue
            name, kind, obj, deref, tagger, ts, message = record.split("\x00", 6)
            annotated = kind == "tag"
            tags.append(TagInfo(name, deref if annotated else obj, annotated,
                                tagger.strip() if annotated else "",
                                int(ts) if ts.strip() else 0, message.strip(),
                                obj if annotated else ""))
        return tags

    def create_tag(self, name: str, rev: str, message: str, *, tagged_at: int | None = None,
                   identity: Mapping[str, str] | None = None) -> None:
        """Create annotated tag ``name`` at ``rev`` (dated ``tagged_at``, unix seconds),
        tagged by ``identity`` (GIT_COMMITTER_* variables) when given."""
        env = dict(identity or {})
        if tagged_at:
            env["GIT_COMMITTER_DATE"] = f"@{tagged_at} +0000"
        self.run("tag", "-a", name, rev, "-m", message, env=env or None)

    # -- object plumbing without a work tree (promotions build commits in a bare mirror) --

    def _git_input(self, args: Sequence[str], data: bytes,
                   env: Mapping[str, str] | None = None) -> bytes:
        """Run ``git ARGS`` with ``data`` on stdin; returns raw stdout."""
        result = self._git(args, data=data, env=env)
        if result.status:
            raise GitError(f"git {args[0]}: {result.explain()}")
        return result.out

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` as a blob object; returns its sha."""
        return self._git_input(["hash-object", "-w", "--stdin"], data).decode().strip()

    def commit_files(self, base: str, changes: Mapping[str, bytes | None], message: str, *,
                     env: Mapping[str, str] | None = None) -> str:
        """A commit on top of ``base`` whose tree is base's with ``changes`` applied.

        ``changes`` maps paths to new contents (None deletes the path). Uses a private
        index file, so it works in a bare repository and concurrently with other writers.
        """
        with tempfile.TemporaryDirectory(prefix="jx-index-") as tmp:
            index_env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.run("read-tree", f"{base}^{{tree}}", env=index_env)
            lines = []
            for path, data in changes.items():
                if data is None:
                    lines.append(f"0 {'0' * 40}\t{path}")
                else:
                    lines.append(f"100644 {self.write_blob(data)}\t{path}")
            self._git_input(["update-index", "--index-info"],
                            ("\n".join(lines) + "\n").encode(), index_env)
            tree = self._git_input(["write-tree"], b"", index_env).decode().strip()
        return self._git_input(["commit-tree", tree, "-p", base, "-F", "-"],
                               message.encode("utf-8"), env).decode().strip()

    def read_blobs(self, rev: str, paths: Sequence[str]) -> dict[str, bytes | None]:
        """The contents of many ``paths`` at ``rev`` in one ``git cat-file`` process."""
        if not paths:
            return {}
        request = "".join(f"{rev}:{path}\n" for path in paths).encode("utf-8")
        out = self._git_input(["cat-file", "--batch"], request)
        result: dict[str, bytes | None] = {}
        pos = 0
        for path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) != 3 or header[1] == b"missing":
                result[path] = None
                continue
            size = int(header[2])
            result[path] = out[pos:pos + size] if header[1] == b"blob" else None
            pos += size + 1
        return result

    def object_ids(self, specs: Sequence[str]) -> dict[str, str | None]:
        """The object id each ``REV:PATH`` (or any revision) names, None when missing."""
        if not specs:
            return {}
        out = self._git_input(["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                              "".join(f"{spec}\n" for spec in specs).encode("utf-8"))
        ids: dict[str, str | None] = {}
        for spec, line in zip(specs, out.decode().splitlines(), strict=True):
            parts = line.split()
            ids[spec] = parts[0] if len(parts) == 2 and parts[1] != "missing" else None
        return ids

    def log_messages(self, rev: str, *, grep: Sequence[str] = (), since: str | None = None,
                     max_count: int | None = None) -> list[CommitMessage]:
        """Commits reachable from ``rev`` (not from ``since``), newest first, with messages.

        ``grep`` keeps commits whose message matches every pattern (extended regexps).
        """
        args = ["log", "--format=%H%x00%P%x00%ct%x00%B%x01"]
        if grep:
            args += ["--all-match", "-E", *(f"--grep={pattern}" for pattern in grep)]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        args.append(f"{since}..{rev}" if since else rev)
        out = self.run(*args, "--")
        commits = []
        for record in out.split("\x01"):
            record = record.lstrip("\n")
            if not record:
                continue
            sha, parents, ts, message = record.split("\x00", 3)
            commits.append(CommitMessage(sha, tuple(parents.split()), int(ts), message))
        return commits
