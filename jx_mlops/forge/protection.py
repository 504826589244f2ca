"""Protected branches: required checks block a merge unless it is forced, and say so.

The local forge keeps its own rules (``LocalForge.required_checks``); GitHub enforces its
branch protection itself, so there the rules are set once (``create --forge github``, when
the token has admin rights) and a merge GitHub refuses comes back as its error.
"""

from __future__ import annotations

from dataclasses import dataclass

from jx_mlops.errors import ConflictError, ForgeError
from jx_mlops.forge.base import Forge, MergeMethod, PullRequest


@dataclass(frozen=True)
class MergeOutcome:
    """A merged pull request, and the failing checks a ``--force`` went past."""

    pull: PullRequest
    overridden: tuple[str, ...]


def required_checks(forge: Forge, repo: str, branch: str) -> tuple[str, ...]:
    """The contexts a merge into ``branch`` needs (none where the forge enforces its own)."""
    rules = getattr(forge, "required_checks", None)
    return tuple(rules(repo, branch)) if callable(rules) else ()


def merge_blockers(forge: Forge, repo: str, pull: PullRequest) -> list[str]:
    """``CONTEXT: state (description)`` for every required check not passing on the head."""
    required = required_checks(forge, repo, pull.base)
    if not required:
        return []
    latest = {s.context: s for s in forge.get_statuses(repo, pull.head_sha)}
    blockers = []
    for context in required:
        status = latest.get(context)
        if status is None:
            blockers.append(f"{context}: not reported on {pull.head_sha[:12]}")
        elif status.state != "success":
            detail = f" ({status.description})" if status.description else ""
            detail = detail if len(detail) <= 80 else detail[:78] + "…)"
            blockers.append(f"{context}: {status.state}{detail}")
    return blockers


def merge_protected(forge: Forge, repo: str, number: int, *, method: MergeMethod = "merge",
                    force: bool = False) -> MergeOutcome:
    """Merge ``number`` if its required checks pass; ``force`` merges anyway and records
    what it overrode (and who) in the merge commit's message."""
    pull = forge.get_pull(repo, number)
    blockers = merge_blockers(forge, repo, pull) if pull.state == "open" else []
    if blockers and not force:
        raise ConflictError(f"{repo}#{number} cannot be merged into protected {pull.base}: "
                            f"{'; '.join(blockers)}",
                            hint="fix the PR, or merge with --force (recorded in the commit)")
    message = None
    if blockers:
        title = (f"{pull.title} (#{number})" if method == "squash" else
                 f"Merge pull request #{number} from {pull.head}\n\n{pull.title}")
        message = (f"{title}\n\n" + "\n".join(f"Forced-past: {b}" for b in blockers)
                   + f"\nForced-by: {forge.user()}")
    merged = forge.merge_pull(repo, number, method=method, message=message)
    return MergeOutcome(merged, tuple(blockers))


def protect_default_branch(forge: Forge, repo: str, branch: str,
                           contexts: tuple[str, ...]) -> str | None:
    """Require ``contexts`` before merging into ``branch``, where the forge lets us.

    Returns why the branch is not protected, None when it now is. Not fatal: a GitHub
    token without admin rights on the repository may not set protection (the caller
    says so, and the repository is usable without it)."""
    setter = getattr(forge, "set_required_checks", None)
    if not callable(setter):
        return f"the {forge.kind} forge has no branch protection jx-mlops can set"
    try:
        setter(repo, branch, contexts)
    except ForgeError as exc:
        return exc.message
    return None
