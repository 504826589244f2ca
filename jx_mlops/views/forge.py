"""How forge commands show repositories, pull requests, comments and fsck findings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from jx_mlops.console import out_console
from jx_mlops.views.common import print_json, print_table
from jx_mlops.views.table import Column

if TYPE_CHECKING:
    from jx_mlops.forge.base import Comment, PullDetail, PullRequest, Repo
    from jx_mlops.forge.local.records import Finding
    from jx_mlops.project.publish import Publication


def show_pull_opened(pull: PullRequest, *, as_json: bool = False) -> None:
    if as_json:
        print_json(pull.to_json())
        return
    out_console().print(f"Opened pull request #{pull.number}: {pull.title} "
                        f"({pull.head} -> {pull.base})", markup=False)


def show_pull_changed(repo: str, pull: PullRequest, text: str, *, as_json: bool) -> None:
    """A pull request a command changed (merged, closed, reopened): ``text`` for people,
    the pull request for scripts."""
    if as_json:
        print_json({"repo": repo, **pull.to_json()})
        return
    out_console().print(text, markup=False)


def show_comment_posted(repo: str, number: int, comment: Comment, *, as_json: bool) -> None:
    if as_json:
        from dataclasses import asdict

        print_json({"repo": repo, "pull_request": number, **asdict(comment)})
        return
    out_console().print(f"commented on {repo}#{number} (comment {comment.id})", markup=False)


def show_permission(repo: str, user: str | None, permission: str, *, as_json: bool) -> None:
    """``user`` None: everyone not listed."""
    if as_json:
        print_json({"repo": repo, "user": user if user is not None else "*",
                    "permission": permission})
        return
    who = "everyone else" if user is None else user
    out_console().print(f"{who} has {permission} on {repo}", markup=False)


def show_repos(repos: Sequence[Repo], *, as_json: bool) -> None:
    if as_json:
        print_json([{"full_name": r.full_name, "clone_url": r.clone_url,
                "default_branch": r.default_branch} for r in repos])
        return
    print_table("Repositories", ("Repository", "Default branch", Column("Clone URL", "middle")),
                [(r.full_name, r.default_branch, r.clone_url) for r in repos])


def show_repo_created(made: Publication | Repo, *, as_json: bool) -> None:
    """What `forge repo create` made: a published project, or an empty repository."""
    from jx_mlops.forge.base import Repo

    if isinstance(made, Repo):
        if as_json:
            print_json({"full_name": made.full_name, "clone_url": made.clone_url,
                        "default_branch": made.default_branch})
        else:
            out_console().print(f"created {made.full_name}: {made.clone_url}", markup=False)
        return
    if as_json:
        print_json(made.to_json())
        return
    for line in publication_lines(made):
        out_console().print(line, markup=False)


def publication_lines(made: Publication) -> list[str]:
    """Lines saying where a project was published (shared by init and forge repo create)."""
    lines = [f"{'created' if made.created else 'found'} {made.repo}: pushed {made.branch} "
             f"to {made.clone_url} (origin)"]
    if made.committed:
        lines.append(f"committed {made.committed[:12]} on {made.branch}")
    lines += [f"environment repository {r} created" for r in made.environments_created]
    lines += [f"environment repository {r} reused" for r in made.environments_reused]
    if made.dvc_remote:
        lines.append(f"DVC remote {made.dvc_remote}")
    return lines + [f"note: {note}" for note in made.notes]


def show_pulls(repo: str, pulls: Sequence[PullRequest], *, as_json: bool) -> None:
    if as_json:
        print_json([p.to_json() for p in pulls])
        return
    print_table(f"Pull requests of {repo}",
                ("#", Column("Title", "wrap"), Column("Head -> base", "wrap"), "State",
                 Column("Labels", "wrap")),
                [(str(p.number), p.title, f"{p.head} -> {p.base}", p.state, ", ".join(p.labels))
                 for p in pulls])


_HTML_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)


_DETAILS = re.compile(r"<details(?P<open> open)?>\s*<summary>(?P<summary>.*?)</summary>"
                      r"(?P<body>.*?)</details>", re.S)


def comment_for_terminal(body: str) -> str:
    """A PR comment's markdown as a terminal shows it: hidden markers dropped, collapsed
    ``<details>`` shown as one line (open ones unfolded), ``<sub>`` as plain text."""
    def details(match: re.Match[str]) -> str:
        summary = match["summary"].strip()
        if match["open"]:
            return f"\n**{summary}**\n{match['body']}\n"
        return f"\n▸ *{summary}* (collapsed; `--raw` shows it)\n"

    text = _DETAILS.sub(details, _HTML_COMMENT.sub("", body))
    return re.sub(r"</?sub>", "", text).strip()


def show_pull_detail(repo: str, detail: PullDetail, *, as_json: bool,
                     raw: bool = False) -> None:
    """A PR with its statuses and comments; comments rendered as markdown for the
    terminal (tables fitted to its width), or as their raw markdown with ``raw``."""
    if as_json:
        print_json(detail.to_json())
        return
    from rich.markdown import Markdown
    from rich.markup import escape
    from rich.panel import Panel

    pull = detail.pull
    out = out_console()
    out.print(f"[bold]{escape(repo)}#{pull.number}[/] {escape(pull.title)} "
              f"[dim]({pull.state}; {escape(pull.head)} -> {escape(pull.base)} @ "
              f"{pull.head_sha[:12]}; by {escape(pull.author)})[/]")
    if pull.labels:
        out.print("labels: " + escape(", ".join(pull.labels)))
    for status in detail.statuses:
        out.print(f"status {escape(status.context)}: {status.state} - "
                  f"{escape(status.description)}")
    for comment in detail.comments:
        if raw:  # the markdown as posted, unwrapped, so it can be copied or piped
            out.print(f"--- comment {comment.id} by {comment.author}", markup=False)
            out.print(comment.body.rstrip(), markup=False, highlight=False, soft_wrap=True)
            continue
        # Not soft-wrapped like the rest of stdout: the panel's paragraphs wrap inside it.
        out.print(Panel(Markdown(comment_for_terminal(comment.body)),
                        title=f"comment {comment.id} by {escape(comment.author)}",
                        title_align="left"), soft_wrap=False)


def show_fsck(findings: Sequence[Finding], *, repair: bool, as_json: bool) -> None:
    """`forge fsck`: one line a problem (and what was or would be done), or all clear."""
    if as_json:
        print_json([f.__dict__ for f in findings])
        return
    console = out_console()
    if not findings:
        console.print("local forge records: all consistent", markup=False)
        return
    for finding in findings:
        done = finding.repair if repair else f"--repair: {finding.repair}"
        console.print(f"{finding.path}: {finding.problem} ({done})", markup=False, soft_wrap=True)
    if not repair:
        console.print(f"{len(findings)} problem(s); run `jx-mlops forge fsck --repair`",
                      markup=False)
