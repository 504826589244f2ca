"""Command line: parse arguments, call one function per command, map results to exit codes.

No git, DVC or HTTP here, and no heavy imports at start-up: each command imports what it
needs when it runs, so ``jx-mlops --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jx_mlops import __version__
from jx_mlops.errors import JxMlopsError

Handler = Callable[[argparse.Namespace], int]

EXIT_OK, EXIT_USER_ERROR, EXIT_UNEXPECTED, EXIT_INTERRUPTED = 0, 1, 3, 130


def _project(args: argparse.Namespace) -> Any:
    from jx_mlops.config import find_project_root, load_config

    return load_config(find_project_root(Path(args.directory)))


def _print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, sort_keys=False))


# -- command handlers (thin: call a flow, print its result) --------------------------------


def cmd_quickstart_list(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.scaffold import list_quickstarts, missing_requirements

    quickstarts = list_quickstarts()
    missing = {q.name: missing_requirements(q) for q in quickstarts}
    if args.json:
        _print_json([{"name": q.name, "description": q.description,
                      "requires": list(q.requires), "missing": missing[q.name],
                      "variables": [{"name": v.name, "description": v.description,
                                     "default": v.default} for v in q.variables]}
                     for q in quickstarts])
    else:
        views.show_quickstarts(quickstarts, missing)
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.create import create_project

    created = create_project(
        args.name, quickstart=args.quickstart,
        directory=Path(args.dir) if args.dir else None, forge_kind=args.forge,
        owner=args.owner, settings=_pairs(args.set, "--set"), dvc_remote=args.dvc_remote,
        train=not args.no_train, trust=args.trust, vcs_ref=args.vcs_ref,
        forge_url=args.forge_url)
    views.show_created(created)
    return EXIT_OK


def cmd_retrain(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.retrain import retrain

    if args.if_data_changed:
        from jx_mlops.errors import UsageError
        from jx_mlops.retrain_data import retrain_if_data_changed

        if args.set:
            raise UsageError("--if-data-changed retrains on new data; it takes no --set")
        views.show_data_update(retrain_if_data_changed(_project(args)))
        return EXIT_OK

    pull = retrain(_project(args), args.set or [], title=args.title, branch=args.branch)
    views.show_pull_opened(pull)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.evaluate import build_report

    comparison = build_report(_project(args), base=args.base, head=args.head,
                              options=_report_options(args))
    if args.html:
        from jx_mlops.evaluate import write_html

        write_html(Path(args.html), comparison)
    views.show_comparison(comparison, args.format)
    return EXIT_USER_ERROR if args.fail_on_regression and not comparison.verdict.passed \
        else EXIT_OK


def _report_options(args: argparse.Namespace) -> Any:
    from jx_mlops.evaluate import ReportOptions

    return ReportOptions(trend_commits=args.trend)


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", metavar="FILE",
                        help="also write the full report as a self-contained HTML file")
    parser.add_argument("--trend", type=int, default=10, metavar="N",
                        help="chart metrics over the last N commits of the base (0: none)")


def cmd_ci_pr(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.ci.context import detect_context

    context = detect_context()
    config = _project(args)
    if args.output:
        from jx_mlops.ci.publish import write_pr_report
        from jx_mlops.forge import git_credentials

        report = write_pr_report(config, context, Path(args.output), number=args.pr,
                                 base=args.base, git_env=git_credentials(config.forge),
                                 options=_report_options(args))
        views.show_pr_report(report, as_json=args.json)
        passed = report.comparison.verdict.passed
    else:
        from jx_mlops.ci.pr import run_pr_check

        check = run_pr_check(config, number=args.pr if args.pr is not None
                             else context.pull_number, commit_results=not args.no_commit,
                             report_id=args.report_id,
                             html=Path(args.html) if args.html else None,
                             options=_report_options(args), run_url=context.run_url)
        views.show_pr_check(check, as_json=args.json)
        passed = check.comparison.verdict.passed
    return EXIT_USER_ERROR if args.fail_on_regression and not passed else EXIT_OK


def cmd_ci_publish(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.ci.context import detect_context
    from jx_mlops.ci.publish import publish_from_directory
    from jx_mlops.config import CONFIG_FILE, find_project_root, load_config

    root = find_project_root(Path(args.directory))
    config = load_config(root) if (root / CONFIG_FILE).is_file() else None
    published = publish_from_directory(Path(args.report_dir), detect_context(),
                                       repo=args.repo, config=config)
    views.show_publication(published, as_json=args.json)
    return EXIT_OK


def cmd_ci_chatops(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.ci.chatops import run_chatops
    from jx_mlops.ci.context import detect_context

    result = run_chatops(_project(args), detect_context(), number=args.pr,
                         comment_id=args.comment)
    views.show_chatops(result, as_json=args.json)
    return EXIT_USER_ERROR if result.failed else EXIT_OK


def cmd_ci_release(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.ci.context import detect_context
    from jx_mlops.ci.release import run_release

    context = detect_context()
    # A push (Actions) or postsubmit (Lighthouse) run releases the commit it was started for.
    ref = args.ref or (context.sha if context.event in ("push", "postsubmit") else None)
    result = run_release(_project(args), ref=ref, run_url=context.run_url)
    views.show_release(result, as_json=args.json)
    return EXIT_USER_ERROR if result.blocked else EXIT_OK


def cmd_register(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.ci.context import detect_context
    from jx_mlops.git import GitRepo
    from jx_mlops.versions import register_model

    config = _project(args)
    repo = GitRepo.open(config.root)
    reg = register_model(config, repo, config.model(args.model), repo.rev_parse(args.ref),
                         version=args.version, bump=args.bump, run_url=detect_context().run_url)
    if args.push:
        from jx_mlops.forge import open_forge

        repo.push("origin", [f"refs/tags/{reg.version.tag}"],
                  env=open_forge(config.forge).git_env())
    views.show_registration(reg, as_json=args.json)
    return EXIT_OK


def cmd_promote(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.promote.flows import promote_model

    result = promote_model(_project(args), args.model, args.version, args.to, force=args.force)
    views.show_promotion(result, as_json=args.json)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge import open_forge
    from jx_mlops.promote.status import collect_status

    config = _project(args)
    entries = collect_status(config, open_forge(config.forge), all_models=args.all,
                             environment=args.env)
    views.show_status(entries, as_json=args.json)
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.git import GitRepo
    from jx_mlops.registry import list_versions
    from jx_mlops.versions import model_name

    config = _project(args)
    repo = GitRepo.open(config.root)
    names = [model_name(config, repo, m.name) for m in config.models] if not args.model \
        else [model_name(config, repo, config.model(args.model).name)]
    versions = [v for name in names for v in list_versions(repo, name)]
    views.show_versions(versions, as_json=args.json)
    return EXIT_OK


def cmd_approve(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.promote.flows import approve_promotion

    result = approve_promotion(_project(args), args.model, args.env, version=args.version,
                               cancel=args.cancel)
    views.show_promotion(result, as_json=args.json)
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.promote.flows import rollback_model

    result = rollback_model(_project(args), args.model, args.env, to=args.to, force=args.force)
    views.show_promotion(result, as_json=args.json)
    return EXIT_OK


def cmd_disable(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.promote.flows import disable_model

    result = disable_model(_project(args), args.model, args.env, reason=args.reason)
    views.show_promotion(result, as_json=args.json)
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge import open_forge
    from jx_mlops.promote.history import collect_history

    config = _project(args)
    config.model(args.model)
    envs = [config.environment(args.env)] if args.env else list(config.environments)
    events = collect_history([(e.name, e.repo) for e in envs], open_forge(config.forge),
                             args.model)
    views.show_history(args.model, events, as_json=args.json)
    return EXIT_OK


def cmd_lineage(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge import open_forge
    from jx_mlops.promote.flows import project_context
    from jx_mlops.promote.lineage import collect_lineage
    from jx_mlops.versions import parse_reference, resolve_version

    config = _project(args)
    model, version = parse_reference(args.reference)
    config.model(model.rsplit(":", 1)[-1])
    forge = open_forge(config.forge)
    with project_context(config, forge) as ctx:
        registry = ctx.registry
        assert registry is not None
        found = resolve_version(config, registry, model, version, fetch=lambda: registry.fetch(
            "origin", tags=True, env=forge.git_env()))
    views.show_lineage(collect_lineage(config, forge, found), as_json=args.json)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge import open_forge
    from jx_mlops.promote.audit import run_audit

    config = _project(args)
    report = run_audit(config, open_forge(config.forge), environment=args.env)
    views.show_audit(report, as_json=args.json)
    return EXIT_OK if report.ok else EXIT_USER_ERROR


def cmd_demo(args: argparse.Namespace) -> int:
    from jx_mlops.demo import run_demo

    return run_demo(keep=Path(args.keep) if args.keep else None)


def _forge_and_repo(args: argparse.Namespace) -> tuple[Any, str]:
    from jx_mlops.config import find_project_root, load_config
    from jx_mlops.forge import open_forge

    if args.repo:
        return open_forge(), args.repo
    config = load_config(find_project_root(Path(args.directory)))
    return open_forge(config.forge), config.forge.repo


def cmd_forge_repo_list(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge import open_forge

    views.show_repos(open_forge().list_repos(), as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_list(args: argparse.Namespace) -> int:
    from jx_mlops import views

    forge, repo = _forge_and_repo(args)
    views.show_pulls(repo, forge.list_pulls(repo, state=args.state), as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_show(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge.base import PullDetail

    forge, repo = _forge_and_repo(args)
    pull = forge.get_pull(repo, args.number)
    detail = PullDetail(pull, tuple(forge.list_comments(repo, args.number)),
                        tuple(forge.get_statuses(repo, pull.head_sha)))
    views.show_pull_detail(repo, detail, as_json=args.json)
    return EXIT_OK


def cmd_forge_pr_comment(args: argparse.Namespace) -> int:
    forge, repo = _forge_and_repo(args)
    body = sys.stdin.read() if args.body == "-" else args.body
    comment = forge.create_comment(repo, args.number, body)
    print(f"commented on {repo}#{args.number} (comment {comment.id})")
    return EXIT_OK


def cmd_forge_collaborator(args: argparse.Namespace) -> int:
    from jx_mlops.errors import ForgeError

    forge, repo = _forge_and_repo(args)
    if not hasattr(forge, "set_permission"):
        raise ForgeError(f"the {forge.kind} forge manages collaborators itself")
    user = None if args.user == "*" else args.user
    forge.set_permission(repo, user, args.permission)
    print(f"{'everyone else' if user is None else user} has {args.permission} on {repo}")
    return EXIT_OK


def cmd_forge_pr_merge(args: argparse.Namespace) -> int:
    forge, repo = _forge_and_repo(args)
    pull = forge.merge_pull(repo, args.number, method=args.method)
    print(f"merged {repo}#{pull.number} into {pull.base} as {pull.merge_commit_sha}")
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------


def _pairs(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    from jx_mlops.errors import UsageError

    pairs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} {item!r}: expected VAR=VALUE")
        pairs[key] = value
    return pairs


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _cmd(sub: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def _forge_parsers(sub: Any) -> None:
    forge = sub.add_parser("forge", help="work with the embedded local forge")
    forge_sub = forge.add_subparsers(dest="forge_command", metavar="{repo,pr,collaborator}",
                                     required=True)
    collab = _cmd(forge_sub, "collaborator", cmd_forge_collaborator,
                  "set a user's permission on a local-forge repository")
    collab.add_argument("user", help="login, or '*' for everyone not listed")
    collab.add_argument("permission", choices=("none", "read", "triage", "write", "maintain",
                                               "admin"))
    collab.add_argument("--repo", help="OWNER/NAME (default: the project's repository)")
    repo = forge_sub.add_parser("repo", help="repositories")
    repo_sub = repo.add_subparsers(dest="repo_command", metavar="{list}", required=True)
    _add_json(_cmd(repo_sub, "list", cmd_forge_repo_list, "list repositories on the forge"))
    pr = forge_sub.add_parser("pr", help="pull requests")
    pr_sub = pr.add_subparsers(dest="pr_command", metavar="{list,show,comment,merge}",
                               required=True)
    for name, handler, text in (
        ("list", cmd_forge_pr_list, "list pull requests"),
        ("show", cmd_forge_pr_show, "show a pull request with comments and statuses"),
        ("comment", cmd_forge_pr_comment, "comment on a pull request"),
        ("merge", cmd_forge_pr_merge, "merge a pull request (real git merge)"),
    ):
        parser = _cmd(pr_sub, name, handler, text)
        parser.add_argument("--repo", help="OWNER/NAME (default: the project's repository)")
        if name != "list":
            parser.add_argument("number", type=int, help="pull request number")
        if name in ("list", "show"):
            _add_json(parser)
        if name == "list":
            parser.add_argument("--state", default="open",
                                choices=("open", "closed", "merged", "all"))
        if name == "comment":
            parser.add_argument("--body", required=True, help="comment text ('-' reads stdin)")
        if name == "merge":
            parser.add_argument("--method", default="merge", choices=("merge", "squash"))


def _project_parsers(sub: Any) -> None:
    qs = sub.add_parser("quickstart", help="project templates")
    qs_sub = qs.add_subparsers(dest="qs_command", metavar="{list}", required=True)
    _add_json(_cmd(qs_sub, "list", cmd_quickstart_list, "list the available quickstarts"))

    p = _cmd(sub, "create", cmd_create, "create a project from a quickstart and publish it")
    p.add_argument("name", help="project name (lowercase, dashes): repository and model name")
    p.add_argument("--quickstart", "-q", required=True,
                   help="bundled quickstart name, directory, or git URL "
                        "(URL#SUBDIR, gh:OWNER/REPO)")
    p.add_argument("--dir", help="where to create it (default: ./NAME)")
    p.add_argument("--forge", default="local", choices=("local", "github"),
                   help="where to publish (github: token from GITHUB_TOKEN or GH_TOKEN)")
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

    p = _cmd(sub, "retrain", cmd_retrain, "open a pull request that retrains with new params")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="param to change, e.g. train.n_estimators=200 (repeatable)")
    p.add_argument("--title", help="pull request title")
    p.add_argument("--branch", help="branch name (default: retrain/<change>)")
    p.add_argument("--if-data-changed", action="store_true",
                   help="open a retrain PR only if DVC-imported data changed upstream")

    p = _cmd(sub, "report", cmd_report, "compare metrics and params of two revisions")
    p.add_argument("--base", help="base revision (default: where HEAD left the default branch)")
    p.add_argument("--head", help="head revision (default: the work tree)")
    p.add_argument("--format", default="terminal", choices=("md", "json", "terminal"))
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when the verdict is fail")
    _add_report_options(p)


def _registry_parsers(sub: Any) -> None:
    p = _cmd(sub, "register", cmd_register, "register a model version as a git tag")
    p.add_argument("model")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--version", help="explicit version vX.Y.Z")
    group.add_argument("--bump", default="patch", choices=("major", "minor", "patch"))
    p.add_argument("--ref", default="HEAD", help="commit to register (default HEAD)")
    p.add_argument("--push", action="store_true", help="push the tag to origin")
    _add_json(p)

    p = _cmd(sub, "versions", cmd_versions, "list the registered versions (as gto show does)")
    p.add_argument("model", nargs="?", help="one model (default: every model of the project)")
    _add_json(p)

    p = _cmd(sub, "promote", cmd_promote, "promote a registered version to an environment")
    p.add_argument("model")
    p.add_argument("--version", required=True, help="vX.Y.Z, or latest")
    p.add_argument("--to", required=True, metavar="ENV")
    p.add_argument("--force", action="store_true",
                   help="promote past failing or pending gates (recorded)")
    _add_json(p)

    p = _cmd(sub, "approve", cmd_approve,
             "approve a waiting promotion (comments /approve) and merge it if its gates pass")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--version", help="which open promotion, when several wait")
    p.add_argument("--cancel", action="store_true", help="withdraw your approval")
    _add_json(p)

    p = _cmd(sub, "rollback", cmd_rollback,
             "promote the previous (or given) version again, through a pull request")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--to", metavar="VERSION", help="version to go back to (default: previous)")
    p.add_argument("--force", action="store_true", help="roll back past failing gates (recorded)")
    _add_json(p)

    p = _cmd(sub, "disable", cmd_disable,
             "take a model out of serving in an environment at once (still recorded)")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--reason", help="why (recorded in the record and the history)")
    _add_json(p)

    p = _cmd(sub, "status", cmd_status, "which version of which model runs where")
    p.add_argument("--all", action="store_true",
                   help="every model in the environment repositories, not just this project's")
    p.add_argument("--env", metavar="ENV", help="one environment")
    _add_json(p)

    p = _cmd(sub, "history", cmd_history,
             "every promotion, rollback and disable of a model, newest first")
    p.add_argument("model")
    p.add_argument("--env", metavar="ENV", help="one environment")
    _add_json(p)

    p = _cmd(sub, "lineage", cmd_lineage,
             "where a version comes from (commit, params, data, metrics, CI run) and runs")
    p.add_argument("reference", metavar="MODEL@VERSION")
    _add_json(p)

    p = _cmd(sub, "audit", cmd_audit,
             "check deployment records against registry tags and dvc.lock; exit 1 on mismatch")
    p.add_argument("--env", metavar="ENV", help="one environment")
    _add_json(p)


def _ci_parsers(sub: Any) -> None:
    ci = sub.add_parser("ci", help="what CI runs: pull request checks and releases")
    ci_sub = ci.add_subparsers(dest="ci_command", metavar="{pr,release,publish,chatops}",
                               required=True)
    p = _cmd(ci_sub, "pr", cmd_ci_pr, "train a pull request and post its evaluation")
    p.add_argument("--pr", type=int, help="pull request number (default: the CI event's, else "
                                          "the current branch's)")
    p.add_argument("--no-commit", action="store_true",
                   help="do not commit reproduced results back to the PR branch")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when the verdict is fail")
    p.add_argument("--report-id", default="default", metavar="ID",
                   help="which report this is (one comment per PR and report id)")
    _add_report_options(p)
    _add_json(p)
    p.add_argument("--output", metavar="DIR",
                   help="write the report to DIR instead of posting it (fork-safe: needs no "
                        "token); `ci publish DIR` posts it")
    p.add_argument("--base", metavar="REV",
                   help="with --output: base revision (default: the event's base commit)")
    p = _cmd(ci_sub, "release", cmd_ci_release, "register and promote after a merge")
    p.add_argument("--ref", help="merged commit (default: the pushed commit in CI, else the "
                                 "remote default branch)")
    _add_json(p)
    p = _cmd(ci_sub, "chatops", cmd_ci_chatops,
             "run /retrain, /report, /promote ENV, /rollback ENV from a PR comment")
    p.add_argument("--pr", type=int, help="pull request (default: the CI event's)")
    p.add_argument("--comment", type=int, metavar="ID",
                   help="comment to act on (default: the event's, else the newest "
                        "unanswered command on the PR)")
    _add_json(p)
    p = _cmd(ci_sub, "publish", cmd_ci_publish,
             "post a report written by `ci pr --output` (comment, status, check run)")
    p.add_argument("report_dir", metavar="DIR", help="the directory `ci pr --output` wrote")
    p.add_argument("--repo", help="OWNER/NAME (default: the event's or project's repository)")
    _add_json(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jx-mlops",
        description="Pull requests drive machine learning: train in CI, compare metrics in "
                    "one PR comment, register versions as git tags, promote through "
                    "environment repositories.")
    parser.add_argument("--version", action="version", version=f"jx-mlops {__version__}")
    parser.add_argument("-C", dest="directory", default=".", metavar="DIR",
                        help="run as if started in DIR")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show tracebacks of unexpected errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _project_parsers(sub)
    _ci_parsers(sub)
    _registry_parsers(sub)
    _forge_parsers(sub)
    p = _cmd(sub, "demo", cmd_demo, "run the whole loop on a throwaway local forge")
    p.add_argument("--keep", metavar="DIR", help="keep the demo's files in DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; the one error boundary of the program."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from jx_mlops import console

        console.set_quiet(args.quiet or getattr(args, "json", False))
        handler: Handler = args.handler
        return handler(args)
    except JxMlopsError as exc:
        print(f"error: {exc.user_message()}", file=sys.stderr)
        if args.verbose:
            import traceback

            traceback.print_exc()
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the boundary: anything else is a bug, reported as such
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"unexpected error: {type(exc).__name__}: {exc} (this is a bug in jx-mlops; "
              "re-run with --verbose for the traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
