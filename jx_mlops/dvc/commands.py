"""DVC's commands (`dvc init`, `repro`, `push`, `pull`, `add`, `update`, `checkout`).

They run as ``python -m dvc`` child processes so their output can be streamed and their
failures reported in one line. DVC's *metadata* is read without DVC (``lockfile``,
``pipeline``) and its storage by content (``storage``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from jx_mlops.errors import DvcError

LineCallback = Callable[[str], None]


def update(root: Path, targets: Sequence[str], *, download: bool = True) -> None:
    """``dvc update`` imported data; without ``download`` only the .dvc files learn that
    upstream moved (DVC checks the source revision or checksum, fetches no data)."""
    run_dvc(root, ["update", *([] if download else ["--no-download"]), *targets])


def checkout(root: Path, targets: Sequence[str]) -> None:
    run_dvc(root, ["checkout", *targets])


# -- running DVC --------------------------------------------------------------------------


def dvc_env() -> dict[str, str]:
    """Environment for DVC and the stage commands it runs.

    Analytics are off (CI and tests are offline), and the interpreter running jx-mlops is
    first on PATH so a stage's ``python`` finds the same installed packages.
    """
    env = dict(os.environ)
    env["DVC_NO_ANALYTICS"] = "1"
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    return env


_INVALID = re.compile(r"^'(?:\./)?(?P<file>[^']+)' is invalid\.$")


def _failure_line(output: str) -> str:
    """The line that says why DVC failed: its ERROR, or its account of an invalid file
    (``'./dvc.yaml' is invalid.``, then the parser's words around a code excerpt)."""
    raw = output.splitlines()
    for index, line in enumerate(raw):
        found = _INVALID.match(line.strip())
        if found:  # the parser's sentences; the excerpt's lines are indented
            why = [ln.strip() for ln in raw[index + 1:] if ln.strip()
                   and not ln[:1].isspace() and not ln.startswith(("WARNING", "ERROR"))]
            return f"{found['file']} is invalid: {'; '.join(why[:3]) or 'see dvc'}"
    lines = [ln.strip() for ln in raw if ln.strip()]
    for line in reversed(lines):
        if line.startswith("ERROR:"):
            return line[len("ERROR:"):].strip()
    return lines[-1] if lines else "no output"


def run_dvc(root: Path, args: Sequence[str], *, on_line: LineCallback | None = None,
            on_start: Callable[[int], None] | None = None) -> str:
    """Run ``dvc ARGS`` in ``root``; returns its combined output, raises DvcError on failure.

    ``on_line`` sees each line of output as it comes; ``on_start`` gets the process id.
    """
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dvc", *args], cwd=root, env=dvc_env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    except OSError as exc:
        raise DvcError(f"cannot run dvc: {exc}") from None
    if on_start is not None:
        on_start(proc.pid)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if on_line is not None:
            on_line(line.rstrip("\n"))
    status = proc.wait()
    output = "".join(lines)
    if status != 0:
        raise DvcError(f"dvc {args[0]} failed in {root}: {_failure_line(output)}")
    return output


def init(root: Path) -> None:
    """``dvc init`` in a git work tree, with analytics disabled for the project.

    The setting is written into the empty .dvc/config ``dvc init`` leaves, as ``dvc config
    core.analytics false`` writes it: one DVC start less (0.6-0.8 s of CPU). A DVC whose
    init writes a config of its own gets ``dvc config``.
    """
    run_dvc(root, ["init"])
    config = root / ".dvc" / "config"
    if config.is_file() and not config.read_text(encoding="utf-8").strip():
        config.write_text("[core]\n    analytics = false\n", encoding="utf-8")
    else:
        run_dvc(root, ["config", "core.analytics", "false"])


def add_default_remote(root: Path, name: str, url: str) -> None:
    run_dvc(root, ["remote", "add", "--default", "--force", name, url])


def add(root: Path, paths: Sequence[str]) -> None:
    # Not -q: DVC's quiet mode swallows the error message too (a quickstart's invalid
    # dvc.yaml surfaces here), and the output is only shown when the command fails.
    run_dvc(root, ["add", *paths])


def repro(root: Path, *, pull: bool = False, run_cache: bool = True,
          on_line: LineCallback | None = None,
          on_start: Callable[[int], None] | None = None, targets: Sequence[str] = ()) -> str:
    """``dvc repro`` the whole pipeline (or ``targets`` and what they depend on); with
    ``pull``, fetch missing data first; without ``run_cache``, no stage is restored from
    DVC's run cache (nor is it pulled)."""
    return run_dvc(root, ["repro", *(["--pull"] if pull else []),
                          *([] if run_cache else ["--no-run-cache"]), *targets],
                   on_line=on_line, on_start=on_start)


def changed_stages(root: Path, targets: Sequence[str]) -> set[str]:
    """Which of ``targets`` (and what they depend on) DVC would run: ``dvc status``."""
    output = run_dvc(root, ["status", "--json", *targets])
    start = output.find("{")
    try:
        found = json.loads(output[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        raise DvcError(f"dvc status in {root}: unreadable answer {output[:200]!r}") from None
    return {name.rsplit(":", 1)[-1] for name in found} if isinstance(found, dict) else set()


def repro_stage(root: Path, stage: str, *, on_line: LineCallback | None = None) -> str:
    """Run stage ``stage`` alone and always (``--single-item --force``): its dependencies
    must already be in the work tree, and no earlier run may stand in for this one."""
    return run_dvc(root, ["repro", "--single-item", "--force", "--no-run-cache", stage],
                   on_line=on_line)


def push(root: Path, *, run_cache: bool = False, exclude: Sequence[str] = ()) -> None:
    """``dvc push``; with ``run_cache``, also the run history of every stage, so a stage
    run here is restored instead of re-run anywhere else with the same inputs.
    ``exclude``: ``.dvc`` files not to push (as ``pull``)."""
    run_dvc(root, ["push", *(["--run-cache"] if run_cache else []),
                   *_targets(root, exclude)])


def pull(root: Path, *, run_cache: bool = False, exclude: Sequence[str] = ()) -> None:
    """``dvc pull`` what exists; with ``run_cache``, also the remote's run history.

    ``exclude``: ``.dvc`` files not to pull (a sealed holdout must not land in a PR's
    work tree); the others, and every dvc.yaml's outputs, are named as targets."""
    run_dvc(root, ["pull", "--allow-missing", *(["--run-cache"] if run_cache else []),
                   *_targets(root, exclude)])


def _targets(root: Path, exclude: Sequence[str]) -> list[str]:
    """Every ``.dvc`` file and dvc.yaml of ``root`` but ``exclude`` ([] without it: DVC's
    own default, everything)."""
    if not exclude:
        return []
    skip = {os.path.normpath(e) for e in exclude}
    found = [p.relative_to(root) for pattern in ("*.dvc", "dvc.yaml") for p in root.rglob(pattern)
             if p.is_file() and not {".dvc", ".git"} & set(p.relative_to(root).parts[:-1])]
    return sorted(str(p) for p in found if str(p) not in skip)


