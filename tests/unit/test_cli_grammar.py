"""One grammar for the whole command line, checked on the parser itself: every option
explained, one meaning per short flag, `--env` wherever an environment is named,
`MODEL[@VERSION]` wherever a version is, `--json` wherever data is printed, and the
environment verbs under `env` and under their first names alike."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from jx_mlops.cli.main import build_parser

# Commands that print no data: the demo narrates a story.
# bom's output is a JSON document already (CycloneDX; --format md for people).
NO_JSON = {"jx-mlops demo", "jx-mlops bom"}
ENV_VERBS = ("promote", "approve", "rollback", "disable", "hold", "freeze", "unfreeze",
             "status")
NAMES_A_VERSION = ("promote", "approve", "rollback", "hold", "lineage", "register", "bom",
                   "techfile")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _leaves(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    children = _subparsers(parser)
    if not children:
        yield parser
    for child in children.values():
        yield from _leaves(child)


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, (argparse._HelpAction,
                                                             argparse._SubParsersAction))]


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


@pytest.fixture(scope="module")
def leaves(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {leaf.prog: leaf for leaf in _leaves(parser)}


def test_every_option_and_argument_has_help(parser, leaves) -> None:
    missing = [f"{prog} {'/'.join(a.option_strings) or a.dest}"
               for prog, leaf in [("jx-mlops", parser), *leaves.items()]
               for a in _options(leaf) if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []


def test_a_short_flag_means_one_thing(parser, leaves) -> None:
    meanings: dict[str, set[str]] = {}
    for leaf in [parser, *leaves.values()]:
        for action in _options(leaf):
            for flag in action.option_strings:
                if len(flag) == 2:
                    meanings.setdefault(flag, set()).add(action.dest)
    assert {flag: dests for flag, dests in meanings.items() if len(dests) > 1} == {}
    # create's --quickstart has no -q: that is --quiet, before the command.
    assert "-q" not in leaves["jx-mlops create"]._option_string_actions


def test_every_command_that_prints_data_takes_json(leaves) -> None:
    assert sorted(prog for prog, leaf in leaves.items()
                  if "--json" not in leaf._option_string_actions) == sorted(NO_JSON)


def test_an_environment_is_always_named_with_env(leaves) -> None:
    for prog, leaf in leaves.items():
        for action in _options(leaf):
            if action.metavar == "ENV" or action.dest == "env":
                assert "--env" in action.option_strings, prog


def test_a_version_is_named_as_model_at_version_or_with_version(leaves) -> None:
    for verb in NAMES_A_VERSION:
        leaf = leaves.get(f"jx-mlops env {verb}", leaves.get(f"jx-mlops {verb}"))
        positional = [a for a in _options(leaf) if not a.option_strings and a.dest == "model"]
        assert positional and positional[0].metavar == "MODEL[@VERSION]", verb
        assert "--version" in leaf._option_string_actions, verb


def test_environment_verbs_are_grouped_and_keep_their_first_names(parser, leaves) -> None:
    for verb in ENV_VERBS:
        grouped, alias = leaves[f"jx-mlops env {verb}"], leaves[f"jx-mlops {verb}"]
        assert [a.option_strings for a in _options(grouped)] == \
            [a.option_strings for a in _options(alias)]
        assert f"jx-mlops env {verb}" in alias.description
    # The first names work but do not crowd the list of commands.
    listed = parser.format_help()
    assert "  env " in listed and "\n    promote " not in listed


def test_old_and_new_spellings_parse_alike(parser) -> None:
    def parsed(*argv: str) -> tuple[str | None, str | None, str]:
        args = parser.parse_args(list(argv))
        return args.model, args.version, args.env

    assert parsed("promote", "churn", "--version", "v0.0.1", "--to", "staging") == \
        parsed("env", "promote", "churn", "--version", "v0.0.1", "--env", "staging") == \
        ("churn", "v0.0.1", "staging")
    assert parsed("rollback", "churn", "--env", "prod", "--to", "v0.0.1") == \
        parsed("env", "rollback", "churn", "--env", "prod", "--version", "v0.0.1")
    assert parser.parse_args(["report", "--json"]).json
