"""ChatOps commands in a pull request comment (pure: text in, commands out).

A command is a line of its own starting with ``/`` (up to three spaces of indentation, as
markdown allows for a paragraph): ``/retrain``, ``/report``, ``/promote ENV``,
``/rollback ENV``. Text that only *shows* a command is ignored, so quoting someone's
comment or documenting the commands never runs them:

- quoted lines (``> /promote production``, what GitHub's "Quote reply" writes);
- fenced code blocks (``` or ~~~, closed by a fence of the same character at least as
  long), and indented code (four spaces or a tab);
- HTML comments (``<!-- /retrain -->``), wherever ``<!--`` appears: one opened in the
  middle of a line and closed lines later hides every line between, as GitHub shows it
  (an unclosed one hides the rest of the comment);
- inline code (```/retrain```) and commands in the middle of a sentence.

Unknown ``/words`` (``/lgtm``, ``/approve``...) belong to other bots and are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# name -> (number of arguments, what the argument is)
COMMANDS: dict[str, tuple[int, str]] = {
    "retrain": (0, ""), "report": (0, ""), "promote": (1, "ENV"), "rollback": (1, "ENV"),
}
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_COMMAND = re.compile(r"^ {0,3}/(?P<name>[a-z][a-z0-9-]*)(?:[ \t]+(?P<args>.*?))?[ \t]*$")


@dataclass(frozen=True)
class ChatCommand:
    """One command as written; ``problem`` says why it cannot run (wrong arguments)."""

    name: str
    args: tuple[str, ...]
    problem: str | None = None

    @property
    def text(self) -> str:
        return " ".join((f"/{self.name}", *self.args))


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence[0] * len(fence))
            and set(stripped) == {fence[0]})


def _visible_lines(body: str) -> list[str]:
    """The lines of ``body`` that are neither code, quotes nor HTML comments."""
    lines: list[str] = []
    fence: str | None = None
    text = _HTML_COMMENT.sub("", body.replace("\r\n", "\n").replace("\r", "\n"))
    for line in text.split("\n"):
        if fence is not None:
            if _closes(line, fence):
                fence = None
            continue
        opened = _FENCE.match(line)
        if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
            fence = opened["fence"]
            continue
        expanded = line.expandtabs(4)
        if expanded.startswith("    ") or expanded.lstrip(" ").startswith(">"):
            continue
        lines.append(line)
    return lines


def parse_commands(body: str) -> list[ChatCommand]:
    """The jx-mlops commands of a comment, in the order written."""
    commands = []
    for line in _visible_lines(body):
        match = _COMMAND.match(line)
        if not match or match["name"] not in COMMANDS:
            continue
        name = match["name"]
        args = tuple((match["args"] or "").split())
        count, what = COMMANDS[name]
        problem = None
        if len(args) != count:
            problem = f"usage: /{name} {what}".strip()
        commands.append(ChatCommand(name, args, problem))
    return commands
