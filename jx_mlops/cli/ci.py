"""What CI runs: ci pr, ci publish, ci chatops, ci release."""

from __future__ import annotations

import argparse

from jx_mlops.cli.common import (
    EXIT_OK,
    EXIT_USER_ERROR,
    add_command,
    add_json,
    add_report_options,
    count,
    html_target,
    project_config,
    report_options,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def cmd_ci_pr(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.ci.context import detect_context
    from jx_mlops.ci.pr import PrRequest
    from jx_mlops.ci.route import run_ci_pr
    from jx_mlops.views.ci import show_ci_pr

    html = html_target(args.html)
    request = PrRequest(number=args.pr, commit_results=not args.no_commit,
                        report_id=args.report_id, html=html,
                        options=report_options(args),
                        output=Path(args.output) if args.output else None, base=args.base)
    outcome = run_ci_pr(config=project_config(args), context=detect_context(),
                        request=request)
    if html is not None and args.output is None:  # --output writes its own report.html
        from jx_mlops.cli.common import wrote_html

        wrote_html(html)
    show_ci_pr(outcome, as_json=args.json)
    passed = outcome.comparison.verdict.passed
    return EXIT_USER_ERROR if args.fail_on_regression and not passed else EXIT_OK


def cmd_ci_publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.ci.context import detect_context
    from jx_mlops.ci.publish import publish_from_directory
    from jx_mlops.config.project import CONFIG_FILE, find_project_root, load_config
    from jx_mlops.views.ci import (
        show_publication,
    )

    root = find_project_root(Path(args.directory))
    config = load_config(root) if (root / CONFIG_FILE).is_file() else None
    published = publish_from_directory(Path(args.report_dir), detect_context(),
                                       repo=args.repo, config=config)
    show_publication(published, as_json=args.json)
    return EXIT_OK


def cmd_ci_chatops(args: argparse.Namespace) -> int:
    from jx_mlops.ci.chatops import run_chatops
    from jx_mlops.ci.context import detect_context
    from jx_mlops.views.ci import (
        show_chatops,
    )

    result = run_chatops(project_config(args), detect_context(), number=args.pr,
                         comment_id=args.comment)
    show_chatops(result, as_json=args.json)
    return EXIT_USER_ERROR if result.failed else EXIT_OK


def cmd_ci_refresh(args: argparse.Namespace) -> int:
    from jx_mlops.ci.context import detect_context
    from jx_mlops.ci.refresh import refresh_open_pulls
    from jx_mlops.views.ci import (
        show_refresh,
    )

    result = refresh_open_pulls(project_config(args), run_url=detect_context().run_url)
    show_refresh(result, as_json=args.json)
    return EXIT_OK


def cmd_ci_release(args: argparse.Namespace) -> int:
    from jx_mlops.ci.context import detect_context
    from jx_mlops.ci.release import run_release
    from jx_mlops.views.registry import show_release

    context = detect_context()
    # A push (Actions) or postsubmit (Lighthouse) run releases the commit it was started for.
    ref = args.ref or (context.sha if context.event in ("push", "postsubmit") else None)
    result = run_release(project_config(args), ref=ref, run_url=context.run_url)
    show_release(result, as_json=args.json)
    return EXIT_USER_ERROR if result.blocked else EXIT_OK


def add_parsers(sub: Any) -> None:
    ci = sub.add_parser("ci", help="what CI runs: pull request checks and releases")
    ci_sub = ci.add_subparsers(dest="ci_command",
                               metavar="{pr,refresh,release,publish,chatops}", required=True)
    p = add_command(ci_sub, "pr", cmd_ci_pr, "train a pull request and post its evaluation")
    p.add_argument("--pr", type=count, help="pull request number (default: the CI event's, else "
                                          "the current branch's)")
    p.add_argument("--no-commit", action="store_true",
                   help="do not commit reproduced results back to the PR branch")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when the verdict is fail")
    p.add_argument("--report-id", default="default", metavar="ID",
                   help="which report this is (one comment per PR and report id)")
    add_report_options(p)
    add_json(p)
    p.add_argument("--output", metavar="DIR",
                   help="write the report to DIR instead of posting it (fork-safe: needs no "
                        "token); `ci publish DIR` posts it")
    p.add_argument("--base", metavar="REV",
                   help="with --output: base revision (default: the event's base commit)")
    add_json(add_command(ci_sub, "refresh", cmd_ci_refresh,
                         "after the base branch moved: mark open PRs' evaluations stale"))
    p = add_command(ci_sub, "release", cmd_ci_release, "register and promote after a merge")
    p.add_argument("--ref", help="merged commit (default: the pushed commit in CI, else the "
                                 "remote default branch)")
    add_json(p)
    p = add_command(ci_sub, "chatops", cmd_ci_chatops,
                    "run /retrain, /report, /promote ENV, /rollback ENV from a PR comment")
    p.add_argument("--pr", type=count, help="pull request (default: the CI event's)")
    p.add_argument("--comment", type=count, metavar="ID",
                   help="comment to act on (default: the event's, else the newest "
                        "unanswered command on the PR)")
    add_json(p)
    p = add_command(ci_sub, "publish", cmd_ci_publish,
                    "post a report written by `ci pr --output` (comment, status, check run)")
    p.add_argument("report_dir", metavar="DIR", help="the directory `ci pr --output` wrote")
    p.add_argument("--repo", help="OWNER/NAME (default: the event's or project's repository)")
    add_json(p)
