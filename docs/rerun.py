"""Re-run what the docs show, with the build they describe, and report or rewrite what
drifted.

Run on demand, as the benchmarks are (not part of the test suite: it trains quickstarts)::

    .venv/bin/python docs/rerun.py                  # every page: report drift, exit 1 if any
    .venv/bin/python docs/rerun.py docs/cli.md      # some pages
    .venv/bin/python docs/rerun.py --write          # rewrite the outputs that drifted
    .venv/bin/python docs/rerun.py --list           # which blocks are re-run, which are not

A fenced block is re-run when an HTML comment right above it says how (rendered pages do
not show it)::

    <!-- rerun session=team columns=80
    env: JX_MLOPS_USER=ada
    setup: jx-mlops -q create churn --quickstart sklearn-classifier
    setup: cd churn
    -->

Each ``$ COMMAND`` line of the block is run, in order, and the lines after it are its
output (stdout and stderr as a terminal shows them). Directives, one a line:

- ``setup: CMD``   run first, output hidden; it must succeed. A here-document's lines
  (``<<'END'`` ... ``END``) belong to it. A process it leaves running writes its PID to
  ``$SCRATCH/pids``, and is stopped when the page is done.
- ``env: K=V``     set for this block and the later blocks of its session.
- ``show: CMD``    the block (no ``$`` lines) is this command's output.
- ``file: PATH``   the block is this file's content.
- ``volatile: RE`` text this block's output may change run to run (besides the usual).
- ``skip: WHY``    not re-run; listed with its reason.

A session (``session=NAME``, default ``main``) is a scratch directory, ``/tmp/docs/NAME``
(made afresh for each page that uses the name; the same path every run, so outputs that
show it, and where their lines wrap, do not change), with its own HOME and JX_MLOPS_HOME,
a fixed git identity (Ada), ``jx-mlops`` of this checkout first on PATH and PYTHONPATH,
and ``$SCRATCH`` naming it; its blocks run in page order and ``cd`` carries over. Options
on the comment's first line: ``session``, ``columns`` (COLUMNS, default 80), ``timeout``
(seconds a command), ``exits=shown`` (a command that fails is followed by ``[exit N]``).

Outputs are compared with their volatile parts normalised (commit and object ids, times,
durations, spacing and where lines wrap): a page whose outputs only
differ there is left as it is, so a re-run without drift changes nothing. ``--write``
replaces each output that drifted with the new one. ``--strict`` counts a change of layout
(where lines wrap, a table's shape) as a drift too: for a change to how output is laid
out, at the price of rewriting outputs whose widths moved with their volatile values.

The page lint: JayeX renamed itself from Jenkins X in 2026; a page names it "JayeX
(formerly Jenkins X)" at its first mention in prose, "JayeX" after (``--write`` fixes it).
And every ``jx-mlops ...`` line of a fenced block, re-run or not, must parse with this
build's parser (a renamed option or a command that is gone is named with its line).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fcntl
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
SCRATCH = Path("/tmp/docs")
IDENTITY = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
INHERITED = ("GIT_", "DVC_", "GITHUB_", "GH_", "JX_MLOPS_", "JOB_", "PULL_", "REPO_")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,})(?P<info>.*)$")
COMMENT = re.compile(r"<!--\s*rerun\b(?P<body>.*?)-->", re.S)
# What changes from run to run without anything having drifted.
VOLATILE = [
    r"\b[0-9a-f]{7,64}\b",                                  # commits, objects, md5s, keys
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?",  # times
    r"\d+(\.\d+)?\s?(s|ms|min|h|d)\b",                      # durations
    r"(?<=<>, )[+-]\d+%",                                   # a training cost's change
    r"comment \d+",                                         # ids a forge hands out
    r"\b\d{4}-W\d\d\b",                                      # ISO weeks
]
BOX = re.compile(r"[│┃╭╮╰╯┏┓┗┛┡┩└┘]")


@dataclass
class Block:
    """A fenced block and how to re-run it."""

    page: Path
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    lines: list[str]  # without the fence's indentation
    indent: str = ""
    options: dict[str, str] = field(default_factory=dict)
    directives: list[tuple[str, str]] = field(default_factory=list)
    annotated: bool = False

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.start + 1}"

    def directive(self, name: str) -> list[str]:
        return [value for key, value in self.directives if key == name]


def parse(page: Path) -> tuple[list[str], list[Block]]:
    """The page's lines and its fenced blocks, each with the rerun comment above it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, n = [], 0
    while n < len(lines):
        match = FENCE.match(lines[n])
        if not match:
            n += 1
            continue
        fence, indent, close = match["fence"], match["indent"], n + 1
        while close < len(lines) and lines[close].strip() != fence:
            close += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip()
                for line in lines[n + 1:close]]
        block = Block(page, n, close, body, indent)
        _annotate(block, lines)
        blocks.append(block)
        n = close + 1
    return lines, blocks


def _annotate(block: Block, lines: list[str]) -> None:
    above = block.start - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above < 0 or not lines[above].rstrip().endswith("-->"):
        return
    first = above
    while first > 0 and "<!--" not in lines[first]:
        first -= 1
    match = COMMENT.search("\n".join(lines[first:above + 1]))
    if not match:
        return
    head, *rest = match["body"].split("\n")
    block.annotated = True
    block.options = dict(token.split("=", 1) for token in shlex.split(head) if "=" in token)
    indent = len(lines[first]) - len(lines[first].lstrip())  # a comment inside a list
    rest = [line[indent:] if not line[:indent].strip() else line for line in rest]
    while rest:
        line = rest.pop(0)
        key, sep, value = line.strip().partition(":")
        if not (sep and key in ("setup", "env", "show", "file", "volatile", "skip")):
            if line.strip():
                raise SystemExit(f"{block.where}: unknown rerun directive {line.strip()!r}")
            continue
        heredoc = re.search(r"<<-?'?(\w+)'?", value)
        if heredoc:  # the here-document's lines belong to the command
            end = rest.index(heredoc.group(1)) + 1
            value, rest = "\n".join([value, *rest[:end]]), rest[end:]
        block.directives.append((key, value.strip()))


class Session:
    """A scratch directory where a page's commands run, as a new user's would."""

    def __init__(self, name: str) -> None:
        self.dir = SCRATCH / name
        shutil.rmtree(self.dir, ignore_errors=True)
        home = self.dir / "home"
        home.mkdir(parents=True)
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n"
                                         "[protocol \"file\"]\n\tallow = always\n"
                                         "[advice]\n\tdetachedHead = false\n")
        self.cwd = self.dir / "work"
        self.cwd.mkdir()
        self.rc = 0
        env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update({
            "HOME": str(home), "JX_MLOPS_HOME": str(self.dir / "jx-home"),
            "JX_MLOPS_USER": "ada", "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"), "GIT_CONFIG_NOSYSTEM": "1",
            "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(self.dir / "dvc-site"),
            "DVC_GLOBAL_CONFIG_DIR": str(home / ".config" / "dvc"),
            "DVC_SYSTEM_CONFIG_DIR": str(self.dir / "dvc-system"),
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": str(ROOT), "SCRATCH": str(self.dir), "TERM": "dumb", **IDENTITY})
        self.env = env

    def close(self, *, keep: bool) -> None:
        """Stop what setups left running (their PIDs in ``$SCRATCH/pids``), then remove
        the directory unless ``keep``."""
        pids = self.dir / "pids"
        for pid in pids.read_text().split() if pids.is_file() else ():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGTERM)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, command: str, columns: str, timeout: float) -> tuple[int, str]:
        """Run ``command`` in bash where the last one left off; (exit code, output)."""
        state = self.dir / ".cwd"
        script = (f"cd {shlex.quote(str(self.cwd))} || exit 97\n(exit {self.rc})\n"
                  f"{command}\n__rc=$?\npwd > {shlex.quote(str(state))}\nexit $__rc\n")
        # A process group of its own: stopped whole on a timeout or when the run is.
        proc = subprocess.Popen(["bash", "-c", script], env={**self.env, "COLUMNS": columns},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            output, self.rc = out.decode("utf-8", "replace"), proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            output, self.rc = f"(timed out after {timeout:.0f} s)", 124
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        if state.is_file():
            self.cwd = Path(state.read_text().strip())
        return self.rc, output


def normalised(text: str, extra: list[str], *, strict: bool = False) -> str:
    """``text`` with what may change run to run replaced; unless ``strict``, also where
    lines wrap and how columns are padded (widths follow the volatile values)."""
    for pattern in [*VOLATILE, *extra]:  # ids and times first: a page's own patterns
        text = re.sub(pattern, "<>", text)  # then see what is left (W49 of 2026-W49)
    if strict:
        return "\n".join(re.sub(r"[─━]+", "─", " ".join(line.split()))
                         for line in text.splitlines())
    text = BOX.sub(" ", text)
    text = re.sub(r"[─━]+", "─", text)
    return " ".join(text.split())


@dataclass
class Outcome:
    block: Block
    status: str  # same | drift | skipped | failed
    detail: str = ""


class PageRun:
    """One page's blocks re-run in their sessions."""

    def __init__(self, page: Path, *, keep: bool = False, strict: bool = False) -> None:
        self.page = page
        self.keep = keep
        self.strict = strict
        self.lines, self.blocks = parse(page)
        self.sessions: dict[str, Session] = {}
        self.replacements: dict[int, list[str]] = {}  # block start -> new body

    def session(self, block: Block) -> Session:
        name = block.options.get("session", "main")
        if name not in self.sessions:
            self.sessions[name] = Session(name)
        return self.sessions[name]

    def run(self) -> Iterator[Outcome]:
        """Each annotated block's outcome, as soon as it is known."""
        try:
            for block in self.blocks:
                if block.annotated and not block.directive("skip"):
                    yield self._run_block(block)
        finally:
            for session in self.sessions.values():
                session.close(keep=self.keep)

    def _run_block(self, block: Block) -> Outcome:
        session = self.session(block)
        columns = block.options.get("columns", "80")
        timeout = float(block.options.get("timeout", "1800"))
        for assignment in block.directive("env"):
            key, _, value = assignment.partition("=")
            session.env[key] = value.replace("$SCRATCH", str(session.dir))
        for command in block.directive("setup"):
            rc, output = session.run(command, columns, timeout)
            if rc:
                return Outcome(block, "failed", f"setup `{command}` exited {rc}:\n"
                                                f"{_tail(output)}")
        shows, files = block.directive("show"), block.directive("file")
        if shows or files:
            if shows:
                _rc, output = session.run(shows[0], columns, timeout)
            else:
                output = (session.cwd / files[0]).read_text(encoding="utf-8")
            return self._compare(block, session, [(None, block.lines, output)])
        preamble, runs = split_commands(block.lines)
        if not runs:
            return Outcome(block, "failed", "no `$` lines, and no show: or file:")
        results = []
        for command, old in runs:
            rc, output = session.run(command, columns, timeout)
            if rc and block.options.get("exits") == "shown":
                output = f"{output.rstrip()}\n[exit {rc}]"
            results.append((command, old, output))
        return self._compare(block, session, results, preamble)

    def _compare(self, block: Block, session: Session,
                 results: list[tuple[str | None, list[str], str]],
                 preamble: list[str] | None = None) -> Outcome:
        extra = block.directive("volatile")
        body, diffs = list(preamble or []), []
        for command, old, output in results:
            new = _display(output)
            if command is not None:
                body.append(f"$ {command}")
            same = normalised("\n".join(old), extra, strict=self.strict) == \
                normalised("\n".join(new), extra, strict=self.strict)
            # The blank lines the page puts between one output and the next command stay.
            blank = len(old) - len(_display("\n".join(old)))
            body += old if same else new + [""] * blank
            if not same:
                diffs.append("\n".join(difflib.unified_diff(
                    old, new, f"shown{' after $ ' + command if command else ''}",
                    "now", lineterm="", n=1)))
        if not diffs:
            return Outcome(block, "same")
        self.replacements[block.start] = body
        return Outcome(block, "drift", "\n".join(diffs))

    def rewritten(self) -> list[str]:
        lines = list(self.lines)
        for block in sorted(self.blocks, key=lambda b: -b.start):
            if block.start in self.replacements:
                lines[block.start + 1:block.end] = [
                    f"{block.indent}{line}" if line else ""
                    for line in self.replacements[block.start]]
        return lines


def split_commands(lines: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(the lines before the first ``$``, [(command, the output shown after it)])."""
    preamble: list[str] = []
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            runs.append((line[2:], []))
        elif runs:
            runs[-1][1].append(line)
        else:
            preamble.append(line)
    return preamble, runs


def _display(output: str) -> list[str]:
    lines = [line.rstrip() for line in output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _tail(text: str, count: int = 15) -> str:
    return "\n".join(text.splitlines()[-count:])


COMMAND = re.compile(r"^(?:\$ )?(?:\S*/)?jx-mlops\s+(?P<args>.*)$")
SHELL_END = re.compile(r"\s(?:\||&&|;|\d?>|#)")


def unparsed_commands(blocks: list[Block]) -> list[str]:
    """The ``jx-mlops`` command lines of the page's fenced blocks that this build's parser
    refuses (a renamed option, a command that is gone), each with argparse's reason.
    Synopses (``[--json]``, ``A|B``, ``...``) are not commands and are not parsed."""
    sys.path.insert(0, str(ROOT))
    from jx_mlops.cli.main import build_parser  # only when linting

    parser, problems = build_parser(), []
    for block in blocks:
        for offset, line in enumerate(block.lines, block.start + 2):
            match = COMMAND.match(line.strip())
            if not match or re.search(r"\[|\.\.\.|[A-Z]\|[A-Z-]|\{", match["args"]):
                continue
            args = SHELL_END.split(f" {match['args']}", maxsplit=1)[0].strip()
            try:
                argv = shlex.split(args)
            except ValueError:
                continue
            error = io.StringIO()
            with contextlib.redirect_stderr(error), contextlib.redirect_stdout(io.StringIO()):
                try:
                    parser.parse_args(argv)
                except SystemExit as exc:  # argparse's own exit (--help is code 0)
                    if exc.code:
                        reason = (error.getvalue().strip().splitlines() or ["?"])[-1]
                        problems.append(f"line {offset}: `jx-mlops {args}`: {reason}")
                except Exception as exc:  # the CLI says a usage error with its own exception
                    problems.append(f"line {offset}: `jx-mlops {args}`: {exc}")
    return problems


NAME_RULE = "JayeX (formerly Jenkins X)"


def jayex_fixes(lines: list[str]) -> tuple[list[str], list[str]]:
    """(the page's lines named as the rule says, the problems found): prose only, code
    blocks and inline code left as they are."""
    fixed, problems, seen, fence = [], [], False, None
    for n, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if match and (fence is None or line.strip() == fence):
            fence = match["fence"] if fence is None else None
            fixed.append(line)
            continue
        if fence is not None:
            fixed.append(line)
            continue
        parts = re.split(r"(`[^`]*`)", line)
        for i in range(0, len(parts), 2):
            parts[i], seen = _name_jayex(parts[i], seen, n, problems)
        fixed.append("".join(parts))
    return fixed, problems


def _name_jayex(text: str, seen: bool, number: int, problems: list[str]) -> tuple[str, bool]:
    out, pos = [], 0
    for match in re.finditer(r"JayeX \(formerly Jenkins X\)|JayeX|Jenkins X", text):
        word = match.group(0)
        wanted = "JayeX" if seen else NAME_RULE
        if word != wanted:
            problems.append(f"line {number}: {word!r} where the rule says {wanted!r}")
        out += [text[pos:match.start()], wanted]
        pos, seen = match.end(), True
    out.append(text[pos:])
    return "".join(out), seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: all)")
    parser.add_argument("--write", action="store_true", help="rewrite what drifted")
    parser.add_argument("--list", action="store_true", help="list blocks; run nothing")
    parser.add_argument("--keep", action="store_true",
                        help="leave the scratch directories in /tmp/docs afterwards")
    parser.add_argument("--strict", action="store_true",
                        help="a change of layout (where lines wrap, a table's shape) is a "
                             "drift too")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on ^C
    pages = [p.resolve() for p in args.pages] or PAGES
    if args.list:  # reads the pages only: no lock, no scratch
        for page in pages:
            _list(PageRun(page))
        return 0
    SCRATCH.mkdir(parents=True, exist_ok=True)
    lock = (SCRATCH / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another docs/rerun.py is using {SCRATCH}") from None
    counts = dict.fromkeys(("same", "drift", "failed", "skipped", "not re-run", "lint"), 0)
    for page in pages:
        _check(PageRun(page, keep=args.keep, strict=args.strict), counts, write=args.write)
    print(", ".join(f"{count} {what}" for what, count in counts.items()))
    failed = counts["failed"] or (not args.write and (counts["drift"] or counts["lint"]))
    return 1 if failed else 0


def _check(run: PageRun, counts: dict[str, int], *, write: bool) -> None:
    """Lint the page, re-run its blocks, print what was found; rewrite it if ``write``."""
    where = run.page.relative_to(ROOT)
    problems = jayex_fixes(run.lines)[1]
    for problem in [*problems, *unparsed_commands(run.blocks)]:
        print(f"{where}: {problem}", flush=True)
        counts["lint"] += 1
    for block in run.blocks:
        if block.directive("skip"):
            counts["skipped"] += 1
        elif not block.annotated and any(line.startswith("$ ") for line in block.lines):
            counts["not re-run"] += 1
            print(f"{block.where}: not re-run (no rerun comment)", flush=True)
    for outcome in run.run():
        counts[outcome.status] += 1
        print(f"{outcome.block.where}: {outcome.status}", flush=True)
        if outcome.detail:
            print(outcome.detail, flush=True)
    if write and (run.replacements or problems):
        run.page.write_text("\n".join(jayex_fixes(run.rewritten())[0]) + "\n",
                            encoding="utf-8")
        print(f"{where}: rewritten", flush=True)


def _list(run: PageRun) -> None:
    for block in run.blocks:
        commands = sum(line.startswith("$ ") for line in block.lines)
        if block.directive("skip"):
            state = f"skipped: {block.directive('skip')[0]}"
        elif block.annotated:
            state = f"re-run in session {block.options.get('session', 'main')}"
        elif commands:
            state = f"NOT RE-RUN ({commands} commands shown)"
        else:
            state = "text (not a command's output)"
        print(f"{block.where}: {state}")


if __name__ == "__main__":
    sys.exit(main())
