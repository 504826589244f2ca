"""One stage as a job (pure): its content id, the shell command it runs on the cluster,
and what the command sends back through its log.

The command runs in a private copy of the unpacked working directory (Ray unpacks a
package once per content hash and every job with that hash shares the directory), makes
it a git repository (Ray never uploads ``.git``; DVC wants one), points DVC's remote where
``ci pr``'s is, runs the stage with DVC and pushes its outputs. dvc.lock and the stage's
``cache: false`` outputs (which ``dvc push`` never sends) come back in the log between
marker lines: only whole lines count, since the log's first line echoes the command.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from dataclasses import dataclass
from typing import Any

# Bump when the command changes: a job of the old command is not this job.
PROTOCOL = 1
LOCK_BEGIN = "::jx-mlops-lock-begin::"
LOCK_END = "::jx-mlops-lock-end::"
UNCACHED = "::jx-mlops-uncached::"
TAIL_LINES = 50

# Packs the stage's `cache: false` outputs (named by dvc.yaml) as one base64 line.
_PACK_UNCACHED = (
    "import base64,io,sys,tarfile,yaml\n"
    "stage=yaml.safe_load(open('dvc.yaml'))['stages'][sys.argv[1]]\n"
    "paths=[p for k in ('outs','metrics','plots') for o in stage.get(k) or []"
    " if isinstance(o,dict) for p,v in o.items() if (v or {}).get('cache',True) is False]\n"
    "buf=io.BytesIO()\n"
    "with tarfile.open(fileobj=buf,mode='w:gz') as tar:\n"
    "    [tar.add(p) for p in paths]\n"
    f"print('{UNCACHED}'+base64.b64encode(buf.getvalue()).decode())\n"
)


def job_id(stage: str, command: str, deps: dict[str, str], params: dict[str, Any],
           requirements: str, run_cache: bool) -> str:
    """``jx-STAGE-HASH``: the same for the same command, dependency contents, params and
    requirements, so a re-run of `ci pr` finds the job instead of starting another."""
    body = json.dumps({"protocol": PROTOCOL, "stage": stage, "cmd": command, "deps": deps,
                       "params": params, "requirements": requirements,
                       "run_cache": run_cache}, sort_keys=True, default=str)
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in stage)[:40]
    return f"jx-{slug}-{hashlib.sha256(body.encode()).hexdigest()[:32]}"


def entrypoint(stage: str, *, run_cache: bool) -> str:
    """The shell command of the job (``python`` as the cluster's PATH finds it)."""
    quoted = shlex.quote(stage)
    cache = "" if run_cache else " --no-run-cache"
    remote = ('if [ -n "${JX_MLOPS_DVC_REMOTE_URL:-}" ]; then printf "[\'remote \\"%s\\"\']'
              '\\n    url = %s\\n" "$JX_MLOPS_DVC_REMOTE" "$JX_MLOPS_DVC_REMOTE_URL" '
              '> .dvc/config.local; fi')
    return " && ".join([
        'W="$(mktemp -d)"', "trap 'rm -rf \"$W\"' EXIT", 'cp -a . "$W"', 'cd "$W"',
        "git init -q", remote,
        f"python -m dvc repro --pull{cache} --single-item {quoted}",
        "python -m dvc push",
        f"echo {LOCK_BEGIN}", "cat dvc.lock", f"echo {LOCK_END}",
        f"python -c {shlex.quote(_PACK_UNCACHED)} {quoted}",
    ])


@dataclass(frozen=True)
class JobReport:
    """What a finished job's log sends back."""

    lock: str | None  # the job's dvc.lock, as it wrote it
    uncached: bytes | None  # a tar.gz of the stage's `cache: false` outputs


def read_report(log: str) -> JobReport:
    lines = log.splitlines()
    lock = None
    if LOCK_BEGIN in lines:
        begin = len(lines) - 1 - lines[::-1].index(LOCK_BEGIN)
        if LOCK_END in lines[begin:]:
            end = lines.index(LOCK_END, begin)
            lock = "\n".join(lines[begin + 1:end]) + "\n"
    packed = [line[len(UNCACHED):] for line in lines if line.startswith(UNCACHED)]
    uncached = None
    if packed:
        try:
            uncached = base64.b64decode(packed[-1], validate=True)
        except ValueError:
            uncached = None
    return JobReport(lock=lock, uncached=uncached)


def log_tail(log: str, count: int = TAIL_LINES) -> tuple[str, ...]:
    """The log's last ``count`` lines, without the marked lines sent back."""
    lines = [line for line in log.splitlines()
             if not line.startswith(UNCACHED) and line.strip()]
    return tuple(lines[-count:])
