"""Registry and environments: register, versions, promote, approve, rollback, disable,
status, history, lineage, audit."""

from __future__ import annotations

import argparse
from typing import Any

from jx_mlops.cli.common import EXIT_OK, EXIT_USER_ERROR, add_command, add_json, project_config


def cmd_register(args: argparse.Namespace) -> int:
    from jx_mlops.ci.context import detect_context
    from jx_mlops.git.repo import GitRepo
    from jx_mlops.registry.registration import model_to_register, register_model
    from jx_mlops.views.registry import (
        show_registration,
    )

    config = project_config(args)
    model = model_to_register(config, args.model, args.path)
    repo = GitRepo.open(config.root)
    reg = register_model(config, repo, model, repo.rev_parse(args.ref), version=args.version,
                         bump=args.bump, run_url=detect_context().run_url,
                         publish=not args.no_publish)
    if args.push:
        from jx_mlops.forge.kinds import open_forge

        repo.push("origin", [f"refs/tags/{reg.version.tag}"],
                  env=open_forge(config.forge).git_env())
    show_registration(reg, as_json=args.json)
    return EXIT_OK

def cmd_promote(args: argparse.Namespace) -> int:
    from jx_mlops.promote.actions import promote_model
    from jx_mlops.views.registry import (
        show_promotion,
    )

    result = promote_model(project_config(args), args.model, args.version, args.to,
                           force=args.force)
    show_promotion(result, as_json=args.json)
    return EXIT_OK

def cmd_status(args: argparse.Namespace) -> int:
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.promote.status import collect_status, gto_stage_status
    from jx_mlops.views.registry import (
        show_gto_stages,
        show_status,
    )

    config = project_config(args)
    if not config.environments:  # nothing deployed through jx-mlops: GTO's stages
        show_gto_stages(gto_stage_status(config), as_json=args.json)
        return EXIT_OK
    entries = collect_status(config, open_forge(config.forge), all_models=args.all,
                             environment=args.env)
    show_status(entries, as_json=args.json)
    return EXIT_OK

def cmd_versions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.registry.listing import collect_versions
    from jx_mlops.views.registry import (
        show_versions,
    )

    show_versions(collect_versions(Path(args.directory), args.model), as_json=args.json)
    return EXIT_OK

def cmd_approve(args: argparse.Namespace) -> int:
    from jx_mlops.promote.actions import approve_promotion
    from jx_mlops.views.registry import (
        show_promotion,
    )

    result = approve_promotion(project_config(args), args.model, args.env, version=args.version,
                               cancel=args.cancel)
    show_promotion(result, as_json=args.json)
    return EXIT_OK

def cmd_rollback(args: argparse.Namespace) -> int:
    from jx_mlops.promote.actions import rollback_model
    from jx_mlops.views.registry import (
        show_promotion,
    )

    result = rollback_model(project_config(args), args.model, args.env, to=args.to,
                            force=args.force)
    show_promotion(result, as_json=args.json)
    return EXIT_OK

def cmd_disable(args: argparse.Namespace) -> int:
    from jx_mlops.promote.actions import disable_model
    from jx_mlops.views.registry import (
        show_promotion,
    )

    result = disable_model(project_config(args), args.model, args.env, reason=args.reason)
    show_promotion(result, as_json=args.json)
    return EXIT_OK

def cmd_history(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.config.project import CONFIG_FILE, find_project_root
    from jx_mlops.views.registry import (
        show_history,
    )

    root = find_project_root(Path(args.directory))
    config = project_config(args) if (root / CONFIG_FILE).is_file() else None
    deployed = config is not None and config.environments and \
        any(m.name == args.model for m in config.models)
    if not deployed:  # a model jx-mlops deploys nowhere: GTO's events
        from jx_mlops.promote.stage_tags import gto_history

        name, events = gto_history(Path(args.directory), args.model)
        show_history(name, events, as_json=args.json)
        return EXIT_OK
    from jx_mlops.environments.repo import collect_history
    from jx_mlops.forge.kinds import open_forge

    assert config is not None
    envs = [config.environment(args.env)] if args.env else list(config.environments)
    events = collect_history(open_forge(config.forge), [(e.name, e.repo) for e in envs],
                             [args.model])[args.model]
    show_history(args.model, events, as_json=args.json)
    return EXIT_OK

def cmd_lineage(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.config.project import CONFIG_FILE, find_project_root
    from jx_mlops.promote.lineage import repository_lineage
    from jx_mlops.registry.registration import parse_reference
    from jx_mlops.views.registry import (
        show_lineage,
    )

    model, version = parse_reference(args.reference)
    if not (find_project_root(Path(args.directory)) / CONFIG_FILE).is_file():
        show_lineage(repository_lineage(Path(args.directory), model, version),
                           as_json=args.json)
        return EXIT_OK
    show_lineage(_project_lineage(args, model, version), as_json=args.json)
    return EXIT_OK

def _project_lineage(args: argparse.Namespace, model: str, version: str) -> Any:
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.promote.actions import project_context
    from jx_mlops.promote.lineage import collect_lineage
    from jx_mlops.registry.registration import resolve_version
    from jx_mlops.registry.tags import read_state, versions_of

    config = project_config(args)
    forge = open_forge(config.forge)
    with project_context(config, forge) as ctx:
        registry = ctx.registry
        assert registry is not None
        found = resolve_version(config, registry, model, version, fetch=lambda: registry.fetch(
            "origin", tags=True, env=forge.git_env()))
        staged = [v for v in versions_of(read_state(registry, found.model), found.model,
                                         deprecated=True) if v.version == found.version]
        return collect_lineage(config, forge, staged[0] if staged else found, repo=registry)

def cmd_audit(args: argparse.Namespace) -> int:
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.promote.audit import run_audit
    from jx_mlops.views.registry import (
        show_audit,
    )

    config = project_config(args)
    report = run_audit(config, open_forge(config.forge), environment=args.env)
    show_audit(report, as_json=args.json)
    return EXIT_OK if report.ok else EXIT_USER_ERROR

def add_parsers(sub: Any) -> None:
    p = add_command(sub, "register", cmd_register, "register a model version as a git tag")
    p.add_argument("model")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--version", help="explicit version vX.Y.Z")
    group.add_argument("--bump", default="patch", choices=("major", "minor", "patch"))
    p.add_argument("--ref", default="HEAD", help="commit to register (default HEAD)")
    p.add_argument("--push", action="store_true", help="push the tag to origin")
    p.add_argument("--path", metavar="PATH|URI",
                   help="the artifact: a DVC output, a git-tracked file or a remote URI "
                        "(default: from mlops.yaml or dvc.yaml artifacts)")
    p.add_argument("--no-publish", action="store_true",
                   help="do not write the serving copy into the DVC remote")
    add_json(p)

    p = add_command(sub, "versions", cmd_versions,
                    "list the registered versions (as gto show does)")
    p.add_argument("model", nargs="?",
                   help="one model (default: every model of the project, or of the repository)")
    add_json(p)

    p = add_command(sub, "promote", cmd_promote, "promote a registered version to an environment")
    p.add_argument("model")
    p.add_argument("--version", required=True, help="vX.Y.Z, or latest")
    p.add_argument("--to", required=True, metavar="ENV")
    p.add_argument("--force", action="store_true",
                   help="promote past failing or pending gates (recorded)")
    add_json(p)

    p = add_command(sub, "approve", cmd_approve,
                    "approve a waiting promotion (comments /approve) and merge it if its "
                    "gates pass")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--version", help="which open promotion, when several wait")
    p.add_argument("--cancel", action="store_true", help="withdraw your approval")
    add_json(p)

    p = add_command(sub, "rollback", cmd_rollback,
                    "promote the previous (or given) version again, through a pull request")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--to", metavar="VERSION", help="version to go back to (default: previous)")
    p.add_argument("--force", action="store_true", help="roll back past failing gates (recorded)")
    add_json(p)

    p = add_command(sub, "disable", cmd_disable,
                    "take a model out of serving in an environment at once (still recorded)")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--reason", help="why (recorded in the record and the history)")
    add_json(p)

    p = add_command(sub, "status", cmd_status, "which version of which model runs where")
    p.add_argument("--all", action="store_true",
                   help="every model in the environment repositories, not just this project's")
    p.add_argument("--env", metavar="ENV", help="one environment")
    add_json(p)

    p = add_command(sub, "history", cmd_history,
                    "every promotion, rollback and disable of a model, newest first")
    p.add_argument("model")
    p.add_argument("--env", metavar="ENV", help="one environment")
    add_json(p)

    p = add_command(sub, "lineage", cmd_lineage,
                    "where a version comes from (commit, params, data, metrics, CI run) and runs")
    p.add_argument("reference", metavar="MODEL@VERSION")
    add_json(p)

    p = add_command(sub, "audit", cmd_audit,
                    "check deployment records against registry tags and dvc.lock; exit 1 on "
                    "mismatch")
    p.add_argument("--env", metavar="ENV", help="one environment")
    add_json(p)
