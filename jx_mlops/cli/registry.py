"""Registry and environments: register, versions, promote, approve, rollback, disable,
status, history, lineage, audit."""

from __future__ import annotations

import argparse

from jx_mlops.cli.common import (
    EXIT_OK,
    EXIT_USER_ERROR,
    add_command,
    add_env,
    add_json,
    add_model_reference,
    model_and_version,
    project_config,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any


def cmd_register(args: argparse.Namespace) -> int:
    from pathlib import Path

    from jx_mlops.ci.context import detect_context
    from jx_mlops.promote.ocipush import oci_publisher
    from jx_mlops.registry.registration import register, registry_config
    from jx_mlops.views.registry import show_registration

    model, version = model_and_version(args)
    if version is not None and args.bump is not None:
        from jx_mlops.errors import UsageError

        raise UsageError(f"register {args.model}: a version and --bump {args.bump} both say "
                         "which version; give one")
    # Without mlops.yaml, as `gto register`: the models dvc.yaml and artifacts.yaml declare.
    config = registry_config(Path(args.directory))
    registration = register(config, model, ref=args.ref,
                            path=args.path, version=version, bump=args.bump or "patch",
                            run_url=detect_context().run_url, publish=not args.no_publish,
                            push=args.push, unsigned=args.unsigned,
                            oci=oci_publisher(config))
    show_registration(registration, as_json=args.json)
    return EXIT_OK


def cmd_promote(args: argparse.Namespace) -> int:
    from jx_mlops.promote.actions import promote_model
    from jx_mlops.views.registry import (
        show_promotion,
    )

    model, version = model_and_version(args, required=True)
    assert version is not None  # required=True
    result = promote_model(project_config(args), model, version, args.env, force=args.force)
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

    model, version = model_and_version(args)
    result = approve_promotion(project_config(args), model, args.env, version=version,
                               cancel=args.cancel)
    show_promotion(result, as_json=args.json)
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from jx_mlops.promote.actions import rollback_model
    from jx_mlops.views.registry import (
        show_promotion,
    )

    model, version = model_and_version(args)
    result = rollback_model(project_config(args), model, args.env, to=version,
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

    model, version = model_and_version(args, required=True)
    show_lineage(lineage_of(Path(args.directory), f"{model}@{version}"), as_json=args.json)
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
    model, version = model_and_version(args, required=True)
    facts = bom_facts(Path(args.directory), f"{model}@{version}")
    doc = build_bom(facts)
    validate(doc)
    show_bom(doc, facts.notes, fmt=args.format, output=output)
    return EXIT_OK


def cmd_techfile(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from jx_mlops.promote.techfile import headings, render, score, techfile_facts, to_json

    output = _output_file(args.output)
    model, version = model_and_version(args, required=True)
    facts = techfile_facts(Path(args.directory), f"{model}@{version}", args.since)
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
    p.add_argument("model", metavar="MODEL[@VERSION]",
                   help="the model (of mlops.yaml, dvc.yaml artifacts, or any name with "
                        "--path), with @vX.Y.Z to choose its version")
    p.add_argument("--version", metavar="VERSION",
                   help="explicit version vX.Y.Z (the same as MODEL@vX.Y.Z)")
    p.add_argument("--bump", choices=("major", "minor", "patch"),
                   help="which part of the latest version to increase (default: patch)")
    p.add_argument("--ref", default="HEAD", help="commit to register (default HEAD)")
    p.add_argument("--push", action="store_true", help="push the tag to origin")
    p.add_argument("--path", metavar="PATH|URI",
                   help="the artifact: a DVC output, a git-tracked file or a remote URI "
                        "(default: from mlops.yaml or dvc.yaml artifacts)")
    p.add_argument("--no-publish", action="store_true",
                   help="do not write the serving copy into the DVC remote")
    p.add_argument("--unsigned", metavar="REASON",
                   help="register without a signature although mlops.yaml configures "
                        "signing (REASON is recorded in the tag)")
    add_json(p)


def _versions_parser(sub: Any) -> None:
    p = add_command(sub, "versions", cmd_versions,
                    "list the registered versions (as gto show does)")
    p.add_argument("model", nargs="?",
                   help="one model (default: every model of the project, or of the repository)")
    add_json(p)


def _alias(verb: str, alias: bool) -> str | None:
    return f"jx-mlops env {verb}" if alias else None


def promote_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "promote", cmd_promote, "promote a registered version to an environment",
                    alias_of=_alias("promote", alias))
    add_model_reference(p, "vX.Y.Z, or latest (the same as MODEL@VERSION)")
    add_env(p, "the environment to promote to (--to is the same)", required=True, alias="--to")
    p.add_argument("--force", action="store_true",
                   help="promote past failing or pending gates (recorded)")
    add_json(p)


def approve_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "approve", cmd_approve,
                    "approve a waiting promotion (comments /approve) and merge it if its "
                    "gates pass", alias_of=_alias("approve", alias))
    add_model_reference(p, "which open promotion, when several wait (the same as "
                           "MODEL@VERSION)")
    add_env(p, "the environment the promotion waits for", required=True)
    p.add_argument("--cancel", action="store_true", help="withdraw your approval")
    add_json(p)


def rollback_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "rollback", cmd_rollback,
                    "promote the previous (or given) version again, through a pull request",
                    alias_of=_alias("rollback", alias))
    add_model_reference(p, "version to go back to (default: the previous one; the same as "
                           "MODEL@VERSION; --to is the same)", version_alias="--to")
    add_env(p, "the environment to roll back", required=True)
    p.add_argument("--force", action="store_true", help="roll back past failing gates (recorded)")
    add_json(p)


def disable_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "disable", cmd_disable,
                    "take a model out of serving in an environment at once (still recorded)",
                    alias_of=_alias("disable", alias))
    p.add_argument("model", help="a model of mlops.yaml")
    add_env(p, "the environment to take it out of", required=True)
    p.add_argument("--reason", help="why (recorded in the record and the history)")
    add_json(p)


def status_parser(sub: Any, *, alias: bool = False) -> None:
    p = add_command(sub, "status", cmd_status, "which version of which model runs where",
                    alias_of=_alias("status", alias))
    p.add_argument("--all", action="store_true",
                   help="every model in the environment repositories, not just this project's")
    add_env(p, "one environment")
    add_json(p)


def _read_parsers(sub: Any) -> None:
    """history, lineage, bom, techfile, audit: the commands that only read."""
    p = add_command(sub, "history", cmd_history,
                    "every promotion, rollback and disable of a model, newest first")
    p.add_argument("model", help="a model of mlops.yaml (or a GTO artifact)")
    add_env(p, "one environment")
    add_json(p)

    p = add_command(sub, "lineage", cmd_lineage,
                    "where a version comes from (commit, params, data, metrics, CI run) and runs")
    add_model_reference(p, "vX.Y.Z, or latest (the same as MODEL@VERSION)")
    add_json(p)

    p = add_command(sub, "bom", cmd_bom,
                    "a version's ML-BOM (CycloneDX 1.6: model card, data hashes, code, "
                    "dependencies)")
    add_model_reference(p, "vX.Y.Z, or latest (the same as MODEL@VERSION)")
    p.add_argument("--format", choices=("cyclonedx", "md"), default="cyclonedx",
                   help="cyclonedx: CycloneDX 1.6 JSON, validated (default); md: the same "
                        "facts as markdown")
    p.add_argument("--output", metavar="FILE", help="write FILE instead of standard output")

    p = add_command(sub, "techfile", cmd_techfile,
                    "a version's technical documentation under EU AI Act Annex IV's headings, "
                    "from repository facts")
    add_model_reference(p, "vX.Y.Z, or latest (the same as MODEL@VERSION)")
    p.add_argument("--since", metavar="VERSION",
                   help="list what changed since this version (data, params, metrics, model)")
    p.add_argument("--output", metavar="FILE", help="write FILE instead of standard output")
    p.add_argument("--json", action="store_true",
                   help="the headings, their facts and the count as JSON instead of markdown")

    p = add_command(sub, "audit", cmd_audit,
                    "check deployment records against registry tags and dvc.lock; exit 1 on "
                    "mismatch")
    add_env(p, "one environment")
    add_json(p)


def add_parsers(sub: Any) -> None:
    """The registry's commands; the environment verbs are added by ``cli.env``."""
    for add in (_register_parser, _versions_parser, _read_parsers):
        add(sub)
