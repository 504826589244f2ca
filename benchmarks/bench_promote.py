"""Promotion benchmark: `promote` and `status` on a big, old environment repository.

The environment repository serves 500 models and carries N promotion pull requests
(a promotion commit with trailers plus its merge commit each, and the local forge's merged
pull-request records), built with ``git fast-import``. A small project then promotes new
versions of its own model there through the local forge, as a user would, and reads the
status back. The same run at two history lengths shows whether the cost grows with
history. Each command is a real process; peak RSS is the largest process of its tree.
Usage::

    .venv/bin/python benchmarks/bench_promote.py [--models 500] [--commits 2000 20000]
        [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _envbench import FastImport, Run, Timing, fmt, git, jx, machine, run, setup_home, timed

ENV_REPO = "local/environment-staging"
MLOPS_YAML = """\
version: 1
forge: {repo: local/bench}
models:
  bench-model: {artifact: models/model.pkl, metrics: [metrics.json]}
environments:
  - {name: staging, repo: local/environment-staging}
"""


def _metadata(model: str, n: int) -> dict[str, object]:
    md5 = f"{abs(hash((model, n))) % 16**32:032x}"
    storage = "s3://bench-models/storage"
    return {"schema": 2, "model": model, "name": model, "source_repo": f"local/{model}",
            "project_path": "",
            "artifact": {"path": "models/model.pkl", "md5": md5, "size": 60000 + n,
                         "storage": storage, "uri": f"{storage}/files/md5/{md5[:2]}/{md5[2:]}"},
            "metrics": {"metrics.json": {"accuracy": 0.7 + (n % 100) / 1000, "f1": 0.8}},
            "data": [{"path": "data/raw.csv", "md5": "ab" * 16, "size": 1000}]}


def _change(model: str, n: int, pull: int, previous: Any
            ) -> tuple[Any, dict[str, bytes | None], str]:
    from jx_mlops.config.project import EnvironmentConfig
    from jx_mlops.promote import change
    from jx_mlops.registry.tags import ModelVersion

    env = EnvironmentConfig("staging", ENV_REPO)
    version = ModelVersion(model, f"v0.0.{n}", f"{model}@v0.0.{n}", f"{n:040x}", 0, "bench",
                           _metadata(model, n))
    record = change.record_from_version(version, env, by="bench")
    record = change.finalize(record, current=previous, pull=pull, gates=(), approved_by=(),
                             forced=False)
    return record, change.files_for(record, env, None, {}), change.commit_message(record)


def build_environment(base: Path, models: int, commits: int) -> None:
    """``models`` deployed models, then ``commits`` promotion PRs spread over them."""
    from jx_mlops.forge.local.forge import LocalForge

    forge = LocalForge(base / "jx-home" / "forge")
    forge.create_repo(ENV_REPO, auto_init=True)
    bare = base / "jx-home" / "forge" / "repos" / f"{ENV_REPO}.git"
    stream = FastImport(bare)
    names = [f"model-{i:03d}" for i in range(models)]
    records: dict[str, Any] = {}
    initial: dict[str, str | bytes | None] = {}
    for name in names:
        records[name], files, _message = _change(name, 1, 0, None)
        initial.update(files)
    main = stream.commit("refs/heads/main", "chore: deploy the fleet", initial,
                         parents=[git(bare, "rev-parse", "main")])
    for pull in range(1, commits + 1):
        name = names[pull % models]
        n = pull // models + 2
        records[name], files, message = _change(name, n, pull, records[name])
        branch = f"refs/heads/promote/staging/{name}-v0.0.{n}"
        head = stream.commit(branch, message, dict(files), parents=[main])
        main = stream.commit("refs/heads/main", f"Merge pull request #{pull} from "
                             f"promote/staging/{name}-v0.0.{n}", dict(files),
                             parents=[main, head])
    stream.close()
    for ref in git(bare, "for-each-ref", "--format=%(refname)", "refs/heads/promote").split():
        git(bare, "update-ref", "-d", ref)
    git(bare, "gc", "-q")
    _pull_records(base, commits)


def _pull_records(base: Path, count: int) -> None:
    """The local forge's records of the merged promotion PRs (what list_pulls reads)."""
    meta = base / "jx-home" / "forge" / "repos" / f"{ENV_REPO}.forge"
    (meta / "pulls").mkdir(exist_ok=True)
    for number in range(1, count + 1):
        record = {"number": number, "title": f"chore: promote #{number}", "body": "",
                  "head": f"promote/staging/old-{number}", "base": "main",
                  "head_sha": "0" * 40, "state": "merged", "draft": False,
                  "author": "bench", "created_at": "2026-01-01T00:00:00Z",
                  "updated_at": "2026-01-01T00:00:00Z", "labels": ["env/staging"],
                  "comments": [], "merge_commit_sha": "0" * 40, "merged_by": "bench",
                  "merged_at": "2026-01-01T00:00:00Z"}
        (meta / "pulls" / f"{number}.json").write_text(json.dumps(record))
    state = json.loads((meta / "state.json").read_text())
    state["next_pull"] = count + 1
    (meta / "state.json").write_text(json.dumps(state))


def build_project(base: Path, versions: int) -> Path:
    """A project on the forge with ``versions`` registered versions of bench-model."""
    from jx_mlops.forge.local.forge import LocalForge

    project = base / "bench"
    git(base, "init", "-q", "-b", "main", str(project))
    (project / "mlops.yaml").write_text(MLOPS_YAML)
    (project / ".dvc").mkdir()
    # A local remote: registering publishes a named serving copy of the model there.
    (project / ".dvc" / "config").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {base / 'storage'}\n")
    (project / ".dvc" / ".gitignore").write_text("/cache\n/tmp\n")
    remote = LocalForge(base / "jx-home" / "forge").create_repo("local/bench")
    git(project, "remote", "add", "origin", remote.clone_url)
    for n in range(1, versions + 1):
        (project / "metrics.json").write_text(json.dumps({"accuracy": 0.8 + n / 1000}))
        (project / "dvc.lock").write_text(
            "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
            f"    - path: models/model.pkl\n      md5: '{n:032x}'\n      size: {n}\n")
        blob = project / ".dvc" / "cache" / "files" / "md5" / f"{n:032x}"[:2] / f"{n:032x}"[2:]
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_text(f"model {n}")
        git(project, "add", "-A")
        git(project, "commit", "-q", "-m", f"train {n}")
        run(jx("register", "bench-model", "--push"), project)
    git(project, "push", "-q", "origin", "main")
    return project


@dataclass(frozen=True)
class Results:
    """Timings at one history length."""

    commits: int
    cold_status: Run
    promote: Timing
    status: Timing
    status_all: Timing
    history: Timing
    insights: Timing


def _promotes(project: Path, repeat: int) -> Timing:
    runs = [run(jx("promote", "bench-model", "--version", f"v0.0.{n}", "--to", "staging",
                   "--json"), project) for n in range(2, repeat + 2)]
    for result in runs:
        assert json.loads(result.out)["merged"] is True
    times = sorted(r.seconds for r in runs)
    return Timing(times[0], times[len(times) // 2], max(r.peak_mb for r in runs), runs[-1].out)


def measure(models: int, commits: int, repeat: int) -> Results:
    base = setup_home()
    try:
        build_environment(base, models, commits)
        project = build_project(base, repeat + 1)
        cold = run(jx("status", "--all", "--json"), project)
        # The first promotion also builds the local forge's open-PR index and the mirror.
        run(jx("promote", "bench-model", "--version", "v0.0.1", "--to", "staging"), project)
        run(jx("history", "bench-model"), project)
        promote = _promotes(project, repeat)
        status = timed(jx("status", "--json"), project, repeat)
        status_all = timed(jx("status", "--all", "--json"), project, repeat)
        assert len(json.loads(status_all.out)) == models + 1
        history = timed(jx("history", "bench-model", "--json"), project, repeat)
        insights = timed(jx("insights", "--json"), project, repeat)
        assert json.loads(insights.out)[0]["deployments"] == repeat + 1
        return Results(commits, cold, promote, status, status_all, history, insights)
    finally:
        if not os.environ.get("JX_BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)


def report(args: argparse.Namespace, results: list[Results]) -> str:
    header = "| command | " + " | ".join(f"{r.commits:,} PRs" for r in results) + " | target |"
    lines = [f"Environment repository: {args.models} models, N merged promotion PRs (2N "
             f"commits, N local-forge PR records); the project promotes its own model there "
             f"through the local forge ({machine()}).", "", header,
             "|---|" + "--:|" * len(results) + "---|"]

    def row(label: str, pick: str, target: str) -> str:
        cells = []
        for result in results:
            value = getattr(result, pick)
            text = value.cell() if isinstance(value, Timing) else fmt(value.seconds)
            cells.append(f"{text}, {value.peak_mb:.0f} MB")
        return f"| {label} | " + " | ".join(cells) + f" | {target} |"

    lines += [row("`promote` (opens and merges a PR)", "promote", "< 2 s, < 200 MB"),
              row("`status` (the project's model)", "status", "< 0.3 s"),
              row(f"`status --all` ({args.models + 1} records)", "status_all", ""),
              row("`history bench-model`", "history", ""),
              row("`insights` (DORA keys of the project's model)", "insights", "< 1 s"),
              row("first `status --all` (clones the mirror)", "cold_status", "")]
    lines += ["", f"Best (median) of {args.repeat} runs each (promote: {args.repeat} "
              "successive versions), warm: mirror cloned, indexes built. Time is the wall "
              "clock of the whole process, memory the peak RSS of the largest process in its "
              "tree (Python or git)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--commits", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(report(args, [measure(args.models, n, args.repeat) for n in args.commits]))


if __name__ == "__main__":
    main()
