"""`jx-mlops init`: adopt a git + DVC repository that already exists.

Everything comes from what the repository declares: models from dvc.yaml's ``artifacts:``
(else stage outputs that look like models), metric directions from metric names, CI files
from the quickstarts' shared templates. Nothing is asked and, without ``--force``, no
existing file is overwritten; a second run changes nothing. Every input is checked and
the whole of mlops.yaml validated before the first file is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from jx_mlops.config.project import CONFIG_FILE, MODEL_NAME, load_config, parse_config
from jx_mlops.dvc.pipeline import Artifact, Pipeline
from jx_mlops.errors import ConfigError, ForgeError, GitError, UsageError
from jx_mlops.evaluation.declared import expand_metrics
from jx_mlops.evaluation.snapshot import Snapshot, read_file_values
from jx_mlops.forge.base import REPO_NAME, ForgeConfig
from jx_mlops.forge.kinds import DEFAULT_FORGE, kind_named, kind_of_remote
from jx_mlops.fsutil import jx_home
from jx_mlops.git.repo import GitRepo
from jx_mlops.project.keys import PUBLIC_KEY_FILE, SIGNING_SECTION, planned_key_pair
from jx_mlops.project.models import FoundModel, model_name
from jx_mlops.project.policy import MetricGuess, guess_policy
from jx_mlops.project.publish import Publication, PublicationPlan, plan_publication, publish
from jx_mlops.project.render import ci_files, render_config
from jx_mlops.registry.declared import declared_artifacts
from jx_mlops.registry.tags import full_name
from jx_mlops.signing import save_private_key

MODEL_SUFFIXES = (".pkl", ".pckl", ".pickle", ".joblib", ".onnx", ".pt", ".pth", ".h5",
                  ".keras", ".safetensors", ".bst", ".cbm", ".ckpt")
FileAction = Literal["create", "overwrite", "unchanged", "kept"]


@dataclass(frozen=True)
class PlannedFile:
    """One file init writes, and what happens to it."""

    path: str
    content: str
    action: FileAction


@dataclass(frozen=True)
class InitResult:
    """What init found and did (or, with ``dry_run``, would do)."""

    root: Path
    models: tuple[FoundModel, ...]
    metrics: tuple[MetricGuess, ...]
    files: tuple[PlannedFile, ...]
    notes: tuple[str, ...]
    dry_run: bool
    publication: Publication | None = None  # where --repo put the project


def _looks_like_model(path: str) -> bool:
    lower = path.lower()
    return lower.endswith(MODEL_SUFFIXES) or "model" in lower


def _stage_models(pipeline: Pipeline) -> list[FoundModel]:
    """Cached stage outputs that look like models, named by file; outputs of foreach or
    matrix stages whose files share a name are named by their stage item instead
    (``train@unet`` -> ``train-unet``)."""
    outs = [(o, s) for s in pipeline.stages for o in s.outs
            if o.cached and o.kind == "out" and _looks_like_model(o.path)]
    names = [model_name(PurePosixPath(o.path).stem if PurePosixPath(o.path).suffix
                        else o.path) for o, _s in outs]
    found = []
    for (out, stage), name in zip(outs, names, strict=True):
        if names.count(name) > 1 and stage.item:
            name = model_name(f"{stage.group}-{stage.item}")
        found.append(FoundModel(name, out.path, source=f"output of stage {stage.name}"))
    return found


def find_models(pipeline: Pipeline, given: Mapping[str, str],
                declared: Sequence[Artifact] = ()) -> list[FoundModel]:
    """``--model`` pairs, else the model artifacts dvc.yaml files and GTO's artifacts.yaml
    declare (under their registry names), else model-like stage outputs."""
    if given:
        return [FoundModel(name, os.path.normpath(path), source="--model")
                for name, path in given.items()]
    artifacts = [a for a in declared if a.type == "model"]
    if artifacts:
        return [FoundModel(model_name(a.name.rsplit(":", 1)[-1]), a.path, a.desc, a.labels,
                           source=f"artifacts of {a.dvcfile}", registry_name=a.name)
                for a in artifacts]
    return _stage_models(pipeline)


def _check_models(models: Sequence[FoundModel]) -> None:
    for model in models:
        if not MODEL_NAME.match(model.name):
            raise UsageError(f"--model {model.name}=...: a model name is lowercase letters, "
                             "digits and dashes, at most 63 (it names Kubernetes resources)")
        twins = [m for m in models if m.name == model.name]
        if len(twins) > 1:
            raise UsageError(f"two models are called {model.name!r} ({twins[0].path} and "
                             f"{twins[1].path}, {twins[0].source} and {twins[1].source}): "
                             "name them with --model NAME=PATH")


def scoring_stage(pipeline: Pipeline, found: Sequence[FoundModel]) -> str | None:
    """The one stage that writes every metrics file and none of the models: the stage to
    trust with scoring. None when there is no such stage (a stage that trains and scores
    at once cannot score another branch's model without retraining it)."""
    stages = {out.stage for path in pipeline.metrics
              if (out := pipeline.output(path)) is not None}
    producers = {out.stage for m in found if (out := pipeline.output(m.path)) is not None}
    if len(stages) != 1 or stages & producers:
        return None
    return stages.pop()


def _open_repository(root: Path) -> tuple[GitRepo, str]:
    """The repository holding ``root`` and where ``root`` is in it; ``root`` must be a DVC
    root (a DVC project may live in a sub-directory of its repository)."""
    try:
        repo, prefix = GitRepo.enclosing(root)
    except GitError:
        raise UsageError(f"{root}: not a git repository (run `git init` and `dvc init` "
                         "first, or `jx-mlops create` for a new one)") from None
    if not (root / ".dvc").is_dir():
        below = sorted(str(p.parent.relative_to(root)) for p in root.glob("*/.dvc")
                       if p.is_dir())
        repo.close()
        hint = f"DVC projects below: {', '.join(below)} (run init there: -C DIR)" \
            if below else "run `dvc init`"
        raise UsageError(f"{root}: not a DVC project (no .dvc directory; {hint})")
    return repo, prefix


def _metric_names(snap: Snapshot, pipeline: Pipeline) -> tuple[list[str], list[str]]:
    """Every metric the workspace has now (dotted names), and notes on unreadable files."""
    names: list[str] = []
    notes: list[str] = []
    for path in expand_metrics(snap, pipeline.metrics):
        found = read_file_values(snap, path)
        if found.values is None:
            notes.append(f"no policy for {path}: {found.problem or found.skipped}")
            continue
        names += [f"{path}:{key}" for key in found.values]
    return names, notes


def _forge(repo: GitRepo, kind: str | None, given: str | None) -> tuple[str, str | None]:
    """(kind, OWNER/NAME): ``--repo``, else an origin URL on a known forge (GitHub: its
    kind unless ``--forge`` says otherwise); no repository: no forge yet."""
    if given is not None:
        if not REPO_NAME.match(given):
            raise UsageError(f"--repo {given!r}: expected OWNER/NAME")
        return kind or DEFAULT_FORGE, given
    found = kind_of_remote(repo.remote_url("origin") or "")
    if found:
        return kind or found[0], found[1]
    if kind is not None and kind_named(kind).HOSTED:
        raise UsageError(f"--forge {kind} needs --repo OWNER/NAME (origin is not a "
                         f"{kind_named(kind).TITLE} URL)")
    return kind or DEFAULT_FORGE, None


def _action(root: Path, path: str, content: str, force: bool) -> FileAction:
    target = root / path
    if not target.exists():
        return "create"
    try:
        same = target.read_text(encoding="utf-8") == content
    except (OSError, UnicodeDecodeError):
        same = False
    if same:
        return "unchanged"
    return "overwrite" if force else "kept"


def _read_pipeline(snap: Snapshot) -> Pipeline:
    pipeline = snap.pipeline()
    if pipeline.problems:
        raise UsageError(pipeline.problems[0])
    if not pipeline.dvcfiles:
        raise UsageError(f"{snap.root}: no dvc.yaml: jx-mlops reads metrics, params and "
                         "models from a DVC pipeline (`dvc stage add`, `dvc exp init`)")
    return pipeline


def init_project(root: Path, *, forge: str | None = None, repo_name: str | None = None,
                 models: Mapping[str, str] | None = None, ci: bool = True,
                 dry_run: bool = False, force: bool = False) -> InitResult:
    """Write mlops.yaml (and CI files) for the DVC project at ``root``."""
    root = root.resolve()
    repo, prefix = _open_repository(root)
    try:
        snap = Snapshot(repo, root, None, "workspace", prefix=prefix)
        pipeline = _read_pipeline(snap)
        found = find_models(pipeline, models or {},
                            declared_artifacts(repo, None, prefix) if not models else ())
        _check_models(found)
        names, notes = _metric_names(snap, pipeline)
        forge, forge_repo = _forge(repo, forge, repo_name)
    finally:
        repo.close()
    found = [replace(m, registry_name="") if m.registry_name == full_name(m.name, prefix)
             else m for m in found]
    # --repo: the user named the forge repository, so the project is put there (checked
    # now: an origin elsewhere or nothing committed is refused before any file is written).
    plan, unpublished = _plan(root, forge, repo_name)
    guesses = [guess_policy(name) for name in names]
    config = render_config(root.name, forge, forge_repo, found, guesses,
                           scoring_stage(pipeline, found))
    signs_here = kind_named(forge).keyless_identity(forge_repo or "") is None
    public, private = planned_key_pair(root) if signs_here else (b"", None)
    if public:  # the local forge: versions are signed with a key made here
        config += SIGNING_SECTION
    try:
        parse_config(config, root / CONFIG_FILE)  # never write a file jx-mlops cannot read
    except ConfigError as exc:
        raise UsageError(f"jx-mlops init produced an invalid {CONFIG_FILE}: {exc.message}") \
            from None
    wanted = {CONFIG_FILE: config, **(ci_files() if ci else {}),
              **({PUBLIC_KEY_FILE: public.decode("ascii")} if public else {})}
    files = tuple(PlannedFile(path, text, _action(root, path, text, force))
                  for path, text in wanted.items())
    notes += _notes(found, forge_repo, unpublished)
    if dry_run:
        if plan is not None:
            notes.append(f"would commit these files and push {plan.branch} to {plan.name} "
                         f"({'a new repository' if plan.remote is None else 'it exists'})")
        return InitResult(root, tuple(found), tuple(guesses), files, tuple(notes), dry_run)
    _write(root, files)
    if private is not None and any(f.path == PUBLIC_KEY_FILE and f.action in
                                   ("create", "overwrite") for f in files):
        save_private_key(jx_home(), private)
    publication = None
    if plan is not None:
        mine = [f.path for f in files if f.action != "kept"]
        publication = publish(plan, load_config(root), commit=mine, message=_COMMIT_MESSAGE)
    return InitResult(root, tuple(found), tuple(guesses), files, tuple(notes), dry_run,
                      publication)


_COMMIT_MESSAGE = ("Adopt with jx-mlops: mlops.yaml and CI files\n\n"
                   "Written by `jx-mlops init --repo`, which published the repository.")


def _plan(root: Path, kind: str, repo_name: str | None
          ) -> tuple[PublicationPlan | None, str | None]:
    """(where to publish, why it cannot be published now): nothing to publish without
    ``--repo``; a forge init cannot reach (no GitHub token) is a note, not an error."""
    if repo_name is None:
        return None, None
    try:
        return plan_publication(root, ForgeConfig(kind, repo_name)), None
    except ForgeError as exc:
        return None, exc.message


def _notes(found: Sequence[FoundModel], forge_repo: str | None,
           unpublished: str | None) -> list[str]:
    notes = []
    if not found:
        notes.append("no model found (no artifacts of type model in dvc.yaml, no stage "
                     "output that looks like one): reports work; to register versions, add "
                     "artifact: PATH to the model in mlops.yaml or run init --model NAME=PATH")
    if forge_repo is None:
        notes.append("no forge: report, versions, history, lineage and insights work; for "
                     "pull requests and promotion, run init --repo OWNER/NAME --force")
    if unpublished is not None:
        notes.append(f"not published on the forge ({unpublished}): commit these files, "
                     "then run `jx-mlops forge repo create`")
    return notes


def _write(root: Path, files: Sequence[PlannedFile]) -> None:
    from jx_mlops.fsutil import write_atomic

    for planned in files:
        if planned.action in ("create", "overwrite"):
            target = root / planned.path
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, planned.content)
