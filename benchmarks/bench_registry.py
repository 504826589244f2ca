"""Registry benchmark: `jx-mlops versions` / `status` / `history` against `gto show` /
`gto history`.

One project repository holds 2,000 registered versions of a model (annotated tags in GTO's
grammar carrying jx-mlops metadata) and 2,000 stage events: GTO assignment tags
(``churn#staging#N``), which both `gto show` and `jx-mlops versions` read, and the same
events as merged promotion pull requests in the staging and production environment
repositories, which `jx-mlops status` reads. A second, small registry (5 versions, 5 stage
tags) measures what a user waits for on a typical project. Both tools answer the same
questions about the same registry; each command runs as a real process, side by side in
one run. Usage::

    .venv/bin/python benchmarks/bench_registry.py [--versions 2000] [--staging-every 2]
        [--production-every 2] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from _envbench import (
    FastImport,
    Run,
    Timing,
    fmt,
    git,
    gto,
    jx,
    machine,
    run,
    setup_home,
    timed,
)

MLOPS_YAML = """\
version: 1
forge: {repo: local/churn}
models:
  churn: {artifact: models/model.pkl, metrics: [metrics.json]}
environments:
  - {name: staging, repo: local/environment-staging}
  - {name: production, repo: local/environment-production, strategy: manual}
"""


def _metadata(n: int, storage: str) -> dict[str, object]:
    md5 = f"{n:032x}"
    return {"schema": 2, "model": "churn", "name": "churn", "source_repo": "local/churn",
            "project_path": "", "source_pull": n, "run_url": None,
            "artifact": {"path": "models/model.pkl", "md5": md5, "size": 60000 + n,
                         "storage": storage,
                         "uri": f"{storage}/files/md5/{md5[:2]}/{md5[2:]}"},
            "metrics": {"metrics.json": {"accuracy": 0.7 + n / 10000, "f1": 0.8}},
            "params": {"params.yaml": {"train.n_estimators": n}},
            "data": [{"path": "data/raw.csv", "md5": "ab" * 16, "size": 1000}],
            "params_sha256": "0" * 64, "dvc_lock_sha256": "1" * 64}


def build_project(base: Path, versions: int, staging_every: int, production_every: int
                  ) -> tuple[Path, dict[str, list[int]]]:
    """The project repository with its version tags and GTO stage tags, pushed to the forge."""
    from jx_mlops.environments.repo import ensure_environment_repo
    from jx_mlops.forge.local.forge import LocalForge

    forge = LocalForge(base / "jx-home" / "forge")
    remote = forge.create_repo("local/churn")
    for env in ("staging", "production"):
        ensure_environment_repo(forge, f"local/environment-{env}", env)
    project = base / "churn"
    git(base, "init", "-q", "-b", "main", str(project))
    storage = str(base / "jx-home" / "storage" / "local" / "churn")
    stream = FastImport(project)
    parent = stream.commit("refs/heads/main", "create", {"mlops.yaml": MLOPS_YAML})
    marks = []
    for n in range(1, versions + 1):
        lock = f"schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n" \
               f"    - path: models/model.pkl\n      md5: '{n:032x}'\n      size: {60000 + n}\n"
        parent = stream.commit("refs/heads/main", f"train {n}", {
            "dvc.lock": lock, "metrics.json": json.dumps({"accuracy": 0.7 + n / 10000})},
            parents=[parent])
        marks.append(parent)
        meta = json.dumps(_metadata(n, storage), indent=2, sort_keys=True)
        stream.tag(f"churn@v0.0.{n}", parent,
                   f"Registering artifact churn version v0.0.{n}\n\n{meta}\n")
    events: dict[str, list[int]] = {"staging": [], "production": []}
    for env, every in (("staging", staging_every), ("production", production_every)):
        for count, n in enumerate(range(every, versions + 1, every), start=1):
            stream.tag(f"churn#{env}#{count}", marks[n - 1],
                       f"Assigning stage {env} to artifact churn version v0.0.{n}")
            events[env].append(n)
    stream.close()
    git(project, "checkout", "-q", "main")
    git(project, "remote", "add", "origin", remote.clone_url)
    git(project, "push", "-q", "origin", "main", "--tags")
    return project, events


def build_environment(base: Path, env_name: str, numbers: list[int]) -> None:
    """The environment repository with one merged promotion PR per event."""
    from jx_mlops.config.project import EnvironmentConfig
    from jx_mlops.promote import change
    from jx_mlops.registry.tags import ModelVersion

    env = EnvironmentConfig(env_name, f"local/environment-{env_name}")
    bare = base / "jx-home" / "forge" / "repos" / "local" / f"environment-{env_name}.git"
    storage = str(base / "jx-home" / "storage" / "local" / "churn")
    stream = FastImport(bare)
    main = git(bare, "rev-parse", "main")
    previous = None
    for pull, n in enumerate(numbers, start=1):
        version = ModelVersion("churn", f"v0.0.{n}", f"churn@v0.0.{n}", f"{n:040x}", 0, "b",
                               _metadata(n, storage))
        record = change.record_from_version(version, env, by="bench")
        record = change.finalize(record, current=previous, pull=pull, gates=(),
                                 approved_by=(), forced=False)
        files = change.files_for(record, env, None, {})
        branch = f"refs/heads/promote/{env_name}/churn-v0.0.{n}"
        head = stream.commit(branch, change.commit_message(record), dict(files),
                             parents=[main])
        main = stream.commit("refs/heads/main", f"Merge pull request #{pull} from "
                             f"promote/{env_name}/churn-v0.0.{n}", dict(files),
                             parents=[main, head])
        previous = record
    stream.close()
    for ref in git(bare, "for-each-ref", "--format=%(refname)", "refs/heads/promote").split():
        git(bare, "update-ref", "-d", ref)


def build_small_registry(base: Path) -> Path:
    """About 10 tags: 5 versions of `churn`, each assigned to a stage once; no mlops.yaml."""
    small = base / "small"
    git(base, "init", "-q", "-b", "main", str(small))
    stream = FastImport(small)
    parent = None
    for n in range(1, 6):
        parent = stream.commit("refs/heads/main", f"train {n}", {"model.txt": f"{n}\n"},
                               parents=[parent] if parent else [])
        stream.tag(f"churn@v0.0.{n}", parent, f"Registering artifact churn version v0.0.{n}")
        stage = ("dev", "staging", "prod")[n % 3]
        stream.tag(f"churn#{stage}#{n}", parent,
                   f"Assigning stage {stage} to artifact churn version v0.0.{n}")
    stream.close()
    git(small, "checkout", "-q", "main")
    return small


@dataclass(frozen=True)
class Results:
    """Timings of both tools on the same registry."""

    status: Timing
    versions: Timing
    history: Timing
    cold_status: Run
    cold_history: Run
    gto_show: Timing
    gto_show_model: Timing
    gto_history: Timing
    small_versions: Timing
    small_gto_show: Timing


def measure(project: Path, small: Path, repeat: int, gto_repeat: int) -> Results:
    cold_status = run(jx("status"), project)
    cold_history = run(jx("history", "churn"), project)
    status = timed(jx("status", "--json"), project, repeat)
    versions = timed(jx("versions", "--json"), project, repeat)
    history = timed(jx("history", "churn", "--json"), project, repeat)
    gto_show = timed(gto("show", "--json"), project, gto_repeat)
    gto_show_model = timed(gto("show", "churn", "--json"), project, gto_repeat)
    gto_history = timed(gto("history", "churn", "--json"), project, gto_repeat)
    small_versions = timed(jx("versions", "--json"), small, repeat)
    small_gto_show = timed(gto("show", "--json"), small, repeat)
    return Results(status, versions, history, cold_status, cold_history, gto_show,
                   gto_show_model, gto_history, small_versions, small_gto_show)


def _same_versions(ours: Timing, theirs: Timing) -> bool:
    mine = [(v["version"], sorted(v["stages"])) for v in json.loads(ours.out)]
    gtos = [(v["version"], sorted(s["stage"] for s in v["stages"]))
            for v in json.loads(theirs.out)]
    return mine == gtos


def _row(question: str, ours_cmd: str, ours: Timing, theirs_cmd: str, theirs: Timing) -> str:
    return (f"| {question} | {ours_cmd} | {ours.cell()} | {ours.peak_mb:.0f} MB | "
            f"{theirs_cmd} | {theirs.cell()} | {theirs.peak_mb:.0f} MB | "
            f"{theirs.best / ours.best:.0f}x |")


def _small(r: Results) -> str:
    ours, theirs = r.small_versions, r.small_gto_show
    shown = {s: v for s, v in json.loads(theirs.out)["churn"]["stage"].items() if v}
    mine = {s: v["version"] for v in json.loads(ours.out) for s in v["stages"]}
    return (f"| small registry (10 tags): versions and stages | `versions --json` | "
            f"{ours.cell()} | {ours.peak_mb:.0f} MB | `gto show --json` | {theirs.cell()} | "
            f"{theirs.peak_mb:.0f} MB | {ours.best / theirs.best:.2f}x of GTO's time "
            f"({'agree' if mine == shown else 'DIFFER'}) |")


def report(args: argparse.Namespace, r: Results) -> str:
    ours = {e["environment"]: e["version"] for e in json.loads(r.status.out)}
    theirs = json.loads(r.gto_show.out)["churn"]["stage"]
    events, gto_events = len(json.loads(r.history.out)), len(json.loads(r.gto_history.out))
    stage_tags = args.versions // args.staging_every + args.versions // args.production_every
    lines = [f"Registry: {args.versions} versions of `churn` and {stage_tags} stage tags, a "
             f"stage event every {args.staging_every} versions in staging and every "
             f"{args.production_every} in production ({machine()}).", "",
             "| question | jx-mlops | best (median) | peak RSS | GTO | best (median) | "
             "peak RSS | GTO / jx-mlops |",
             "|---|---|--:|--:|---|--:|--:|--:|",
             _row("what runs where", "`status`", r.status, "`gto show`", r.gto_show),
             _row("versions and their stages", "`versions`", r.versions,
                  "`gto show churn`", r.gto_show_model),
             _row("history of the model", "`history churn`", r.history,
                  "`gto history churn`", r.gto_history),
             _small(r),
             "",
             f"`versions` and `gto show churn` list the same versions and stages: "
             f"{'agree' if _same_versions(r.versions, r.gto_show_model) else 'DIFFER'}.",
             "",
             f"jx-mlops: {args.repeat} runs each, warm (cached environment mirrors and event "
             f"index); GTO: {args.gto_repeat} runs each. Ratios of the best runs. First "
             f"(cold) jx-mlops runs, which clone the mirrors and build the index: status "
             f"{fmt(r.cold_status.seconds)}, history {fmt(r.cold_history.seconds)}. Same "
             f"answer: jx-mlops status {ours}, gto show stages {theirs} "
             f"({'agree' if ours == theirs else 'DIFFER'}); history lists {events} promotion "
             f"events, gto history {gto_events} registration and assignment events."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=2000)
    parser.add_argument("--staging-every", type=int, default=2)
    parser.add_argument("--production-every", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--gto-repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    args = parser.parse_args()
    base = setup_home()
    try:
        project, events = build_project(base, args.versions, args.staging_every,
                                        args.production_every)
        for env, numbers in events.items():
            build_environment(base, env, numbers)
        small = build_small_registry(base)
        print(report(args, measure(project, small, args.repeat, args.gto_repeat)))
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
