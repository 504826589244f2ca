"""ChatOps commands read from PR comments: on their own lines, outside quotes and code."""

from __future__ import annotations

from jx_mlops.ci.chatops_commands import ChatCommand, parse_commands


def test_commands_on_their_own_lines_outside_quotes_and_code() -> None:
    body = "\r\n".join([
        "Looks good.", "/promote production", "  /retrain", "/report please",
        "> /promote staging", "```", "/rollback production", "```",
        "~~~~ text", "/retrain", "~~~", "/retrain inside the unclosed-by-short fence", "~~~~",
        "    /report", "\t/report", "`/retrain`", "Please run /retrain now.",
        "<!-- /promote production", "still a comment -->", "/lgtm", "/approve",
        "/rollback", "/Promote production", "/promote staging",
    ])
    assert parse_commands(body) == [
        ChatCommand("promote", ("production",)),
        ChatCommand("retrain", ()),
        ChatCommand("report", ("please",), "usage: /report"),
        ChatCommand("rollback", (), "usage: /rollback ENV"),
        ChatCommand("promote", ("staging",)),
    ]
    assert parse_commands("```\n/retrain") == []  # a fence left open hides the rest
    assert parse_commands("``` `x` ```\n/retrain") == [ChatCommand("retrain", ())]
    assert parse_commands("") == []


def test_repeated_commands_in_one_comment_run_once() -> None:
    from jx_mlops.ci.chatops import unique_commands

    commands = unique_commands(parse_commands("/retrain\n" * 10 + "/report\n/retrain\n"))
    assert [c.text for c in commands] == ["/retrain", "/report"]


def test_an_html_comment_opened_mid_line_hides_the_lines_it_spans() -> None:
    """Attack 10 of issue 20: GitHub hides ``<!-- ... -->`` wherever it opens, so the
    command between is invisible to every reader and must not run."""
    assert parse_commands("text <!-- notes\n/promote production\n-->") == []
    assert parse_commands("a <!-- b --> c\n/report") == [ChatCommand("report", ())]
    assert parse_commands("<!-- x -->/retrain") == [ChatCommand("retrain", ())]
    assert parse_commands("see <!-- unclosed\n/rollback staging\n") == []
    assert parse_commands("x <!-- y\n/promote production\n--> z\n/report") == [
        ChatCommand("report", ())]
