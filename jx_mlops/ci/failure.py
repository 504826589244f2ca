"""When training fails: which stage, its command, the end of its output, how to reproduce.

The output is DVC's combined stream (DVC prints each stage's ``Running stage 'NAME':`` and
``> COMMAND`` before the command's own stdout/stderr), so the failing stage is the last one
announced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RUNNING = re.compile(r"^Running stage '(?P<stage>[^']+)':")
TAIL_LINES = 40
_STATUS_LENGTH = 100


@dataclass(frozen=True)
class TrainingFailure:
    """A failed `dvc repro`: the stage that failed (if DVC got that far) and the output."""

    stage: str | None
    command: str | None
    tail: tuple[str, ...]
    reason: str

    @property
    def status(self) -> str:
        """A short, readable commit-status description: where, and the error's own words
        (the exception without its module path), cut at a word near 100 characters."""
        where = f"training failed in stage {self.stage}" if self.stage else \
            "training failed (dvc repro)"
        reason = re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=\w+(?:Error|Exception)\b)", "", self.reason)
        text = f"{where}: {reason}"
        if len(text) <= _STATUS_LENGTH:
            return text
        cut = text[:_STATUS_LENGTH - 1].rsplit(" ", 1)[0]
        return cut.rstrip(".,;:") + "…"

    @property
    def headline(self) -> str:
        """The one-line error the CLI ends with."""
        command = f" ({self.command})" if self.command else ""
        where = f"stage {self.stage}{command} failed" if self.stage else "dvc repro failed"
        return f"{where}: {self.reason}"


def _last_error(lines: list[str]) -> str:
    """The line that says why: DVC's own ERROR, else the command's last exception line."""
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception)\b.*:", line.strip()):
            return line.strip()
    for line in reversed(lines):
        if line.startswith("ERROR:"):
            return line[len("ERROR:"):].strip()
    return lines[-1].strip() if lines else "no output"


def parse_failure(output: str, tail: int = TAIL_LINES) -> TrainingFailure:
    """What a failed `dvc repro` printed, read back."""
    lines = [line.rstrip() for line in output.splitlines()]
    stage = command = None
    start = 0
    for index, line in enumerate(lines):
        match = _RUNNING.match(line)
        if match:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            command = following[2:].strip() if following.startswith("> ") else None
            stage, start = match["stage"], index + (2 if command is not None else 1)
    own = [line for line in lines[start:] if line.strip()]
    return TrainingFailure(stage, command, tuple(own[-tail:]), _last_error(own))


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_failure(failure: TrainingFailure, *, marker: str, pull_number: int, branch: str,
                   sha: str, title: str = "jx-mlops evaluation") -> str:
    """The evaluation comment in its failed form."""
    output = "\n".join(failure.tail).replace("\r", "")
    fence = _fence(output)
    stage = f"`{failure.stage}`" if failure.stage else "the pipeline"
    command = f" (`{failure.command}`)" if failure.command else ""
    target = f" {failure.stage}" if failure.stage else ""
    lines = [
        marker,
        f"## {title}: ❌ training failed",
        "",
        f"Training PR #{pull_number} at `{sha[:12]}` failed in stage {stage}{command}, so "
        "there is nothing to evaluate.",
        "",
        f"**Why:** `{failure.reason.replace('`', chr(39))}`",
        "",
        f"<details open><summary>Last {len(failure.tail)} lines of the stage's output"
        "</summary>",
        "",
        f"{fence}text",
        output,
        fence,
        "",
        "</details>",
        "",
        "**Reproduce locally:**",
        "",
        "```sh",
        f"git fetch origin {branch} && git checkout {branch}",
        f"dvc repro --pull{target}",
        "```",
        "",
        "Push a fix to this branch, or comment `/retrain` to train again.",
    ]
    return "\n".join(lines) + "\n"
