"""Build a Comparison of two revisions of a project: the I/O half of `jx-mlops report`.

Metrics and params tracked by git are read straight from git objects at a revision (no
checkout, no DVC process). A metrics file that is a cached DVC output is read from the
project's DVC cache through the hash dvc.lock records at that revision. ``None`` as a
revision means the work tree, as after ``dvc repro``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jx_mlops import dvc
from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
from jx_mlops.compare.cost import RunRecord
from jx_mlops.compare.metrics import compare_metrics, compare_params
from jx_mlops.compare.significance import SignificanceResult, noise_aware
from jx_mlops.compare.values import flatten, load_structured
from jx_mlops.config import ModelConfig, ProjectConfig
from jx_mlops.errors import DvcError, UsageError
from jx_mlops.fsutil import read_bounded
from jx_mlops.git import GitRepo
from jx_mlops.lineage import compare_inputs, compare_stages, plot_charts
from jx_mlops.predictions import significance_for
from jx_mlops.runrecord import compare_costs
from jx_mlops.trend import metric_trend


@dataclass(frozen=True)
class Snapshot:
    """Files of one revision (``sha`` None = work tree), read lazily and remembered."""

    repo: GitRepo
    root: Path
    sha: str | None
    label: str

    @property
    def where(self) -> str:
        return f"{self.label} ({self.sha[:7]})" if self.sha else self.label

    def read(self, path: str) -> bytes | None:
        if self.sha is None:
            file = self.root / path
            return read_bounded(file, root=self.repo.path, name=path) if file.is_file() else None
        return self.repo.read_blob(self.sha, path)

    def lock(self) -> dvc.DvcLock | None:
        data = self.read("dvc.lock")
        if data is None:
            return None
        return dvc.parse_lock(data.decode("utf-8", "replace"), f"dvc.lock at {self.where}")


def read_bytes(snap: Snapshot, path: str) -> tuple[bytes | None, str | None]:
    """A file of ``snap`` from git, or from the DVC cache when it is a cached output."""
    data = snap.read(path)
    if data is not None:
        return data, None
    data, reason = _from_dvc_cache(snap, path)
    return (data, None) if data is not None else (None, reason)


def read_structured(snap: Snapshot, path: str) -> tuple[dict[str, Any] | None, str | None]:
    """A metrics/params file of ``snap`` flattened, or None and the reason it is unreadable."""
    data, reason = read_bytes(snap, path)
    if data is None:
        return None, reason
    try:
        parsed = load_structured(path, data)
    except ValueError as exc:
        return None, f"{path} at {snap.where}: {exc}"
    if not isinstance(parsed, dict):
        return None, f"{path} at {snap.where}: expected a mapping of metrics, " \
                     f"got {type(parsed).__name__}"
    return flatten(parsed), None


def pipeline_problems(snap: Snapshot) -> list[str]:
    """Why dvc.yaml or dvc.lock of ``snap`` cannot be read (lineage, data and plots would
    otherwise be silently empty)."""
    problems = []
    try:
        snap.lock()
    except DvcError as exc:
        problems.append(exc.message)
    spec = snap.read("dvc.yaml")
    try:
        if spec is not None:
            dvc.parse_plot_definitions(spec.decode("utf-8", "replace"), f"dvc.yaml at {snap.where}")
    except DvcError as exc:
        problems.append(exc.message)
    return problems


def _unreadable(snap: Snapshot, path: str, error: str | None) -> list[str]:
    """A params file that exists but is not a mapping of params (a missing one is allowed)."""
    return [error] if error and snap.read(path) is not None else []


def _from_dvc_cache(snap: Snapshot, path: str) -> tuple[bytes | None, str]:
    missing = f"{path} does not exist at {snap.where}"
    try:
        lock = snap.lock()
    except DvcError as exc:
        return None, f"{missing}, and {exc.message}"
    out = lock.output(path) if lock else None
    if out is None or not out.md5:
        return None, missing
    cached = dvc.cache_file(snap.root, out.md5)
    if not cached.is_file():
        return None, (f"{path} at {snap.where} is a DVC output whose data is not in the "
                      f"local cache (md5 {out.md5}; run `dvc pull` or `dvc fetch`)")
    return read_bounded(cached, name=f"{path} (DVC cache {out.md5})"), ""


@dataclass(frozen=True)
class ReportOptions:
    """What a report includes beyond metrics and params (each part costs some reading)."""

    significance: bool = True
    trend_commits: int = 10
    plots: bool = True
    data: bool = True
    costs: bool = True


def compare_model(model: ModelConfig, base: Snapshot, head: Snapshot,
                  options: ReportOptions | None = None) -> ModelComparison:
    """Compare one model's metrics and params between two snapshots."""
    options = options or ReportOptions()
    metrics = []
    base_problems: list[str] = []
    head_problems: list[str] = []
    for path in model.metrics:
        base_values, base_error = read_structured(base, path)
        head_values, head_error = read_structured(head, path)
        if base_error:
            base_problems.append(base_error)
        if head_error:
            head_problems.append(head_error)
        metrics += compare_metrics(path, base_values, head_values, model.policy_for)
    params = []
    for path in model.params:
        base_params, base_error = read_structured(base, path)
        head_params, head_error = read_structured(head, path)
        base_problems += _unreadable(base, path, base_error)
        head_problems += _unreadable(head, path, head_error)
        params += compare_params(path, base_params, head_params)
    head_problems += pipeline_problems(head)
    significance: tuple[SignificanceResult, ...] = ()
    note = None
    if options.significance and model.predictions:
        significance, note = significance_for(tuple(metrics), model.predictions, base, head)
        metrics = list(noise_aware(metrics, significance))
    trend = metric_trend(model, tuple(metrics), base, head.label, options.trend_commits)
    return ModelComparison(model=model.name, metrics=tuple(metrics), params=tuple(params),
                           base_problems=tuple(base_problems),
                           head_problems=tuple(head_problems), significance=significance,
                           significance_note=note, trend=trend)


def default_branch_ref(repo: GitRepo) -> tuple[str, str]:
    """(ref, label) of the remote default branch: origin/HEAD, else origin/main, else HEAD."""
    symbolic = repo.run("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD",
                        check=False).strip()
    for ref in filter(None, (symbolic, "origin/main", "origin/master")):
        if repo.try_rev_parse(ref):
            return ref, ref.split("/", 1)[1]
    return "HEAD", "HEAD"


def snapshot(repo: GitRepo, root: Path, rev: str | None, label: str | None = None) -> Snapshot:
    """A snapshot of ``rev`` (None = the work tree)."""
    if rev is None:
        return Snapshot(repo, root, None, label or "workspace")
    return Snapshot(repo, root, repo.rev_parse(rev), label or rev)


def compare_revisions(config: ProjectConfig, repo: GitRepo, base: Snapshot, head: Snapshot,
                      options: ReportOptions | None = None,
                      head_record: RunRecord | None = None) -> Comparison:
    """Compare every model of ``config`` between ``base`` and ``head``, with the pipeline's
    data, stages, plots and training cost."""
    options = options or ReportOptions()
    models = tuple(compare_model(m, base, head, options) for m in config.models)
    charts, notes = plot_charts(base, head) if options.plots else ([], [])
    costs = compare_costs(repo, base.sha, base.label, head.sha, head_record) \
        if options.costs else None
    return Comparison(base=Revision(base.label, base.sha), head=Revision(head.label, head.sha),
                      models=models, verdict=decide(models),
                      data=tuple(compare_inputs(base, head)) if options.data else (),
                      plots=tuple(charts), notes=tuple(notes),
                      lineage=tuple(compare_stages(base, head)), costs=costs)


def write_html(path: Path, comparison: Comparison) -> None:
    """Write the self-contained HTML report (atomically: CI may upload it concurrently)."""
    from jx_mlops.fsutil import write_atomic
    from jx_mlops.report.html import render_html

    try:
        write_atomic(path, render_html(comparison))
    except OSError as exc:
        raise UsageError(f"--html {path}: cannot write: {exc.strerror}") from None


def build_report(config: ProjectConfig, *, base: str | None = None, head: str | None = None,
                 options: ReportOptions | None = None) -> Comparison:
    """`jx-mlops report`: base defaults to where HEAD forked from the default branch,
    head to the work tree."""
    repo = GitRepo.open(config.root)
    try:
        if base is None:
            ref, label = default_branch_ref(repo)
            fork_point = repo.merge_base("HEAD", ref) or repo.rev_parse(ref)
            base_snap = snapshot(repo, config.root, fork_point, label)
        else:
            base_snap = snapshot(repo, config.root, base)
        head_snap = snapshot(repo, config.root, head)
        return compare_revisions(config, repo, base_snap, head_snap, options)
    finally:
        repo.close()
