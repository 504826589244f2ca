"""The one comment of a pull request that jx-mlops keeps up to date, found by its marker."""

from __future__ import annotations

from jx_mlops.forge.base import Comment, Forge


def upsert_marked_comment(forge: Forge, repo: str, number: int, marker: str,
                          body: str) -> tuple[Comment, bool]:
    """Create or update THE comment of ``number`` that starts with ``marker``.

    Returns the comment and whether it was created. Comments are matched on a hidden
    marker, not on position, so re-runs and rebases update the same comment; and only
    among the comments written by the forge's poster: anyone can type the marker, and a
    reader's comment carrying it must not become the evaluation (they could edit it).
    When two runs raced and both created one, the oldest is kept and the others deleted.
    """
    if not body.startswith(marker):
        body = f"{marker}\n{body}"
    mine = _marked(forge, repo, number, marker)
    if mine:
        keeper = min(mine, key=lambda c: c.id)
        for extra in mine:
            if extra.id != keeper.id:
                forge.delete_comment(repo, extra.id)
        if keeper.body == body:
            return keeper, False
        return forge.update_comment(repo, keeper.id, body), False
    created = forge.create_comment(repo, number, body)
    racing = _marked(forge, repo, number, marker)
    keeper = min(racing, key=lambda c: c.id)
    if keeper.id != created.id:
        forge.delete_comment(repo, created.id)
        return forge.update_comment(repo, keeper.id, body), False
    return created, True


def _marked(forge: Forge, repo: str, number: int, marker: str) -> list[Comment]:
    poster = forge.poster()
    return [c for c in forge.list_comments(repo, number)
            if c.author == poster and c.body.startswith(marker)]
