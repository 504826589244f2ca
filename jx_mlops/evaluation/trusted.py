"""Trusted evaluation: score a pull request's model with the base branch's scoring stage.

The PR is trained as usual (``dvc repro`` in the project). Then, in a fresh work tree of
the base commit, the base's version of the trusted stage (its command, code, params and
data) runs on the PR's outputs it consumes (the model, the prepared data). The work tree
is written by jx-mlops from checked git objects (no checkout: no hook or filter of the
PR's clone runs, ``git.export``), and checked against the base commit's tree again just
before the stage runs. The consumed outputs are taken only by the hashes of the PR's
dvc.lock, from the DVC cache or remote (each object checked), never from a file the PR
committed to git. The metrics, plots and predictions that stage writes are read from
that work tree; everything else from the PR. Nothing of the trusted run reaches the PR
branch, and the work tree is removed whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from jx_mlops import console
from jx_mlops.compare.comparison import Comparison
from jx_mlops.compare.cost import RunRecord
from jx_mlops.compare.scoring import TrustedEvaluation
from jx_mlops.compare.trusted import self_reported_rows, with_trusted
from jx_mlops.config.evaluation import EvaluationConfig
from jx_mlops.config.project import CONFIG_FILE, ProjectConfig, parse_config
from jx_mlops.dvc.commands import repro_stage
from jx_mlops.dvc.lockfile import parse_dvc_file
from jx_mlops.dvc.storage import materialise, parse_dir_manifest, read_object
from jx_mlops.errors import ConfigError, DvcError, GitError
from jx_mlops.evaluation.build import ReportOptions, compare_model, compare_revisions
from jx_mlops.evaluation.snapshot import Snapshot
from jx_mlops.git.export import export_tree, tree_differences
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import shorten


class UnscorableError(Exception):
    """The base's stage cannot score the PR: the message says why, for the verdict."""


@dataclass(frozen=True)
class TrustedRun:
    """Where the base's stage ran, and which paths are its outputs."""

    directory: Path
    outputs: tuple[str, ...]


def base_config(config: ProjectConfig, repo: GitRepo, sha: str) -> ProjectConfig | None:
    """The project's mlops.yaml as commit ``sha`` (the base) has it: what a pull request
    cannot change by editing its own. None when it has none, or one that does not parse
    (the base's problem, reported elsewhere)."""
    relative = _project_dir(config, repo)
    data = repo.read_blob(sha, os.path.join(relative, CONFIG_FILE)
                          if relative != "." else CONFIG_FILE)
    if data is None:
        return None
    try:
        return parse_config(data.decode("utf-8", "replace"), config.path)
    except ConfigError:
        return None


def run_cache_allowed(config: ProjectConfig, repo: GitRepo, base_rev: str) -> bool:
    """Whether the base's mlops.yaml lets CI pull and restore DVC's run cache
    (``ci.run_cache: pull``; config/ci.py says why it is off by default)."""
    sha = repo.try_rev_parse(base_rev)
    at_base = base_config(config, repo, sha) if sha is not None else None
    return at_base is not None and at_base.ci.run_cache == "pull"


def effective_evaluation(config: ProjectConfig, repo: GitRepo, base: Snapshot
                         ) -> EvaluationConfig:
    """The base's ``evaluation`` block when it names a trusted stage (a PR cannot switch
    trusted evaluation off, or to advisory, by editing mlops.yaml), else the PR's."""
    if base.sha is None:
        return config.evaluation
    at_base = base_config(config, repo, base.sha)
    if at_base is None:
        return config.evaluation
    return at_base.evaluation if at_base.evaluation.trusted else config.evaluation


def _project_dir(config: ProjectConfig, repo: GitRepo) -> str:
    return os.path.relpath(config.root.resolve(), repo.path.resolve())


def _stage_outputs(base: Snapshot, stage: str) -> tuple[str, ...]:
    """Every path the base's ``stage`` writes: outs, metrics and plots of dvc.yaml."""
    return tuple(out.path for out in base.pipeline().outputs if out.stage == stage)


def _consumed(base: Snapshot, stage: str) -> tuple[list[str], list[str]]:
    """The dependencies of the base's ``stage`` (dvc.yaml): those other stages produce
    (the PR's are used), and the others (code, params, data: the base's)."""
    pipeline = base.pipeline()
    declared = pipeline.stage(stage)
    if declared is None:
        raise UnscorableError(f"{base.label} has no stage `{stage}` in dvc.yaml")
    produced: list[str] = []
    own: list[str] = []
    for dep in declared.deps:
        out = pipeline.output(dep)
        (produced if out is not None and out.stage != stage else own).append(dep)
    return produced, own


def _materialise(config: ProjectConfig, head: Snapshot, path: str, dest: Path) -> None:
    """The PR's version of ``path`` at ``dest``: the DVC object its dvc.lock names (or the
    file of a directory object), from the DVC cache or remote, checked against its hash.
    Never a file the PR committed to git: a fork writes git, not the DVC remote."""
    try:
        lock = head.lock()
        found = lock.containing(path) if lock else None
        if found is None or not found[0].md5 or (found[1] and not found[0].is_dir):
            raise UnscorableError(
                f"the PR's {path} (the base's stage reads it) is not a DVC output of its "
                "dvc.lock; trusted evaluation takes what it scores only by hash from the "
                "DVC cache or remote, never from git")
        out, inside = found
        assert out.md5 is not None
        if not inside:
            materialise(config.root, out.md5, dest)
            return
        manifest = parse_dir_manifest(read_object(config.root, out.md5),
                                      f"DVC directory object {out.md5}")
        file_md5 = manifest.get(inside)
        if file_md5 is None:
            raise UnscorableError(f"the PR has no {path}: not in the DVC output {out.path}")
        materialise(config.root, file_md5, dest)
    except DvcError as exc:
        raise UnscorableError(exc.message) from None


def _base_data(config: ProjectConfig, project: Path, path: str) -> None:
    """A dependency DVC tracks with a ``.dvc`` file (test data, a holdout): the base's
    version, from the DVC cache or remote by the hash the base records."""
    for candidate in (path, *_parents(path)):
        dvc_file = project / f"{candidate}.dvc"
        if dvc_file.is_file():
            break
    else:
        return  # git-tracked (already in the work tree) or missing: DVC will say which
    try:
        outs = parse_dvc_file(dvc_file.read_text(encoding="utf-8"), f"{candidate}.dvc")
        for out in outs:
            if out.md5 and not (project / out.path).exists():
                materialise(config.root, out.md5, project / out.path)
    except DvcError as exc:
        raise UnscorableError(f"the base's {candidate} (DVC-tracked): {exc.message}") from None


def _parents(path: str) -> list[str]:
    parts = os.path.normpath(path).split(os.sep)
    return [os.sep.join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


_EXCEPTION = re.compile(r"^[\w.]*(Error|Exception|Exit)\b.*")


def _failure(output: list[str], exc: DvcError) -> str:
    """Why the stage failed: the exception its command raised (``AttributeError: ...``),
    else DVC's own error line."""
    lines = [line.strip() for line in output if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("ERROR:")]
    before = lines[:errors[-1]] if errors else lines
    raised = [line for line in before if _EXCEPTION.match(line)]
    if raised:
        return shorten(raised[-1], 300)
    dvc_line = lines[errors[-1]][len("ERROR:"):].strip() if errors else exc.message
    return shorten(dvc_line, 300)


@contextmanager
def base_scoring(config: ProjectConfig, repo: GitRepo, base: Snapshot, head: Snapshot,
                 stage: str) -> Iterator[TrustedRun]:
    """Run the base's ``stage`` on the PR's outputs in a fresh work tree of the base;
    yields where it ran. UnscorableError says why it could not; the work tree is removed
    on every way out."""
    if base.sha is None:
        raise UnscorableError("the base is not a commit")
    consumed, own = _consumed(base, stage)
    outputs = _stage_outputs(base, stage)
    scratch = Path(tempfile.mkdtemp(prefix="jx-mlops-trusted-"))
    tree = scratch / "base"
    try:
        try:
            files = export_tree(repo, base.sha, tree)
        except GitError as exc:
            raise UnscorableError(exc.message) from None
        project = tree / _project_dir(config, repo)
        _without_git(project, tree)
        for path in consumed:
            _materialise(config, head, path, project / path)
        for path in own:
            _base_data(config, project, path)
        changed = tree_differences(files, tree)
        if changed:
            raise UnscorableError(f"the work tree of {base.label} changed before scoring: "
                                  f"{', '.join(changed[:3])} no longer match its commit")
        _run_stage(project, base, stage)
        yield TrustedRun(project, outputs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _without_git(project: Path, tree: Path) -> None:
    """DVC runs the stage without git (``core.no_scm`` in the config of the DVC project
    holding ``project``): the work tree is no repository, so no git configuration or hook
    can reach it."""
    for directory in (project, *project.parents):
        if (directory / ".dvc").is_dir():
            (directory / ".dvc" / "config.local").write_text(
                "[core]\n    no_scm = true\n", encoding="utf-8")
            return
        if directory == tree:
            return


def _run_stage(project: Path, base: Snapshot, stage: str) -> None:
    output: list[str] = []
    with console.step(f"Scoring with {base.label}'s `{stage}` (trusted evaluation)") \
            as detail:
        def line(text: str) -> None:
            output.append(text)
            detail(text)

        try:
            repro_stage(project, stage, on_line=line)
        except DvcError as exc:
            raise UnscorableError(_failure(output, exc)) from None


def compare_trusted(config: ProjectConfig, repo: GitRepo, base: Snapshot, head: Snapshot,
                    options: ReportOptions | None = None,
                    head_record: RunRecord | None = None) -> Comparison:
    """``compare_revisions`` with the head scored by the base's trusted stage when
    mlops.yaml (the base's) names one; the PR's own scores ride along, self-reported."""
    evaluation = effective_evaluation(config, repo, base)
    stage = evaluation.trusted
    if stage is None:
        return compare_revisions(config, repo, base, head, options, head_record)
    trusted = TrustedEvaluation(stage, base.label, base.sha, evaluation.mode,
                                on_mismatch=evaluation.on_mismatch)
    options = replace(options or ReportOptions(), trusted=True)
    try:
        with base_scoring(config, repo, base, head, stage) as run:
            scored = replace(head, overlay=run.directory, overlay_paths=run.outputs, _memo={})
            comparison = compare_revisions(config, repo, base, scored, options, head_record)
    except UnscorableError as exc:
        comparison = compare_revisions(config, repo, base, head, options, head_record)
        return with_trusted(comparison, replace(trusted, problem=str(exc)))
    quick = ReportOptions(significance=False, trend_commits=0, slices=False)
    own = [compare_model(model, base, head, quick) for model in config.models]
    rows = self_reported_rows(comparison.models, own, scored.overlaid)
    return with_trusted(comparison, replace(trusted, rows=rows))
