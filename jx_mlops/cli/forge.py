"""The local forge from the command line: repositories, pull requests, collaborators."""

from __future__ import annotations

import argparse
import sys

from jx_mlops.cli.common import (
    EXIT_OK,
    EXIT_USER_ERROR,
    add_command,
    add_json,
    count,
    forge_and_repo,
    project_config,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def cmd_forge_repo_list(args: argparse.Namespace) -> int:
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.views.forge import (
        show_repos,
    )

    show_repos(open_forge().list_repos(), as_json=args.json)
    return EXIT_OK


def cmd_forge_repo_create(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.project.publish import create_repository
    from jx_mlops.views.forge import show_repo_created

    made = create_repository(Path(args.directory), args.name, description=args.description or "")
    show_repo_created(made, as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_list(args: argparse.Namespace) -> int:
    from jx_mlops.views.forge import (
        show_pulls,
    )

    forge, repo = forge_and_repo(args)
    show_pulls(repo, forge.list_pulls(repo, state=args.state), as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_show(args: argparse.Namespace) -> int:
    from jx_mlops.forge.base import PullDetail
    from jx_mlops.views.forge import (
        show_pull_detail,
    )

    forge, repo = forge_and_repo(args)
    pull = forge.get_pull(repo, args.number)
    detail = PullDetail(pull, tuple(forge.list_comments(repo, args.number)),
                        tuple(forge.get_statuses(repo, pull.head_sha)))
    show_pull_detail(repo, detail, as_json=args.json, raw=args.raw)
    return EXIT_OK


def cmd_forge_pr_comment(args: argparse.Namespace) -> int:
    from jx_mlops.errors import UsageError
    from jx_mlops.views.forge import show_comment_posted

    body = sys.stdin.read() if args.body == "-" else args.body
    if not body.strip():  # GitHub refuses a blank comment; so does every forge here
        where = "standard input gave nothing" if args.body == "-" else "it is empty"
        raise UsageError(f"--body {args.body!r}: a comment needs text ({where})")
    forge, repo = forge_and_repo(args)
    comment = forge.create_comment(repo, args.number, body)
    show_comment_posted(repo, args.number, comment, as_json=args.json)
    return EXIT_OK


def cmd_forge_collaborator(args: argparse.Namespace) -> int:
    from jx_mlops.errors import ForgeError

    forge, repo = forge_and_repo(args)
    if not hasattr(forge, "set_permission"):
        raise ForgeError(f"the {forge.kind} forge manages collaborators itself")
    user = None if args.user == "*" else args.user
    forge.set_permission(repo, user, args.permission)
    from jx_mlops.views.forge import show_permission

    show_permission(repo, user, args.permission, as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_merge(args: argparse.Namespace) -> int:
    from jx_mlops import console
    from jx_mlops.forge.protection import merge_protected
    from jx_mlops.views.forge import show_pull_changed

    forge, repo = forge_and_repo(args)
    outcome = merge_protected(forge, repo, args.number, method=args.method, force=args.force)
    for blocker in outcome.overridden:
        console.warn(f"merged past a failing required check: {blocker}")
    pull = outcome.pull
    show_pull_changed(repo, pull, f"merged {repo}#{pull.number} into {pull.base} as "
                                  f"{pull.merge_commit_sha}", as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_create(args: argparse.Namespace) -> int:
    from jx_mlops.project.propose import create_pull_from_branch
    from jx_mlops.views.forge import (
        show_pull_opened,
    )

    body = sys.stdin.read() if args.body == "-" else (args.body or "")
    pull = create_pull_from_branch(project_config(args), title=args.title, body=body,
                                   base=args.base, draft=args.draft)
    show_pull_opened(pull, as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_state(args: argparse.Namespace) -> int:
    from jx_mlops.views.forge import show_pull_changed

    forge, repo = forge_and_repo(args)
    state = "closed" if args.pr_command == "close" else "open"
    pull = forge.update_pull(repo, args.number, state=state)
    show_pull_changed(repo, pull, f"{'closed' if state == 'closed' else 'reopened'} "
                                  f"{repo}#{pull.number}", as_json=args.json)
    return EXIT_OK


def cmd_forge_fsck(args: argparse.Namespace) -> int:
    from jx_mlops.forge.local.records import fsck
    from jx_mlops.fsutil import jx_home
    from jx_mlops.views.forge import (
        show_fsck,
    )

    findings = fsck(jx_home() / "forge", repair=args.repair)
    show_fsck(findings, repair=args.repair, as_json=args.json)
    return EXIT_OK if args.repair or not findings else EXIT_USER_ERROR


def add_parsers(sub: Any) -> None:
    forge = sub.add_parser("forge", help="work with the embedded local forge")
    forge_sub = forge.add_subparsers(dest="forge_command", metavar="{repo,pr,collaborator,fsck}",
                                     required=True)
    _records_parsers(forge_sub)
    repo = forge_sub.add_parser("repo", help="repositories")
    repo_sub = repo.add_subparsers(dest="repo_command", metavar="{list,create}", required=True)
    add_json(add_command(repo_sub, "list", cmd_forge_repo_list, "list repositories on the forge"))
    create = add_command(repo_sub, "create", cmd_forge_repo_create,
                         "publish this project on its forge (the repository when missing, "
                         "environment repositories, origin, the default branch pushed), or "
                         "create an empty repository NAME")
    create.add_argument("name", nargs="?", metavar="OWNER/NAME",
                        help="the repository (default: the project's, from mlops.yaml)")
    create.add_argument("--description", help="the repository's description (an empty "
                                              "repository only)")
    add_json(create)
    pr = forge_sub.add_parser("pr", help="pull requests")
    _pr_parsers(pr.add_subparsers(dest="pr_command",
                                  metavar="{list,show,create,comment,merge,close,reopen}",
                                  required=True))


def _records_parsers(forge_sub: Any) -> None:
    """collaborator and fsck: the local forge's own records."""
    collab = add_command(forge_sub, "collaborator", cmd_forge_collaborator,
                         "set a user's permission on a local-forge repository")
    collab.add_argument("user", help="login, or '*' for everyone not listed")
    collab.add_argument("permission", choices=("none", "read", "triage", "write", "maintain",
                                               "admin"),
                        help="GitHub's levels: none, read, triage, write, maintain, admin")
    collab.add_argument("--repo", help="OWNER/NAME (default: the project's repository)")
    add_json(collab)
    fsck = add_command(forge_sub, "fsck", cmd_forge_fsck,
                       "check the local forge's records (--repair fixes what it can)")
    fsck.add_argument("--repair", action="store_true",
                      help="rebuild counters and indexes, move unreadable records aside")
    add_json(fsck)


def _pr_parsers(pr_sub: Any) -> None:
    create = add_command(pr_sub, "create", cmd_forge_pr_create,
                         "open a pull request from the current branch (pushes it if needed)")
    create.add_argument("--base", help="branch to merge into (default: the default branch)")
    create.add_argument("--title", help="title (default: the last commit's subject)")
    create.add_argument("--body", help="description ('-' reads stdin)")
    create.add_argument("--draft", action="store_true", help="open it as a draft")
    add_json(create)
    for name, handler, text in (
        ("list", cmd_forge_pr_list, "list pull requests"),
        ("show", cmd_forge_pr_show, "show a pull request with comments and statuses"),
        ("comment", cmd_forge_pr_comment, "comment on a pull request"),
        ("merge", cmd_forge_pr_merge, "merge a pull request (real git merge)"),
        ("close", cmd_forge_pr_state, "close a pull request without merging"),
        ("reopen", cmd_forge_pr_state, "reopen a closed pull request"),
    ):
        parser = add_command(pr_sub, name, handler, text)
        parser.add_argument("--repo", help="OWNER/NAME (default: the project's repository)")
        if name != "list":
            parser.add_argument("number", type=count, help="pull request number")
        add_json(parser)
        if name == "show":
            parser.add_argument("--raw", action="store_true",
                                help="comments as their raw markdown (default: rendered)")
        if name == "list":
            parser.add_argument("--state", default="open",
                                choices=("open", "closed", "merged", "all"),
                                help="which pull requests (default: open)")
        if name == "comment":
            parser.add_argument("--body", required=True, help="comment text ('-' reads stdin)")
        if name == "merge":
            parser.add_argument("--method", default="merge", choices=("merge", "squash"),
                                help="a merge commit (default) or one squashed commit")
            parser.add_argument("--force", action="store_true",
                                help="merge even if required checks fail (recorded in the "
                                     "merge commit)")
