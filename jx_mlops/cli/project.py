"""Project commands: quickstart list, create, init, retrain, report, demo."""

from __future__ import annotations

import argparse

from jx_mlops.cli.common import (
    EXIT_OK,
    EXIT_USER_ERROR,
    add_command,
    add_json,
    add_report_options,
    html_target,
    parse_pairs,
    print_json,
    project_config,
    report_options,
)
from jx_mlops.forge.kinds import DEFAULT_FORGE, FORGES

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def cmd_quickstart_list(args: argparse.Namespace) -> int:
    from jx_mlops.project.quickstarts import list_quickstarts, missing_requirements
    from jx_mlops.views.project import (
        show_quickstarts,
    )

    quickstarts = list_quickstarts()
    missing = {q.name: missing_requirements(q) for q in quickstarts}
    if args.json:
        print_json([{"name": q.name, "description": q.description,
                      "requires": list(q.requires), "missing": missing[q.name],
                      "variables": [{"name": v.name, "description": v.description,
                                     "default": v.default} for v in q.variables]}
                     for q in quickstarts])
    else:
        show_quickstarts(quickstarts, missing)
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.project.create import create_project
    from jx_mlops.views.project import (
        show_created,
    )

    created = create_project(
        args.name, quickstart=args.quickstart,
        directory=Path(args.dir) if args.dir else None, forge_kind=args.forge,
        owner=args.owner, settings=parse_pairs(args.set, "--set"), dvc_remote=args.dvc_remote,
        train=not args.no_train, trust=args.trust, vcs_ref=args.vcs_ref,
        forge_url=args.forge_url)
    show_created(created, as_json=args.json)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.project.init import init_project
    from jx_mlops.views.project import (
        show_init,
    )

    result = init_project(
        Path(args.directory), forge=args.forge, repo_name=args.repo,
        models=parse_pairs(args.model, "--model"), ci=not args.no_ci, dry_run=args.dry_run,
        force=args.force)
    show_init(result, as_json=args.json)
    return EXIT_OK


def cmd_retrain(args: argparse.Namespace) -> int:
    from jx_mlops.project.retrain import retrain
    from jx_mlops.views.forge import show_pull_opened
    from jx_mlops.views.project import (
        show_data_update,
    )

    if args.if_data_changed:
        from jx_mlops.errors import UsageError
        from jx_mlops.project.data_updates import retrain_if_data_changed

        if args.set:
            raise UsageError("--if-data-changed retrains on new data; it takes no --set")
        show_data_update(retrain_if_data_changed(project_config(args)), as_json=args.json)
        return EXIT_OK

    pull = retrain(project_config(args), args.set or [], title=args.title, branch=args.branch)
    show_pull_opened(pull, as_json=args.json)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from jx_mlops.evaluation.build import build_report
    from jx_mlops.views.project import (
        show_comparison,
    )

    fmt = "json" if args.json else args.format
    if args.json and args.format not in ("terminal", "json"):
        from jx_mlops.errors import UsageError

        raise UsageError(f"--json and --format {args.format} ask for two formats; give one")
    html = html_target(args.html)
    comparison = build_report(project_config(args), base=args.base, head=args.head,
                              options=report_options(args))
    if html is not None:
        from jx_mlops.cli.common import wrote_html
        from jx_mlops.evaluation.build import write_html

        write_html(html, comparison)
        wrote_html(html)
    show_comparison(comparison, fmt)
    return EXIT_USER_ERROR if args.fail_on_regression and not comparison.verdict.passed \
        else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.cli.demo import run_demo

    return run_demo(keep=Path(args.keep) if args.keep else None)


def _forge_summaries() -> str:
    return "; ".join(f"{kind.NAME}: {kind.SUMMARY}" for kind in FORGES.values())


def _quickstart_parser(sub: Any) -> None:
    qs = sub.add_parser("quickstart", help="project templates")
    qs_sub = qs.add_subparsers(dest="qs_command", metavar="{list}", required=True)
    add_json(add_command(qs_sub, "list", cmd_quickstart_list, "list the available quickstarts"))


def _create_parser(sub: Any) -> None:
    p = add_command(sub, "create", cmd_create, "create a project from a quickstart and publish it")
    p.add_argument("name", help="project name (lowercase, dashes): repository and model name")
    p.add_argument("--quickstart", required=True,
                   help="bundled quickstart name, directory, or git URL "
                        "(URL#SUBDIR, gh:OWNER/REPO)")
    p.add_argument("--dir", help="where to create it (default: ./NAME)")
    p.add_argument("--forge", default=DEFAULT_FORGE, choices=tuple(FORGES),
                   help=f"where to publish ({_forge_summaries()})")
    p.add_argument("--owner", help="forge account owning the repositories (default: local; "
                                   "required on GitHub)")
    p.add_argument("--forge-url", metavar="URL",
                   help="GitHub Enterprise server, e.g. https://github.example.com")
    p.add_argument("--set", action="append", metavar="VAR=VALUE",
                   help="fill a quickstart variable (repeatable)")
    p.add_argument("--dvc-remote", help="DVC remote URL (default: a local one in the forge)")
    p.add_argument("--no-train", action="store_true",
                   help="do not train a baseline before the first commit")
    p.add_argument("--trust", action="store_true",
                   help="let a quickstart from a directory or git URL run its tasks and pipeline")
    p.add_argument("--vcs-ref", metavar="REF",
                   help="branch, tag or commit of a git quickstart (default: its default branch)")
    add_json(p)


def _init_parser(sub: Any) -> None:
    p = add_command(sub, "init", cmd_init,
                    "adopt this git + DVC repository: write mlops.yaml and CI files")
    p.add_argument("--forge", choices=tuple(FORGES),
                   help="where pull requests live (default: the forge of the origin URL, "
                        f"such as github for a GitHub origin, else {DEFAULT_FORGE})")
    p.add_argument("--repo", metavar="OWNER/NAME",
                   help="the repository on the forge (default: from a GitHub origin; "
                        "none: report works, pull requests need one)")
    p.add_argument("--model", action="append", metavar="NAME=PATH",
                   help="a model and its DVC-tracked path, instead of dvc.yaml's "
                        "artifacts (repeatable)")
    p.add_argument("--no-ci", action="store_true", help="write mlops.yaml only")
    p.add_argument("--dry-run", action="store_true", help="show what would be written")
    p.add_argument("--force", action="store_true", help="overwrite files that differ")
    add_json(p)


def _retrain_parser(sub: Any) -> None:
    p = add_command(sub, "retrain", cmd_retrain,
                    "open a pull request that retrains with new params")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="param to change, e.g. train.n_estimators=200 (repeatable)")
    p.add_argument("--title", help="pull request title")
    p.add_argument("--branch", help="branch name (default: retrain/<change>)")
    p.add_argument("--if-data-changed", action="store_true",
                   help="open a retrain PR only if DVC-imported data changed upstream")
    add_json(p)


def _report_parser(sub: Any) -> None:
    p = add_command(sub, "report", cmd_report, "compare metrics and params of two revisions")
    p.add_argument("--base", help="base revision (default: where HEAD left the default branch)")
    p.add_argument("--head", help="head revision (default: the work tree)")
    p.add_argument("--format", default="terminal", choices=("terminal", "md", "html", "json"),
                   help="terminal (default): tables for people; md: the PR comment's "
                        "markdown; html: the self-contained HTML page (json: as --json)")
    add_json(p)
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when the verdict is fail")
    add_report_options(p)


def _demo_parser(sub: Any) -> None:
    p = add_command(sub, "demo", cmd_demo, "run the whole loop on a throwaway local forge")
    p.add_argument("--keep", metavar="DIR", help="keep the demo's files in DIR")


def add_parsers(sub: Any) -> None:
    for add in (_quickstart_parser, _create_parser, _init_parser, _retrain_parser,
                _report_parser, _demo_parser):
        add(sub)
