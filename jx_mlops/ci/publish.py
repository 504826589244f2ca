"""`ci pr --output DIR` and `ci publish DIR`: the fork-safe split of the PR check.

A pull request from a fork must never reach a secret, so on GitHub the check runs in two
workflows (docs/security.md):

1. ``mlops-pr.yml`` (``pull_request``, read-only token, no secrets) trains the PR as
   checked out and writes the report to a directory (``write_pr_report``), uploaded as
   an artifact. Nothing is posted and nothing is pushed.
2. ``mlops-comment.yml`` (``workflow_run``, may write, never checks out the PR) reads that
   artifact as *untrusted data* (``publish_pr_report``): it checks every field, re-renders
   the comment itself (so the PR's code cannot put arbitrary markdown in a bot comment),
   and posts it only on the pull request whose head is the commit the run was for.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeGuard

from jx_mlops import console
from jx_mlops.ci import CHECK_NAME, STATUS_CONTEXT
from jx_mlops.ci.context import CiContext
from jx_mlops.ci.holdoutscore import score_fork_holdout, write_exports
from jx_mlops.ci.trustedjson import trusted_from_json
from jx_mlops.compare.charts import Chart, Series
from jx_mlops.compare.comparison import (
    Comparison,
    ModelComparison,
    Revision,
    StageLineage,
    Verdict,
)
from jx_mlops.compare.cost import CostComparison, RunRecord
from jx_mlops.compare.datadiff import DataChange
from jx_mlops.compare.metrics import MetricDelta, ParamChange
from jx_mlops.compare.significance import SignificanceResult
from jx_mlops.config import MetricPolicy, ProjectConfig
from jx_mlops.dvc import OutputInfo
from jx_mlops.errors import ConfigError, ForgeError, GitError, UsageError
from jx_mlops.evaluation.build import ReportOptions, write_html
from jx_mlops.evaluation.runrecords import fetch_records, make_record, measured_repro
from jx_mlops.evaluation.snapshot import default_branch_ref, snapshot
from jx_mlops.evaluation.trusted import compare_trusted
from jx_mlops.forge import Forge, upsert_marked_comment
from jx_mlops.forge.base import CheckRun, Comment, CommitStatus
from jx_mlops.fsutil import read_bounded
from jx_mlops.git import GitRepo
from jx_mlops.report.jsonout import comparison_to_json
from jx_mlops.report.markdown import marker, render_comment
from jx_mlops.yamlio import load_json

REPORT_FILE = "jx-mlops-report.json"
COMMENT_FILE = "comment.md"
HTML_FILE = "report.html"
REPORT_SCHEMA = "jx-mlops/pr-report@1"
_MAX_REPORT_BYTES = 2_000_000
# Tuples, not sets: `x in` a tuple compares, so an artifact's list or dict is "not one of
# them" instead of a TypeError (unhashable).
_STATUSES = ("improved", "regressed", "within_tolerance", "unchanged", "changed", "new",
             "removed", "failed_threshold")
_KINDS = ("number", "nan", "inf", "bool", "string", "list", "null", "mapping", None)
FORK_TRUSTED_NOTE = (
    "Trusted evaluation ran in the job that trained this pull request and is relayed from "
    "its artifact: it catches an edited evaluation script, not an edited workflow (see "
    "docs/security.md).")
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True)
class PrReport:
    """A PR's evaluation, computed where nothing may be posted."""

    repo: str
    pull_number: int
    head_sha: str
    base_sha: str
    comparison: Comparison
    directory: Path


@dataclass(frozen=True)
class Publication:
    """What ``ci publish`` posted."""

    repo: str
    pull_number: int
    head_sha: str
    comment: Comment
    comment_created: bool
    status: CommitStatus
    check_run: CheckRun
    comparison: Comparison


# -- 1. train and write (untrusted side, no credentials needed) -----------------------------


def ensure_commit(repo: GitRepo, sha: str | None, ref: str | None,
                  env: dict[str, str]) -> str:
    """The base commit, fetched when a shallow clone lacks it; returns its sha."""
    resolved = repo.try_rev_parse(sha) if sha else None
    if resolved:
        return resolved  # a sha, never the name it was given ("origin/main")
    if sha:
        try:  # GitHub and git >= 2.5 servers serve any reachable commit by its sha
            repo.fetch("origin", [sha], depth=1, env=env)
            return repo.rev_parse(sha)
        except GitError:
            pass
    if not ref:
        raise GitError(f"base commit {sha} is not in this clone and no base branch is known")
    try:
        with console.step(f"Fetching the base branch {ref}"):
            repo.fetch("origin", [f"+refs/heads/{ref}:refs/remotes/origin/{ref}"], depth=1,
                       env=env)
    except GitError as exc:
        hint = None if env else "set GITHUB_TOKEN (the job's read-only token is enough)"
        raise GitError(f"the base ({ref}) is not in this clone and fetching it failed: "
                       f"{exc.message}", hint=hint) from None
    return repo.rev_parse(f"origin/{ref}")


def write_pr_report(config: ProjectConfig, context: CiContext, output: Path, *,
                    number: int | None = None, base: str | None = None,
                    git_env: dict[str, str] | None = None,
                    options: ReportOptions | None = None) -> PrReport:
    """Reproduce the checked-out PR and write its report to ``output`` (posts nothing):
    the JSON ``ci publish`` reads, the comment as it would look, the full HTML report."""
    number = number if number is not None else context.pull_number
    if number is None:
        raise UsageError("which pull request? pass --pr N (or run in a pull_request event)")
    repo = GitRepo.open(config.root)
    try:
        head_sha = repo.head_sha()
        base_ref = context.base_ref
        if base is None and context.base_sha is None and base_ref is None:
            base, base_ref = default_branch_ref(repo)
        base_sha = ensure_commit(repo, base or context.base_sha, base_ref, git_env or {})
        with console.step("Reproducing the pipeline (dvc repro)") as detail:
            stages = measured_repro(config.root, pull=True, on_line=detail)
        # The cost of this run travels in the artifact (nothing may be pushed from here);
        # the base's comes from the run records already on the remote, if it shares them.
        with contextlib.suppress(GitError):
            fetch_records(repo, git_env or {})
        record = make_record(head_sha, stages) if any(s.ran for s in stages) else None
        comparison = compare_trusted(
            config, repo, snapshot(repo, config.root, base_sha, base_ref or base_sha[:7]),
            snapshot(repo, config.root, None, f"PR #{number}"), options, head_record=record)
    finally:
        repo.close()
    comparison = replace(comparison, head=Revision(f"PR #{number}", head_sha))
    if comparison.trusted is not None:  # the comment as `ci publish` will post it
        comparison = replace(comparison, trusted=replace(comparison.trusted,
                                                         where=FORK_TRUSTED_NOTE))
    report = PrReport(context.repo or config.forge.repo, number, head_sha, base_sha,
                      comparison, output)
    _write(report, context.run_url)
    write_exports(config, output)  # for `ci publish` to score on the sealed holdout
    return report


def _write(report: PrReport, run_url: str | None) -> None:
    report.directory.mkdir(parents=True, exist_ok=True)
    data = {"schema": REPORT_SCHEMA, "repo": report.repo, "pull_request": report.pull_number,
            "head_sha": report.head_sha, "base_sha": report.base_sha, "run_url": run_url,
            "comparison": comparison_to_json(report.comparison)}
    (report.directory / REPORT_FILE).write_text(json.dumps(data, indent=2) + "\n",
                                                encoding="utf-8")
    (report.directory / COMMENT_FILE).write_text(render_comment(report.comparison),
                                                 encoding="utf-8")
    write_html(report.directory / HTML_FILE, report.comparison)


# -- 2. read back (the artifact is untrusted data) -----------------------------------------


class _Reader:
    """Typed access to untrusted JSON; every error names the file and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.where}: {field}: expected {expected}, got {value!r:.80}")

    def text(self, data: dict[str, Any], key: str, field: str, limit: int = 500) -> str:
        value = data.get(key)
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(f"{field}.{key}" if field else key, f"a string (<= {limit})", value)
        return value

    def value(self, data: dict[str, Any], key: str, kind: Any, field: str) -> Any:
        value = data.get(key)
        if kind in ("nan", "inf") and _special(value):
            return _SPECIAL[value]
        if isinstance(value, (dict, list)) and len(json.dumps(value)) > 2000:
            raise self.fail(f"{field}.{key}", "a small value", "...")
        return value

    def number(self, data: dict[str, Any], key: str, field: str) -> float | None:
        value = data.get(key)
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
        if _special(value):
            return _SPECIAL[value]
        raise self.fail(f"{field}.{key}", "a number or null", value)

    def rows(self, data: dict[str, Any], key: str, limit: int = 5000) -> list[dict[str, Any]]:
        rows = data.get(key)
        if not isinstance(rows, list) or len(rows) > limit or not all(
                isinstance(r, dict) for r in rows):
            raise self.fail(key, f"a list of at most {limit} objects", rows)
        return rows


def _metric(reader: _Reader, row: dict[str, Any], field: str) -> MetricDelta:
    status = row.get("status")
    if status not in _STATUSES:
        raise reader.fail(f"{field}.status", "a metric status", status)
    kinds = [row.get("base_kind"), row.get("head_kind")]
    if any(k not in _KINDS for k in kinds) or row.get("direction") not in (None, "higher",
                                                                            "lower"):
        raise reader.fail(field, "valid kinds and direction", kinds)
    return MetricDelta(
        path=reader.text(row, "path", field), name=reader.text(row, "name", field),
        base=reader.value(row, "base", kinds[0], field),
        head=reader.value(row, "head", kinds[1], field),
        delta=reader.number(row, "delta", field), rel_delta=reader.number(row, "rel_delta",
                                                                          field),
        status=status, policy=MetricPolicy(direction=row.get("direction")),
        base_kind=kinds[0], head_kind=kinds[1])


def _param(reader: _Reader, row: dict[str, Any], field: str) -> ParamChange:
    if row.get("status") not in ("changed", "added", "removed", "unchanged"):
        raise reader.fail(f"{field}.status", "a param status", row.get("status"))
    return ParamChange(path=reader.text(row, "path", field), name=reader.text(row, "name", field),
                       base=reader.value(row, "base", None, field),
                       head=reader.value(row, "head", None, field), status=row["status"])


def comparison_from_json(data: dict[str, Any], where: str) -> Comparison:
    """Rebuild a Comparison from ``comparison_to_json`` output, checking every field."""
    reader = _Reader(where)
    if data.get("verdict") not in ("pass", "fail"):
        raise reader.fail("comparison.verdict", "'pass' or 'fail'", data.get("verdict"))
    counts = data.get("counts") or {}
    if not isinstance(counts, dict) or any(k not in _STATUSES or not isinstance(v, int)
                                           for k, v in counts.items()):
        raise reader.fail("comparison.counts", "metric status counts", counts)
    metrics: dict[str, list[MetricDelta]] = {}
    for i, row in enumerate(reader.rows(data, "metrics")):
        model = reader.text(row, "model", f"metrics[{i}]", 100)
        metrics.setdefault(model, []).append(_metric(reader, row, f"metrics[{i}]"))
    params: dict[str, list[ParamChange]] = {}
    for i, row in enumerate(reader.rows(data, "params")):
        model = reader.text(row, "model", f"params[{i}]", 100)
        params.setdefault(model, []).append(_param(reader, row, f"params[{i}]"))
    models = []
    for i, row in enumerate(reader.rows(data, "models", 100)):
        name = reader.text(row, "name", f"models[{i}]", 100)
        problems = [row.get("base_problems") or [], row.get("head_problems") or []]
        if not all(isinstance(p, list) and all(isinstance(x, str) and len(x) < 1000 for x in p)
                   and len(p) < 50 for p in problems):
            raise reader.fail(f"models[{i}]", "lists of problem messages", problems)
        note = row.get("significance_note")
        if note is not None and not (isinstance(note, str) and len(note) < 1000):
            raise reader.fail(f"models[{i}].significance_note", "a short text", note)
        significance = tuple(_significance(reader, s, f"models[{i}].significance[{j}]")
                             for j, s in enumerate(reader.rows(row, "significance", 5000)))
        trend = tuple(_chart(reader, c, f"models[{i}].trend[{j}]")
                      for j, c in enumerate(reader.rows(row, "trend", 20)))
        models.append(ModelComparison(name, tuple(metrics.get(name, [])),
                                      tuple(params.get(name, [])), tuple(problems[0]),
                                      tuple(problems[1]), significance, note, trend))
    verdict = Verdict(data["verdict"] == "pass", reader.text(data, "summary", "comparison", 2000),
                      dict(counts))
    lineage = tuple(_lineage(reader, row, f"lineage[{i}]")
                    for i, row in enumerate(reader.rows(data, "lineage", 200)))
    return Comparison(Revision("base", None), Revision("head", None), tuple(models), verdict,
                      lineage=lineage, **_extras(reader, data))


def _significance(reader: _Reader, row: dict[str, Any], field: str) -> SignificanceResult:
    x = [reader.number(row, key, field) for key in ("base", "head", "delta", "low", "high")]
    n = [row.get("samples"), row.get("replicates")]
    pairing = row.get("pairing")
    if pairing not in ("paired", "unpaired") or any(v is None for v in x) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in n):
        raise reader.fail(field, "a bootstrap interval", row)
    return SignificanceResult(reader.text(row, "metric", field, 200), float(x[0] or 0),
                              float(x[1] or 0), float(x[2] or 0), float(x[3] or 0),
                              float(x[4] or 0), pairing, int(n[0] or 0), int(n[1] or 0))


def _chart(reader: _Reader, row: dict[str, Any], field: str) -> Chart:
    series = []
    for j, s in enumerate(reader.rows(row, "series", 10)):
        xs, ys = s.get("x"), s.get("y")
        if not (isinstance(xs, list) and isinstance(ys, list) and len(xs) == len(ys) <= 200):
            raise reader.fail(f"{field}.series[{j}]", "x and y lists of one length", s)
        numbers = [reader.number({"v": v}, "v", f"{field}.series[{j}]") for v in xs + ys]
        if any(v is None for v in numbers):
            raise reader.fail(f"{field}.series[{j}]", "numbers", s)
        floats = [float(v or 0.0) for v in numbers]
        series.append(Series(reader.text(s, "label", field, 200), tuple(floats[:len(xs)]),
                             tuple(floats[len(xs):])))
    categories = row.get("categories") or []
    if not isinstance(categories, list) or len(categories) > 200 or not all(
            isinstance(c, str) and len(c) <= 100 for c in categories):
        raise reader.fail(f"{field}.categories", "short labels", categories)
    note = reader.text(row, "note", field, 500) if row.get("note") else ""
    kind = row.get("kind", "line")
    if kind not in ("line", "bar"):
        raise reader.fail(f"{field}.kind", "line or bar", kind)
    return Chart(reader.text(row, "title", field, 200), reader.text(row, "x_label", field, 200),
                 reader.text(row, "y_label", field, 200), tuple(series), tuple(categories),
                 note, "bar" if kind == "bar" else "line")


def _output(reader: _Reader, data: Any, field: str) -> OutputInfo | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise reader.fail(field, "a tracked path or null", data)
    sizes = [data.get("size"), data.get("nfiles")]
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in sizes):
        raise reader.fail(field, "integer sizes", sizes)
    md5 = data.get("md5")
    if md5 is not None and not (isinstance(md5, str) and len(md5) <= 80):
        raise reader.fail(f"{field}.md5", "a hash", md5)
    return OutputInfo(reader.text(data, "path", field), md5, sizes[0], sizes[1],
                      reader.text(data, "stage", field, 200) if data.get("stage") else "")


def _data_change(reader: _Reader, row: dict[str, Any], field: str) -> DataChange:
    status = row.get("status")
    if status not in ("added", "modified", "deleted", "unchanged"):
        raise reader.fail(f"{field}.status", "a data status", status)
    return DataChange(reader.text(row, "path", field), status,
                      reader.text(row, "tracked_by", field, 200),
                      _output(reader, row.get("base"), f"{field}.base"),
                      _output(reader, row.get("head"), f"{field}.head"))


def _record(reader: _Reader, data: Any, field: str) -> RunRecord | None:
    if data is None:
        return None
    record = RunRecord.from_json(json.dumps(data)) if isinstance(data, dict) else None
    if record is None or not _well_typed(record) or len(record.stages) > 100 or any(
            len(s.name) > 200 for s in record.stages):
        raise reader.fail(field, "a run record", data)
    if record.run_url is not None and len(record.run_url) > 500:
        raise reader.fail(f"{field}.run_url", "a link", record.run_url)
    return record


def _well_typed(record: RunRecord) -> bool:
    """RunRecord.from_json takes a note's fields as they are; an artifact's are checked."""
    def number(v: Any) -> bool:
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))

    return (isinstance(record.commit, str) and isinstance(record.recorded_at, str)
            and (record.run_url is None or isinstance(record.run_url, str))
            and number(record.total_wall_s)
            and all(isinstance(s.name, str) and isinstance(s.ran, bool) and number(s.wall_s)
                    and number(s.peak_rss_mb) for s in record.stages))


def _special(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value in _SPECIAL


def _costs(reader: _Reader, data: Any) -> CostComparison | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise reader.fail("costs", "run records or null", data)
    missing = [data.get("base_missing"), data.get("head_missing")]
    if not all(m is None or (isinstance(m, str) and len(m) <= 500) for m in missing):
        raise reader.fail("costs", "short reasons", missing)
    return CostComparison(_record(reader, data.get("base"), "costs.base"),
                          _record(reader, data.get("head"), "costs.head"), *missing)


def _extras(reader: _Reader, data: dict[str, Any]) -> dict[str, Any]:
    """Data, plots, notes and costs: the parts of a report beyond metrics and params."""
    notes = data.get("notes") or []
    if not isinstance(notes, list) or len(notes) > 50 or not all(
            isinstance(n, str) and len(n) <= 500 for n in notes):
        raise reader.fail("notes", "short notes", notes)
    return {"data": tuple(_data_change(reader, r, f"data[{i}]")
                          for i, r in enumerate(reader.rows(data, "data", 2000))),
            "plots": tuple(_chart(reader, r, f"plots[{i}]")
                           for i, r in enumerate(reader.rows(data, "plots", 20))),
            "notes": tuple(notes), "costs": _costs(reader, data.get("costs")),
            "trusted": trusted_from_json(data.get("trusted"), reader.where)}


def _lineage(reader: _Reader, row: dict[str, Any], field: str) -> StageLineage:
    sides = [row.get("base"), row.get("head")]
    if not all(v is None or (isinstance(v, str) and len(v) <= 64) for v in sides):
        raise reader.fail(field, "stage fingerprints", sides)
    return StageLineage(reader.text(row, "stage", field, 200), sides[0], sides[1])


def read_pr_report(directory: Path) -> dict[str, Any]:
    """The report a PR run wrote, parsed and checked (it is untrusted input)."""
    path = directory / REPORT_FILE
    where = str(path)
    try:
        raw = read_bounded(path, max_bytes=_MAX_REPORT_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{where} not found: is this the directory `ci pr --output` "
                          "wrote (the downloaded artifact)?") from None
    data = load_json(raw, source=where)
    reader = _Reader(where)
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise reader.fail("schema", repr(REPORT_SCHEMA), data.get("schema")
                          if isinstance(data, dict) else data)
    if not isinstance(data.get("pull_request"), int) or isinstance(data["pull_request"], bool):
        raise reader.fail("pull_request", "a number", data.get("pull_request"))
    for key in ("head_sha", "base_sha"):
        value = reader.text(data, key, "", 64)
        if not all(c in "0123456789abcdef" for c in value) or len(value) < 40:
            raise reader.fail(key, "a commit sha", value)
    if not isinstance(data.get("comparison"), dict):
        raise reader.fail("comparison", "an object", data.get("comparison"))
    data["comparison"] = comparison_from_json(data["comparison"], where)
    return data


# -- 3. publish (trusted side) -------------------------------------------------------------


def _trusted_target(forge: Forge, repo: str, context: CiContext, report: dict[str, Any]
                    ) -> tuple[int, str]:
    """(PR number, head sha) from the event, never from the artifact alone."""
    run = context.workflow_run
    claimed = (report["pull_request"], report["head_sha"])
    if run is None:
        return claimed  # run by hand: the person running it vouches for the directory
    if run.head_sha != report["head_sha"]:
        raise ForgeError(f"the report is for commit {report['head_sha'][:12]} but the "
                         f"workflow run was for {run.head_sha[:12]}: not publishing it")
    # workflow_run lists no pull requests for forks: ask the forge which PR heads there.
    numbers = set(run.pull_numbers) or {
        p.number for p in forge.pulls_for_commit(repo, run.head_sha)
        if p.head_sha == run.head_sha and p.state == "open"} or {
        p.number for p in forge.list_pulls(repo) if p.head_sha == run.head_sha}
    if report["pull_request"] not in numbers:
        raise ForgeError(f"the report claims pull request #{report['pull_request']}, but "
                         f"commit {run.head_sha[:12]} heads "
                         f"{', '.join(f'#{n}' for n in sorted(numbers)) or 'no open pull request'}"
                         ": not publishing it")
    return claimed


def publish_from_directory(directory: Path, context: CiContext, *, repo: str | None = None,
                           config: ProjectConfig | None = None) -> Publication:
    """`ci publish`: the project's forge, or (outside a project) GitHub from the event."""
    from jx_mlops.config import ForgeConfig
    from jx_mlops.forge import open_forge

    if config is not None:
        forge_config = config.forge
    elif context.provider == "github-actions" and context.repo:
        forge_config = ForgeConfig(kind="github", repo=context.repo, url=context.api_url)
    else:
        raise UsageError("ci publish runs in a project directory or in GitHub Actions")
    name = repo or context.repo or forge_config.repo
    return publish_pr_report(open_forge(forge_config), name, context, directory,
                             config=config)


def publish_pr_report(forge: Forge, repo: str, context: CiContext, directory: Path, *,
                      report_id: str = "default", config: ProjectConfig | None = None
                      ) -> Publication:
    """Post the comment, commit status and check run of a report written by the PR run;
    with ``config`` (a checkout of the base) and its sealed holdout, score the artifact's
    ONNX exports on it first."""
    report = read_pr_report(directory)
    number, head_sha = _trusted_target(forge, repo, context, report)
    pull = forge.get_pull(repo, number)
    base = Revision(pull.base, report["base_sha"])
    comparison = replace(report["comparison"], base=base,
                         head=Revision(f"PR #{number}", head_sha))
    if comparison.trusted is not None:  # say where it ran: here we can only relay it
        comparison = replace(comparison, trusted=replace(
            comparison.trusted, where=FORK_TRUSTED_NOTE))
    if config is not None and config.evaluation.holdout is not None:
        comparison = score_fork_holdout(config, comparison, directory, pull.base)
    run_url = None
    if context.workflow_run is not None and context.server_url:
        run_url = f"{context.server_url}/{repo}/actions/runs/{context.workflow_run.id}"
    body = render_comment(comparison, report_id=report_id, artifact=HTML_FILE)
    comment, created = upsert_marked_comment(forge, repo, number, marker(report_id), body)
    verdict = comparison.verdict
    state: Literal["success", "failure"] = "success" if verdict.passed else "failure"
    status = forge.set_status(repo, head_sha, state=state, context=STATUS_CONTEXT,
                              description=verdict.line, target_url=run_url)
    check = forge.create_check_run(repo, head_sha, name=CHECK_NAME, status="completed",
                                   conclusion=state, title=verdict.line[:200], summary=body,
                                   details_url=run_url)
    return Publication(repo, number, head_sha, comment, created, status, check, comparison)
