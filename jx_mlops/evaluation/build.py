"""Build a Comparison of two revisions of a project: the I/O half of `jx-mlops report`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jx_mlops.compare.comparison import (
    Comparison,
    Coverage,
    ModelComparison,
    Revision,
    decide,
)
from jx_mlops.compare.cost import RunRecord
from jx_mlops.compare.metrics import (
    MetricDelta,
    ParamChange,
    compare_metrics,
    compare_params,
    judged,
    match_moved,
    unmatched_policy_keys,
)
from jx_mlops.compare.significance import SignificanceResult, noise_aware
from jx_mlops.config.project import ModelConfig, ProjectConfig
from jx_mlops.errors import ConfigError, UsageError
from jx_mlops.evaluation.declared import SideFiles, metrics_files, params_files
from jx_mlops.evaluation.pipeline import compare_inputs, compare_stages, stale_stages
from jx_mlops.evaluation.plots import plot_charts
from jx_mlops.evaluation.predictions import significance_for
from jx_mlops.evaluation.runrecords import compare_costs
from jx_mlops.evaluation.slices import slices_for
from jx_mlops.evaluation.snapshot import (
    Snapshot,
    default_branch_ref,
    pipeline_problems,
    read_file_values,
    read_structured,
    snapshot,
)
from jx_mlops.evaluation.trend import metric_trend
from jx_mlops.git.repo import GitRepo


@dataclass(frozen=True)
class ReportOptions:
    """What a report includes beyond metrics and params (each part costs some reading)."""

    significance: bool = True
    trend_commits: int = 10
    plots: bool = True
    data: bool = True
    costs: bool = True
    slices: bool = True
    # Trusted evaluation is on: what the PR's own files say is not evidence (the slices'
    # columns come from the trusted stage's outputs or from the base).
    trusted: bool = False


@dataclass
class _SideRead:
    """What one side of the metrics comparison read: values per file, and why not."""

    values: dict[str, dict[str, Any] | None]
    problems: list[str]
    unread: list[tuple[str, str]]
    blind: set[str]  # files this side could not read (its rows are unreadable)
    skipped: dict[str, str]  # files DVC skips too (not UTF-8 text), each with why


def _read_metrics_side(files: SideFiles, side: str, snap: Snapshot) -> _SideRead:
    """Every file declared at ``side`` read; a file the other side declares and this one
    cannot say anything about (its dvc.yaml rejected) is unreadable here, not removed."""
    read = _SideRead({}, [], [], set(), {})
    rejected = bool(snap.pipeline().problems) and files.side(side) is not None
    for path in files.paths:
        if not files.wanted(side, path):
            read.values[path] = None
            if rejected:
                read.blind.add(path)
            continue
        found = read_file_values(snap, path)
        read.values[path] = found.values
        if found.values is None:
            read.blind.add(path)
            reason = found.problem or found.skipped or ""
            read.unread.append((path, reason))
            if found.problem:
                read.problems.append(found.problem)
            elif found.skipped:
                read.skipped[path] = found.skipped
    return read


def _hidden_at_head(metrics: list[MetricDelta], head: _SideRead) -> list[str]:
    """Why each file the head skips (not UTF-8 text) hides metrics the verdict judges.

    DVC skips a file that is not text, and so may the report: an image in a metrics
    directory holds no metrics. A file whose base values include a directed or bounded
    metric is not such an image: its rows are unreadable at the head, and that cannot
    pass the verdict (as any unreadable head file)."""
    hidden = {d.path for d in metrics if d.base_kind is not None and judged(d.policy)}
    return [reason for path, reason in head.skipped.items() if path in hidden]


def _coverage(files: SideFiles, side: str, read: _SideRead) -> Coverage:
    declared = files.side(side)
    count = len(declared) if declared is not None else len(files.paths)
    return Coverage(count, count - len(read.unread), tuple(read.unread))


def _compare_metric_files(model: ModelConfig, base: Snapshot, head: Snapshot,
                          problems: tuple[list[str], list[str]]
                          ) -> tuple[list[MetricDelta], tuple[Coverage, Coverage], list[str]]:
    files = metrics_files(model, base, head)
    for side, reason in files.problems:
        problems[side == "head"].append(reason)
    sides = (_read_metrics_side(files, "base", base), _read_metrics_side(files, "head", head))
    for index, read in enumerate(sides):
        problems[index].extend(p for p in read.problems if p not in problems[index])
    metrics: list[MetricDelta] = []
    for path in files.paths:
        metrics += compare_metrics(path, sides[0].values[path], sides[1].values[path],
                                   model.policy_for,
                                   (path in sides[0].blind, path in sides[1].blind))
    problems[1].extend(p for p in _hidden_at_head(metrics, sides[1]) if p not in problems[1])
    gone = [p for p in files.paths if sides[1].values[p] is None and p not in sides[1].blind
            and head.read(p) is None]
    added = [p for p in files.paths if sides[0].values[p] is None and p not in sides[0].blind]
    metrics, notes = match_moved(metrics, gone, added)
    return metrics, (_coverage(files, "base", sides[0]), _coverage(files, "head", sides[1])), \
        notes


def _read_side(files: SideFiles, side: str, snap: Snapshot, path: str,
               problems: list[str]) -> dict[str, Any] | None:
    if not files.wanted(side, path):
        return None  # not declared at this revision: DVC shows the other side only
    values, error = read_structured(snap, path)
    if error:
        problems.append(error)
    return values


def _unreadable(snap: Snapshot, path: str, errors: list[str]) -> list[str]:
    """A params file that exists but is not a mapping of params (a missing one is allowed:
    it is a problem of the metrics, or of nothing)."""
    return errors if errors and snap.read(path) is not None else []


def _compare_param_files(model: ModelConfig, base: Snapshot, head: Snapshot,
                         problems: tuple[list[str], list[str]]) -> list[ParamChange]:
    files = params_files(model, base, head)
    params: list[ParamChange] = []
    for path in files.paths:
        base_errors: list[str] = []
        head_errors: list[str] = []
        base_params = files.tracked(path, _read_side(files, "base", base, path, base_errors))
        head_params = files.tracked(path, _read_side(files, "head", head, path, head_errors))
        problems[0].extend(_unreadable(base, path, base_errors))
        problems[1].extend(_unreadable(head, path, head_errors))
        params += compare_params(path, base_params, head_params)
    base_vars, head_vars = files.vars_values
    for path in dict.fromkeys([*head_vars, *base_vars]):
        params += compare_params(path, base_vars.get(path), head_vars.get(path))
    return params


def _policy_keys(model: ModelConfig, metrics: list[MetricDelta],
                 now: Snapshot | None) -> list[str]:
    """A policy for a metric that exists nowhere (``accuracy`` for ``acc``) would silently
    judge nothing: a configuration error. One that names a metric the project has now
    (``now``, its work tree) but neither side of an older pair is a note."""
    unmatched = unmatched_policy_keys(model.policy, metrics)
    if not unmatched:
        return []
    current = _current_metrics(model, now) if now is not None else []
    later = [key for key, _ in unmatched if unmatched_policy_keys([key], current) == []]
    missing = [(key, closest) for key, closest in unmatched if key not in later]
    if missing:
        key, closest = missing[0]
        hint = f"closest: {', '.join(closest)}" if closest else \
            f"metrics: {', '.join(sorted({d.name for d in metrics})) or 'none'}"
        raise ConfigError(f"mlops.yaml: models.{model.name}.policy.{key}: matches no metric "
                          f"at base or head ({hint})")
    return [f"policy {key} matches no metric at base or head (the project has it now: "
            "this pair predates it)" for key in later]


def _current_metrics(model: ModelConfig, now: Snapshot) -> list[MetricDelta]:
    files = metrics_files(model, now, now)
    found: list[MetricDelta] = []
    for path in files.paths:
        values = read_file_values(now, path).values
        found += compare_metrics(path, values, values, model.policy_for)
    return found


def compare_model(model: ModelConfig, base: Snapshot, head: Snapshot,
                  options: ReportOptions | None = None) -> ModelComparison:
    """Compare one model's metrics and params between two snapshots."""
    options = options or ReportOptions()
    base_problems: list[str] = []
    head_problems: list[str] = []
    metrics, coverage, notes = _compare_metric_files(model, base, head,
                                                     (base_problems, head_problems))
    params = _compare_param_files(model, base, head, (base_problems, head_problems))
    head_problems += [p for p in pipeline_problems(head) if p not in head_problems]
    significance: tuple[SignificanceResult, ...] = ()
    note = None
    if options.significance and model.predictions:
        significance, note = significance_for(tuple(metrics), model.predictions, base, head)
        metrics = list(noise_aware(metrics, significance))
    slices, slices_note = slices_for(model, metrics, base, head, trusted=options.trusted) \
        if options.slices else (None, None)
    if not head_problems:  # unreadable files fail the verdict already, and say why
        now = head if head.sha is None else snapshot(head.repo, head.root, None)
        notes += _policy_keys(model, metrics, now if now.root.is_dir() else None)
    trend = metric_trend(model, tuple(metrics), base, head.label, options.trend_commits)
    return ModelComparison(model=model.name, metrics=tuple(metrics), params=tuple(params),
                           base_problems=tuple(base_problems),
                           head_problems=tuple(head_problems), significance=significance,
                           significance_note=note, trend=trend, base_coverage=coverage[0],
                           head_coverage=coverage[1], notes=tuple(notes), slices=slices,
                           slices_note=slices_note)


def _with_head_problems(model: ModelComparison, problems: list[str]) -> ModelComparison:
    if not problems:
        return model
    return replace(model, head_problems=(*model.head_problems, *problems))


def compare_revisions(config: ProjectConfig, repo: GitRepo, base: Snapshot, head: Snapshot,
                      options: ReportOptions | None = None,
                      head_record: RunRecord | None = None) -> Comparison:
    """Compare every model of ``config`` between ``base`` and ``head``, with the pipeline's
    data, stages, plots and training cost."""
    options = options or ReportOptions()
    stale = stale_stages(head)
    # Stale results at the head are not the head's model: they cannot pass the verdict.
    models = tuple(_with_head_problems(compare_model(m, base, head, options), stale)
                   for m in config.models)
    charts, notes = plot_charts(base, head) if options.plots else ([], [])
    notes = [f"{m.model}: {n}" for m in models for n in m.notes] + \
        [f"base: {reason}" for reason in stale_stages(base)] + notes
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
    repo, _prefix = GitRepo.enclosing(config.root)  # a DVC root below the git top too
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
