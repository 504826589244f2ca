"""The Forge protocol and the value objects every forge returns.

A forge is where repositories, pull requests, comments, labels and commit statuses live:
the embedded local forge (``forge.local``) or GitHub. Callers never see library objects or
raw JSON, only these frozen dataclasses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

PullState = Literal["open", "closed", "merged"]
# GitHub's collaborator permission levels, weakest first.
Permission = Literal["none", "read", "triage", "write", "maintain", "admin"]
PERMISSIONS: tuple[Permission, ...] = ("none", "read", "triage", "write", "maintain", "admin")


def can_write(permission: str) -> bool:
    """Whether a permission level may push, merge, promote (write, maintain or admin)."""
    return permission in ("write", "maintain", "admin")


StatusState = Literal["pending", "success", "failure", "error"]
MergeMethod = Literal["merge", "squash"]
# Check runs (GitHub's Checks API): a status with a rich summary on the PR's checks tab.
CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal["success", "failure", "neutral", "cancelled", "skipped",
                          "timed_out", "action_required"]
# The reactions GitHub accepts on a comment.
Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]
REACTIONS: tuple[Reaction, ...] = ("+1", "-1", "laugh", "confused", "heart", "hooray",
                                   "rocket", "eyes")


@dataclass(frozen=True)
class Repo:
    """A repository on the forge."""

    full_name: str
    clone_url: str
    default_branch: str
    web_url: str

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(frozen=True)
class Comment:
    """A comment on a pull request's conversation."""

    id: int
    author: str
    body: str
    created_at: str
    updated_at: str
    # Reactions present on the comment (each content once, sorted), e.g. ("+1", "eyes").
    reactions: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitStatus:
    """The latest state a context reported for a commit."""

    sha: str
    context: str
    state: StatusState
    description: str
    target_url: str | None
    created_at: str


def check_run_fields(status: str, conclusion: str | None) -> None:
    """GitHub's rule for check runs: a conclusion exactly when the status is completed."""
    from jx_mlops.errors import ForgeError

    if status not in ("queued", "in_progress", "completed"):
        raise ForgeError(f"invalid check run status {status!r} (queued, in_progress, completed)")
    if (status == "completed") != (conclusion is not None):
        raise ForgeError("a check run has a conclusion exactly when its status is 'completed'")


@dataclass(frozen=True)
class CheckRun:
    """A check run on a commit: a named result with a markdown summary."""

    id: int
    sha: str
    name: str
    status: CheckStatus
    conclusion: CheckConclusion | None
    title: str
    summary: str
    details_url: str | None
    started_at: str | None
    completed_at: str | None


@dataclass(frozen=True)
class PullRequest:
    """A pull request; ``state`` folds GitHub's closed+merged into ``merged``."""

    number: int
    title: str
    body: str
    base: str
    head: str
    head_sha: str
    state: PullState
    draft: bool
    author: str
    created_at: str
    updated_at: str
    url: str
    labels: tuple[str, ...] = ()
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data


@dataclass(frozen=True)
class PullDetail:
    """A pull request with its conversation and the statuses of its head commit."""

    pull: PullRequest
    comments: tuple[Comment, ...] = field(default=())
    statuses: tuple[CommitStatus, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = self.pull.to_json()
        data["comments"] = [asdict(c) for c in self.comments]
        data["statuses"] = [asdict(s) for s in self.statuses]
        return data


class Forge(Protocol):
    """What jx-mlops needs from a code forge. Both implementations pass one contract suite."""

    kind: str

    def user(self) -> str:
        """The login the forge acts as."""
        ...

    def poster(self) -> str:
        """The login the comments this forge writes are authored as (GitHub Actions' token:
        ``github-actions[bot]``). jx-mlops honours its hidden markers (answered commands,
        the evaluation comment) only in comments by this login: anyone can type a marker."""
        ...

    def git_env(self) -> dict[str, str]:
        """Extra environment for git pushes/fetches (credentials), never written to disk."""
        ...

    def get_permission(self, repo: str, user: str) -> Permission:
        """``user``'s permission on ``repo`` (GitHub's levels; 'none' for strangers)."""
        ...

    def find_repo(self, name: str) -> Repo | None: ...

    def get_repo(self, name: str) -> Repo: ...

    def create_repo(self, name: str, *, description: str = "", auto_init: bool = False,
                    default_branch: str = "main") -> Repo:
        """A new repository whose default branch is ``default_branch`` (GitHub makes the
        first branch pushed into an empty repository its default, so it needs no asking)."""
        ...

    def list_repos(self) -> list[Repo]: ...

    def create_pull(self, repo: str, *, title: str, body: str, head: str, base: str,
                    draft: bool = False) -> PullRequest: ...

    def get_pull(self, repo: str, number: int) -> PullRequest: ...

    def list_pulls(self, repo: str, *, state: str = "open", head: str | None = None,
                   base: str | None = None) -> list[PullRequest]: ...

    def update_pull(self, repo: str, number: int, *, title: str | None = None,
                    body: str | None = None, state: str | None = None) -> PullRequest: ...

    def merge_pull(self, repo: str, number: int, *, method: MergeMethod = "merge",
                   message: str | None = None) -> PullRequest: ...

    def pulls_for_commit(self, repo: str, sha: str) -> list[PullRequest]:
        """Pull requests whose head or merge commit is ``sha``."""
        ...

    def list_comments(self, repo: str, number: int) -> list[Comment]: ...

    def create_comment(self, repo: str, number: int, body: str) -> Comment: ...

    def update_comment(self, repo: str, comment_id: int, body: str) -> Comment: ...

    def delete_comment(self, repo: str, comment_id: int) -> None: ...

    def add_labels(self, repo: str, number: int, labels: Sequence[str]) -> None: ...

    def remove_label(self, repo: str, number: int, label: str) -> None: ...

    def set_status(self, repo: str, sha: str, *, state: StatusState, context: str,
                   description: str = "", target_url: str | None = None) -> CommitStatus: ...

    def get_statuses(self, repo: str, sha: str) -> list[CommitStatus]: ...

    def create_check_run(self, repo: str, sha: str, *, name: str, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "", details_url: str | None = None) -> CheckRun:
        """Start (or directly complete, with ``conclusion``) a check run on ``sha``."""
        ...

    def update_check_run(self, repo: str, check_run_id: int, *, status: CheckStatus,
                         conclusion: CheckConclusion | None = None, title: str = "",
                         summary: str = "") -> CheckRun:
        """Move a check run on; ``completed`` needs a ``conclusion``."""
        ...

    def add_reaction(self, repo: str, comment_id: int, reaction: Reaction) -> None:
        """React to a comment (idempotent: the same reaction twice is one reaction)."""
        ...


# A repository as forges name it: OWNER/NAME.
REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ForgeConfig:
    """Where the project's repository and pull requests live (``repo`` empty: mlops.yaml
    names no forge, so only commands that need none can run)."""

    kind: str = "local"  # a name in FORGES (forge/kinds.py): its DEFAULT_FORGE
    repo: str = ""
    url: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.repo)


class ForgeKind(Protocol):
    """One kind of forge, as a module of its sub-package (``forge/github/kind.py``), the
    way pre-commit's languages are modules; ``FORGES`` in forge/kinds.py lists them.

    A kind module imports its Forge only in ``open_forge``: argparse's ``--forge`` choices
    and mlops.yaml's ``forge.kind`` are read from the registry on every start.
    """

    NAME: str  # forge.kind in mlops.yaml, --forge on the command line
    TITLE: str  # how messages name it: "GitHub"
    SUMMARY: str  # one line for --help
    # The CI providers (ci/context.py) that run on this forge: outside a project,
    # `ci publish` opens the forge their event names.
    CI_PROVIDERS: tuple[str, ...]
    # Who owns the repositories `create` makes when --owner is not given (None: ask).
    DEFAULT_OWNER: str | None
    # Its CI runs on other machines: `create` needs a DVC remote they can reach, and
    # `init` the repository's name (there is no local default to fall back on).
    HOSTED: bool
    # Where the forge keeps every pull request's head, forks' included (``{number}``).
    PULL_HEAD_REF: str | None

    def open_forge(self, config: ForgeConfig) -> Forge:
        """The forge ``config`` names, with its credentials (ForgeError without them)."""
        ...

    def git_credentials(self, config: ForgeConfig) -> dict[str, str]:
        """What git needs to fetch from the forge, when credentials are at hand ({}: none;
        unlike ``open_forge`` this never insists)."""
        ...

    def repo_in_url(self, url: str) -> str | None:
        """OWNER/NAME when the git remote ``url`` is a repository on this forge."""
        ...

    def keyless_identity(self, repo: str) -> str | None:
        """The identity whose keyless signature (Sigstore) verifiers of ``repo``'s model
        versions trust; None: versions are signed with a key made on this machine."""
        ...


# GitHub keeps at most this many characters of a commit status's description.
STATUS_DESCRIPTION_MAX = 140


def status_description(text: str, limit: int = STATUS_DESCRIPTION_MAX) -> str:
    """``text`` as a commit status description: one line of at most 140 characters; a
    longer one is cut at a word and ends with "…", so no reader takes it for the whole."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:(") + "…"


# Names the forge shows for a PR's evaluation, shared by `ci pr` and `ci publish` so a
# fork's published result lands where a branch's would.
STATUS_CONTEXT = "jx-mlops/evaluation"
CHECK_NAME = "jx-mlops report"
# A status is per commit, not per base: retargeting a PR keeps its head's green status.
# The evaluation's description ends with the base it was computed against, so a status
# earned against another branch is never taken for this one (refresh, promotion gates).
_BASE_TAG = re.compile(r" \(base: (\S+)\)$")


def with_base(description: str, base: str, limit: int = STATUS_DESCRIPTION_MAX) -> str:
    """``description`` (cut at a word to fit ``limit``) ending with the base it was
    computed against."""
    tag = f" (base: {base})"
    return status_description(description, max(1, limit - len(tag))) + tag


def evaluated_base(description: str) -> str | None:
    """The base an evaluation status was computed against (None: not recorded)."""
    found = _BASE_TAG.search(description)
    return found.group(1) if found else None
