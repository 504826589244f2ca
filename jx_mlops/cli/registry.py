"""Registry and environments: register, versions, promote, approve, rollback, disable,
status, history, lineage, audit."""

from __future__ import annotations

import argparse

from jx_mlops.cli.common import EXIT_OK, EXIT_USER_ERROR, add_command, add_json, project_config

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def cmd_register(args: argparse.Namespace) -> int:
    from jx_mlops.ci.context import detect_context
    from jx_mlops.registry.registration import register
    from jx_mlops.views.registry import show_registration

    registration = register(project_config(args), args.model, ref=args.ref, path=args.path,
                            version=args.version, bump=args.bump,
                            run_url=detect_context().run_url, publish=not args.no_publish,
                            push=args.push)
    show_registration(registration, as_json=args.json)
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

    from jx_mlops.promote.status import model_history
    from jx_mlops.views.registry import show_history

    name, events = model_history(Path(args.directory), args.model, environment=args.env)
    show_history(name, events, as_json=args.json)
    return EXIT_OK


def cmd_lineage(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.promote.lineage import lineage_of
    from jx_mlops.views.registry import show_lineage

    show_lineage(lineage_of(Path(args.directory), args.reference), as_json=args.json)
    return EXIT_OK


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


def _output_file(value: str | None) -> Any:
    """``--output FILE`` checked before anything is read: its directory exists and it is
    not a directory itself."""
    from pathlib import Path

    from jx_mlops.errors import UsageError

    if value is None:
        return None
    output = Path(value)
    if output.is_dir():
        raise UsageError(f"--output {value}: a directory; give a file name")
    if not output.parent.is_dir():
        raise UsageError(f"--output {value}: no directory {output.parent}")
    return output


def cmd_bom(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.promote.bom import bom_facts, build_bom, validate
    from jx_mlops.views.supply import show_bom

    output = _output_file(args.output)
    facts = bom_facts(Path(args.directory), args.reference)
    doc = build_bom(facts)
    validate(doc)
    show_bom(doc, facts.notes, fmt=args.format, output=output)
    return EXIT_OK


def cmd_techfile(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from jx_mlops.promote.techfile import headings, render, score, techfile_facts, to_json

    output = _output_file(args.output)
    facts = techfile_facts(Path(args.directory), args.reference, args.since)
    text = json.dumps(to_json(facts), indent=2) + "\n" if args.json else render(facts)
    if output is None:
        print(text, end="")
    else:
        from jx_mlops import console

        output.write_text(text, encoding="utf-8")
        filled, total = score(headings(facts))
        console.info(f"Wrote {output}: {filled} of {total} Annex IV headings filled from "
                     "repository facts (6 more are kept outside the repository)")
    return EXIT_OK


def _register_parser(sub: Any) -> None:
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


def _versions_parser(sub: Any) -> None:
    p = add_command(sub, "versions", cmd_versions,
                    "list the registered versions (as gto show does)")
    p.add_argument("model", nargs="?",
                   help="one model (default: every model of the project, or of the repository)")
    add_json(p)


def _promote_parser(sub: Any) -> None:
    p = add_command(sub, "promote", cmd_promote, "promote a registered version to an environment")
    p.add_argument("model")
    p.add_argument("--version", required=True, help="vX.Y.Z, or latest")
    p.add_argument("--to", required=True, metavar="ENV")
    p.add_argument("--force", action="store_true",
                   help="promote past failing or pending gates (recorded)")
    add_json(p)


def _approve_parser(sub: Any) -> None:
    p = add_command(sub, "approve", cmd_approve,
                    "approve a waiting promotion (comments /approve) and merge it if its "
                    "gates pass")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--version", help="which open promotion, when several wait")
    p.add_argument("--cancel", action="store_true", help="withdraw your approval")
    add_json(p)


def _rollback_parser(sub: Any) -> None:
    p = add_command(sub, "rollback", cmd_rollback,
                    "promote the previous (or given) version again, through a pull request")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--to", metavar="VERSION", help="version to go back to (default: previous)")
    p.add_argument("--force", action="store_true", help="roll back past failing gates (recorded)")
    add_json(p)


def _disable_parser(sub: Any) -> None:
    p = add_command(sub, "disable", cmd_disable,
                    "take a model out of serving in an environment at once (still recorded)")
    p.add_argument("model")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--reason", help="why (recorded in the record and the history)")
    add_json(p)


def _read_parsers(sub: Any) -> None:
    """status, history, lineage, bom, techfile, audit: the commands that only read."""
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

    p = add_command(sub, "bom", cmd_bom,
                    "a version's ML-BOM (CycloneDX 1.6: model card, data hashes, code, "
                    "dependencies)")
    p.add_argument("reference", metavar="MODEL@VERSION", help="the registered version")
    p.add_argument("--format", choices=("cyclonedx", "md"), default="cyclonedx",
                   help="cyclonedx: CycloneDX 1.6 JSON, validated (default); md: the same "
                        "facts as markdown")
    p.add_argument("--output", metavar="FILE", help="write FILE instead of standard output")

    p = add_command(sub, "techfile", cmd_techfile,
                    "a version's technical documentation under EU AI Act Annex IV's headings, "
                    "from repository facts")
    p.add_argument("reference", metavar="MODEL@VERSION", help="the registered version")
    p.add_argument("--since", metavar="VERSION",
                   help="list what changed since this version (data, params, metrics, model)")
    p.add_argument("--output", metavar="FILE", help="write FILE instead of standard output")
    p.add_argument("--json", action="store_true",
                   help="the headings, their facts and the count as JSON instead of markdown")

    p = add_command(sub, "audit", cmd_audit,
                    "check deployment records against registry tags and dvc.lock; exit 1 on "
                    "mismatch")
    p.add_argument("--env", metavar="ENV", help="one environment")
    add_json(p)


def add_parsers(sub: Any) -> None:
    for add in (_register_parser, _versions_parser, _promote_parser, _approve_parser,
                _rollback_parser, _disable_parser, _read_parsers):
        add(sub)
