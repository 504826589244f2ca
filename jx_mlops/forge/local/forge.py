"""The local forge: bare git repositories plus pull-request records in plain files.

Layout under ``$JX_MLOPS_HOME/forge`` (repositories: see :mod:`.repos`, rules and
checks: :mod:`.checks`)::

    repos/OWNER/NAME.forge/        the forge's records for that repository
        pulls/N.json               one pull request, its comments and labels
        open/N                     an index of the open pull requests

Records are replaced atomically (write a temporary file, fsync, rename), so a reader or a
killed writer never sees half a record, and two processes serialise on the lock file.
Merges are real git: a three-way ``merge-tree`` and a compare-and-swap ``update-ref``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from jx_mlops import console
from jx_mlops.errors import ConflictError, ForgeError, NotFoundError
from jx_mlops.forge.base import (
    REACTIONS,
    CheckConclusion,
    CheckRun,
    CheckStatus,
    Comment,
    CommitStatus,
    MergeMethod,
    Permission,
    PullRequest,
    PullState,
    Reaction,
    Repo,
    StatusState,
)
from jx_mlops.forge.local.checks import AccessRules, CommitChecks
from jx_mlops.forge.local.records import now_iso, read_record
from jx_mlops.forge.local.repos import RepoStore
from jx_mlops.fsutil import write_json_atomic
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import actor, commit_identity

_MERGE_ATTEMPTS = 5


class LocalForge:
    """A forge in a directory; the default, and what the demo and the tests run on.

    Pull requests, comments, labels and merges are its own; repositories, rules and checks
    are delegated to the stores it holds, which share one :class:`RepoStore`.
    """

    kind = "local"

    def __init__(self, root: Path, *, user: str | None = None) -> None:
        self.root = root
        self._user = user
        self._repos = RepoStore(root)
        self._rules = AccessRules(self._repos)
        self._checks = CommitChecks(self._repos)

    # -- identity -----------------------------------------------------------------------

    def user(self) -> str:
        return self._user or actor()

    def poster(self) -> str:
        """Comments are written as the acting user: on this forge, CI is whoever runs it."""
        return self.user()

    def git_env(self) -> dict[str, str]:
        return {}

    def _identity_env(self) -> dict[str, str]:
        return commit_identity(self.user())

    # -- repositories -------------------------------------------------------------------

    def find_repo(self, name: str) -> Repo | None:
        return self._repos.find(name)

    def get_repo(self, name: str) -> Repo:
        return self._repos.get(name)

    def create_repo(self, name: str, *, description: str = "", auto_init: bool = False,
                    default_branch: str = "main") -> Repo:
        return self._repos.create(name, description=description, auto_init=auto_init,
                                  identity=self._identity_env(), default_branch=default_branch)

    def list_repos(self) -> list[Repo]:
        return self._repos.all()

    # -- rules: permissions and branch protection ----------------------------------------

    def get_permission(self, repo: str, user: str) -> Permission:
        return self._rules.permission(repo, user)

    def set_permission(self, repo: str, user: str | None, permission: str) -> None:
        """Give ``user`` (None: everyone not listed) ``permission`` on ``repo``."""
        self._rules.set_permission(repo, user, permission)

    def required_checks(self, repo: str, branch: str) -> tuple[str, ...]:
        """The status contexts that must be ``success`` before merging into ``branch``."""
        return self._rules.required_checks(repo, branch)

    def set_required_checks(self, repo: str, branch: str, contexts: Sequence[str]) -> None:
        """Protect ``branch``: merging needs every context in ``contexts`` to pass."""
        self._rules.set_required_checks(repo, branch, contexts)

    # -- checks: commit statuses and check runs -------------------------------------------

    def set_status(self, repo: str, sha: str, *, state: StatusState, context: str,
                   description: str = "", target_url: str | None = None) -> CommitStatus:
        return self._checks.set_status(repo, sha, state=state, context=context,
                                       description=description, target_url=target_url)

    def get_statuses(self, repo: str, sha: str) -> list[CommitStatus]:
        return self._checks.statuses(repo, sha)

    def create_check_run(self, repo: str, sha: str, *, name: str, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "", details_url: str | None = None) -> CheckRun:
        return self._checks.create_check_run(repo, sha, name=name, status=status,
                                             conclusion=conclusion, title=title,
                                             summary=summary, details_url=details_url)

    def update_check_run(self, repo: str, check_run_id: int, *, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "") -> CheckRun:
        return self._checks.update_check_run(repo, check_run_id, status=status,
                                             conclusion=conclusion, title=title,
                                             summary=summary)

    # -- pull request records -----------------------------------------------------------

    def _pull_path(self, repo: str, number: int) -> Path:
        return self._repos.meta_dir(repo) / "pulls" / f"{number}.json"

    def _load_pull(self, repo: str, number: int) -> dict[str, Any]:
        path = self._pull_path(repo, number)
        try:
            return cast("dict[str, Any]", read_record(path))
        except FileNotFoundError:
            raise NotFoundError(f"pull request #{number} not found in {repo}") from None

    def _to_pull(self, repo: str, record: dict[str, Any], bare: GitRepo | None) -> PullRequest:
        head_sha = record["head_sha"]
        if record["state"] == "open" and bare is not None:
            head_sha = bare.ref_sha(f"refs/heads/{record['head']}") or head_sha
        return PullRequest(
            number=record["number"], title=record["title"], body=record["body"],
            base=record["base"], head=record["head"], head_sha=head_sha,
            state=cast(PullState, record["state"]), draft=record.get("draft", False),
            author=record["author"], created_at=record["created_at"],
            updated_at=record["updated_at"], url=f"local://{repo}/pull/{record['number']}",
            labels=tuple(record.get("labels", [])), merged_at=record.get("merged_at"),
            merge_commit_sha=record.get("merge_commit_sha"), merged_by=record.get("merged_by"),
        )

    def create_pull(self, repo: str, *, title: str, body: str, head: str, base: str,
                    draft: bool = False) -> PullRequest:
        bare = self._repos.bare(repo)
        head_sha = bare.ref_sha(f"refs/heads/{head}")
        if head_sha is None:
            raise NotFoundError(f"{repo}: head branch {head!r} does not exist (push it first)")
        if bare.ref_sha(f"refs/heads/{base}") is None:
            raise NotFoundError(f"{repo}: base branch {base!r} does not exist")
        if head == base:
            raise ForgeError(f"{repo}: a pull request needs two different branches, got {head!r}")
        with self._repos.locked(repo) as meta:
            for existing in self._open_records(repo, locked=True):
                if existing["head"] == head and existing["base"] == base:
                    raise ConflictError(
                        f"{repo}: a pull request for {head} -> {base} is already open "
                        f"(#{existing['number']})")
            state = read_record(meta / "state.json")
            number = state["next_pull"]
            now = now_iso()
            record = {"number": number, "title": title, "body": body, "head": head,
                      "base": base, "head_sha": head_sha, "state": "open", "draft": draft,
                      "author": self.user(), "created_at": now, "updated_at": now,
                      "labels": [], "comments": []}
            self._mark_open(repo, number)  # marker first: no open PR is ever unindexed
            write_json_atomic(self._pull_path(repo, number), record)
            state["next_pull"] = number + 1
            write_json_atomic(meta / "state.json", state)
        return self._to_pull(repo, record, bare)

    def _records(self, repo: str) -> list[dict[str, Any]]:
        pulls = self._repos.meta_dir(repo) / "pulls"
        if not pulls.is_dir():
            return []
        records = [cast("dict[str, Any]", read_record(p)) for p in pulls.glob("*.json")]
        return sorted(records, key=lambda r: int(r["number"]))

    # -- index of open pull requests ----------------------------------------------------
    # open/N (an empty file) for every open PR, so finding open PRs does not read every PR
    # the repository ever had. Markers are written before a PR opens and removed after it
    # closes, under the lock; a marker whose PR is not open (a crash in between) is skipped
    # by readers and pruned by the next writer. Repositories made before the index get it
    # built once, on first use.

    def _open_dir(self, repo: str) -> Path:
        return self._repos.meta_dir(repo) / "open"

    def _mark_open(self, repo: str, number: int) -> None:
        (self._open_dir(repo) / str(number)).touch()

    def _unmark_open(self, repo: str, number: int) -> None:
        (self._open_dir(repo) / str(number)).unlink(missing_ok=True)

    def _build_open_index(self, repo: str) -> None:
        """Create open/ from every record (caller holds the lock)."""
        markers = self._open_dir(repo)
        if markers.is_dir():
            return
        staging = markers.with_name(".open.building")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for record in self._records(repo):
            if record["state"] == "open":
                (staging / str(record["number"])).touch()
        staging.rename(markers)

    def _open_records(self, repo: str, *, locked: bool = False) -> list[dict[str, Any]]:
        """The open PRs' records, through the index (pruned of stale markers if ``locked``)."""
        if not self._open_dir(repo).is_dir():
            if locked:
                self._build_open_index(repo)
            else:
                with self._repos.locked(repo):
                    self._build_open_index(repo)
        records = []
        for marker in self._open_dir(repo).iterdir():
            if not marker.name.isdigit():
                continue
            try:
                record = cast("dict[str, Any]", read_record(self._pull_path(repo, int(
                    marker.name))))
            except FileNotFoundError:
                record = None
            if record is not None and record["state"] == "open":
                records.append(record)
            elif locked:
                marker.unlink(missing_ok=True)
        return sorted(records, key=lambda r: int(r["number"]))

    def get_pull(self, repo: str, number: int) -> PullRequest:
        bare = self._repos.bare(repo)
        return self._to_pull(repo, self._load_pull(repo, number), bare)

    def list_pulls(self, repo: str, *, state: str = "open", head: str | None = None,
                   base: str | None = None) -> list[PullRequest]:
        bare = self._repos.bare(repo)
        wanted = {"open": ("open",), "closed": ("closed", "merged"), "merged": ("merged",),
                  "all": ("open", "closed", "merged")}.get(state)
        if wanted is None:
            raise ForgeError(f"unknown pull request state {state!r} (open, closed, merged, all)")
        records = self._open_records(repo) if wanted == ("open",) else self._records(repo)
        return [self._to_pull(repo, r, bare) for r in records
                if r["state"] in wanted and (head is None or r["head"] == head)
                and (base is None or r["base"] == base)]

    def pulls_for_commit(self, repo: str, sha: str) -> list[PullRequest]:
        return [p for p in self.list_pulls(repo, state="all")
                if sha in (p.head_sha, p.merge_commit_sha)]

    def _mutate_pull(self, repo: str, number: int, change: Any) -> dict[str, Any]:
        with self._repos.locked(repo):
            record = self._load_pull(repo, number)
            change(record)
            record["updated_at"] = now_iso()
            write_json_atomic(self._pull_path(repo, number), record)
        return record

    def update_pull(self, repo: str, number: int, *, title: str | None = None,
                    body: str | None = None, state: str | None = None) -> PullRequest:
        if state not in (None, "open", "closed"):
            raise ForgeError(f"cannot set pull request state to {state!r} (open or closed)")

        def change(record: dict[str, Any]) -> None:
            if record["state"] == "merged" and state is not None:
                raise ConflictError(f"{repo}#{number} is merged; its state cannot change")
            for key, value in (("title", title), ("body", body), ("state", state)):
                if value is not None:
                    record[key] = value

        with self._repos.locked(repo):
            self._build_open_index(repo)
            record = self._load_pull(repo, number)
            change(record)
            record["updated_at"] = now_iso()
            if record["state"] == "open":
                self._mark_open(repo, number)
            write_json_atomic(self._pull_path(repo, number), record)
            if record["state"] != "open":
                self._unmark_open(repo, number)
        return self._to_pull(repo, record, self._repos.bare(repo))

    # -- merging ------------------------------------------------------------------------

    def merge_pull(self, repo: str, number: int, *, method: MergeMethod = "merge",
                   message: str | None = None) -> PullRequest:
        bare = self._repos.bare(repo)
        with self._repos.locked(repo):
            self._clear_stale_locks(repo)
            record = self._load_pull(repo, number)
            if record["state"] != "open":
                raise ConflictError(f"{repo}#{number} is {record['state']}, not open; "
                                    "only open pull requests can be merged")
            merge_sha = self._merge_commits(bare, repo, record, method, message)
            now = now_iso()
            record.update(state="merged", merged_at=now, updated_at=now, merged_by=self.user(),
                          merge_commit_sha=merge_sha,
                          head_sha=bare.ref_sha(f"refs/heads/{record['head']}")
                          or record["head_sha"])
            write_json_atomic(self._pull_path(repo, number), record)
            self._unmark_open(repo, number)
        return self._to_pull(repo, record, bare)

    def recover_locks(self, repo: str) -> bool:
        """Clear git locks a killed process left in ``repo``; True if there were any."""
        with self._repos.locked(repo):
            return self._clear_stale_locks(repo)

    def _clear_stale_locks(self, repo: str) -> bool:
        """Locks a killed merge left in the bare repository (caller holds the forge lock)."""
        from jx_mlops.git.locks import clear_stale_locks

        cleared = clear_stale_locks(self._repos.git_dir(repo))
        for lock in cleared:
            console.warn(f"removed {lock.name} left in {repo} by a process that died")
        return bool(cleared)

    def _merge_commits(self, bare: GitRepo, repo: str, record: dict[str, Any],
                       method: MergeMethod, message: str | None) -> str:
        head_ref, base_ref = f"refs/heads/{record['head']}", f"refs/heads/{record['base']}"
        for _attempt in range(_MERGE_ATTEMPTS):
            head = bare.ref_sha(head_ref)
            base = bare.ref_sha(base_ref)
            if head is None or base is None:
                missing = record["head"] if head is None else record["base"]
                raise ConflictError(f"{repo}#{record['number']}: branch {missing!r} is gone")
            merged = bare.merge_tree(base, head)
            if merged.conflicts:
                raise ConflictError(
                    f"{repo}#{record['number']} cannot be merged: conflicts in "
                    f"{', '.join(merged.conflicts)}", hint="rebase the head branch on the base")
            if method == "squash":
                text = message or f"{record['title']} (#{record['number']})"
                commit = bare.commit_tree(merged.tree, [base], text, self._identity_env())
            else:
                text = message or (f"Merge pull request #{record['number']} from "
                                   f"{record['head']}\n\n{record['title']}")
                commit = bare.commit_tree(merged.tree, [base, head], text, self._identity_env())
            try:
                bare.update_ref(base_ref, commit, base)
                return commit
            except ConflictError:
                continue  # someone pushed to the base meanwhile: merge again on top of it
        raise ConflictError(f"{repo}#{record['number']}: the base branch kept moving; "
                            "try the merge again")

    # -- comments -----------------------------------------------------------------------

    def _to_comment(self, data: dict[str, Any]) -> Comment:
        reactions = tuple(sorted(k for k, v in data.get("reactions", {}).items() if v))
        return Comment(id=data["id"], author=data["author"], body=data["body"],
                       created_at=data["created_at"], updated_at=data["updated_at"],
                       reactions=reactions)

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        self._repos.get(repo)
        return [self._to_comment(c) for c in self._load_pull(repo, number)["comments"]]

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        if not body.strip():  # as GitHub: "Body cannot be blank"
            raise ForgeError(f"{repo}#{number}: a comment body cannot be blank")
        with self._repos.locked(repo) as meta:
            record = self._load_pull(repo, number)
            state = read_record(meta / "state.json")
            now = now_iso()
            comment = {"id": state["next_comment"], "author": self.user(), "body": body,
                       "created_at": now, "updated_at": now}
            record["comments"].append(comment)
            record["updated_at"] = now
            state["next_comment"] += 1
            state["comment_pull"][str(comment["id"])] = number
            # Counter first: dying between the two writes burns an id, never reuses one.
            write_json_atomic(meta / "state.json", state)
            write_json_atomic(self._pull_path(repo, number), record)
        return self._to_comment(comment)

    def _comment_pull(self, repo: str, comment_id: int) -> int:
        state = read_record(self._repos.meta_dir(repo) / "state.json")
        number = state["comment_pull"].get(str(comment_id))
        if number is None:
            raise NotFoundError(f"comment {comment_id} not found in {repo}")
        return int(number)

    def update_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        updated: dict[str, Any] = {}

        def change(record: dict[str, Any]) -> None:
            for comment in record["comments"]:
                if comment["id"] == comment_id:
                    comment["body"] = body
                    comment["updated_at"] = now_iso()
                    updated.update(comment)
                    return
            raise NotFoundError(f"comment {comment_id} not found in {repo}")

        self._repos.get(repo)
        self._mutate_pull(repo, self._comment_pull(repo, comment_id), change)
        return self._to_comment(updated)

    def delete_comment(self, repo: str, comment_id: int) -> None:
        def change(record: dict[str, Any]) -> None:
            record["comments"] = [c for c in record["comments"] if c["id"] != comment_id]

        self._repos.get(repo)
        self._mutate_pull(repo, self._comment_pull(repo, comment_id), change)

    # -- labels -------------------------------------------------------------------------

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None:
        def change(record: dict[str, Any]) -> None:
            record["labels"] = sorted(set(record.get("labels", [])) | set(labels))

        self._mutate_pull(repo, number, change)

    def remove_label(self, repo: str, number: int, label: str) -> None:
        def change(record: dict[str, Any]) -> None:
            if label not in record.get("labels", []):
                raise NotFoundError(f"{repo}#{number} has no label {label!r}")
            record["labels"] = [x for x in record["labels"] if x != label]

        self._mutate_pull(repo, number, change)

    # -- reactions ----------------------------------------------------------------------

    def add_reaction(self, repo: str, comment_id: int, reaction: Reaction) -> None:
        if reaction not in REACTIONS:
            raise ForgeError(f"invalid reaction {reaction!r} ({', '.join(REACTIONS)})")
        user = self.user()

        def change(record: dict[str, Any]) -> None:
            for comment in record["comments"]:
                if comment["id"] == comment_id:
                    users = comment.setdefault("reactions", {}).setdefault(reaction, [])
                    if user not in users:
                        users.append(user)
                    return
            raise NotFoundError(f"comment {comment_id} not found in {repo}")

        self._repos.get(repo)
        self._mutate_pull(repo, self._comment_pull(repo, comment_id), change)

