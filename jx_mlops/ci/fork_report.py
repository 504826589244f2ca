"""The fork's report artifact, read back as untrusted data (``ci publish``).

Every field of ``jx-mlops-report.json`` is type- and size-checked and rebuilt into our own
values, so the comment ``ci publish`` posts is rendered by jx-mlops, never taken from
the artifact (docs/security.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypeGuard, cast

from jx_mlops.ci.fork_slices import slices_from_json
from jx_mlops.compare.charts import Chart, Series
from jx_mlops.compare.comparison import (
    Comparison,
    Coverage,
    ModelComparison,
    Revision,
    StageLineage,
    Verdict,
)
from jx_mlops.compare.cost import CostComparison, RunRecord
from jx_mlops.compare.datadiff import DataChange
from jx_mlops.compare.metrics import MetricDelta, ParamChange
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.scoring import SelfReported, TrustedEvaluation, TrustedMode
from jx_mlops.compare.significance import SignificanceResult
from jx_mlops.compare.values import kind_of
from jx_mlops.config.node import ConfigNode
from jx_mlops.dvc.lockfile import OutputInfo
from jx_mlops.errors import ConfigError
from jx_mlops.fsutil import read_bounded
from jx_mlops.yamlio import cut, load_json

REPORT_FILE = "jx-mlops-report.json"
COMMENT_FILE = "comment.md"
HTML_FILE = "report.html"
REPORT_SCHEMA = "jx-mlops/pr-report@1"
_MAX_REPORT_BYTES = 2_000_000
# Tuples, not sets: `x in` a tuple compares, so an artifact's list or dict is "not one of
# them" instead of a TypeError (unhashable).
_STATUSES = ("improved", "regressed", "within_tolerance", "within_noise", "unchanged",
             "changed", "new", "removed", "failed_threshold", "unreadable")
_KINDS = ("number", "nan", "inf", "bool", "string", "list", "null", "mapping", None)
FORK_TRUSTED_NOTE = (
    "Trusted evaluation ran in the job that trained this pull request and is relayed from "
    "its artifact: it catches an edited evaluation script, not an edited workflow (see "
    "docs/security.md).")
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MAX_METRICS_FILES = 1000  # declared by one model's pipeline


# -- reading -----------------------------------------


class _Reader:
    """Typed access to untrusted JSON; every error names the file and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.where}: {field}: expected {expected}, got {cut(value)}")

    def text(self, data: dict[str, Any], key: str, field: str, limit: int = 500) -> str:
        value = data.get(key)
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(f"{field}.{key}" if field else key, f"a string (<= {limit})", value)
        return value

    def value(self, data: dict[str, Any], key: str, kind: Any, field: str) -> Any:
        """A metric or param value; with ``kind``, of that kind (the renderers trust a
        "number" to be one)."""
        value = data.get(key)
        if kind in ("nan", "inf") and _special(value):
            value = _SPECIAL[value]
        if isinstance(value, (dict, list)) and len(json.dumps(value)) > 2000:
            raise self.fail(f"{field}.{key}", "a small value", "...")
        if kind is not None and kind_of(value) != kind:
            raise self.fail(f"{field}.{key}", f"a value of kind {kind!r}", value)
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
        slices_note = row.get("slices_note")
        if slices_note is not None and not (isinstance(slices_note, str)
                                            and len(slices_note) < 1000):
            raise reader.fail(f"models[{i}].slices_note", "a short text", slices_note)
        coverage = row.get("coverage") or {}
        if not isinstance(coverage, dict):
            raise reader.fail(f"models[{i}].coverage", "an object", coverage)
        models.append(ModelComparison(name, tuple(metrics.get(name, [])),
                                      tuple(params.get(name, [])), tuple(problems[0]),
                                      tuple(problems[1]), significance, note, trend,
                                      base_coverage=_coverage(reader, coverage.get("base"),
                                                              f"models[{i}].coverage.base"),
                                      head_coverage=_coverage(reader, coverage.get("head"),
                                                              f"models[{i}].coverage.head"),
                                      slices=slices_from_json(row.get("slices"), where,
                                                              f"models[{i}].slices"),
                                      slices_note=slices_note))
    verdict = Verdict(data["verdict"] == "pass", reader.text(data, "summary", "comparison", 2000),
                      dict(counts))
    lineage = tuple(_lineage(reader, row, f"lineage[{i}]")
                    for i, row in enumerate(reader.rows(data, "lineage", 200)))
    return Comparison(Revision("base", None), Revision("head", None), tuple(models), verdict,
                      lineage=lineage, **_extras(reader, data))


def _coverage(reader: _Reader, data: Any, field: str) -> Coverage | None:
    """'Read 3 of 3 metrics files declared at the head', and each file not read with why:
    counts that add up (read + unread = declared), short paths and reasons."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise reader.fail(field, "an object or null", data)
    declared, read = data.get("declared"), data.get("read")
    if not (isinstance(declared, int) and isinstance(read, int)) or isinstance(
            declared, bool) or isinstance(read, bool) or not (
            0 <= read <= declared <= _MAX_METRICS_FILES):
        raise reader.fail(field, f"counts 0 <= read <= declared <= {_MAX_METRICS_FILES}",
                          [declared, read])
    rows = reader.rows(data, "unread", _MAX_METRICS_FILES)
    if len(rows) != declared - read:
        raise reader.fail(f"{field}.unread", f"{declared - read} files not read", len(rows))
    unread = tuple((reader.text(r, "path", f"{field}.unread[{j}]"),
                    reader.text(r, "reason", f"{field}.unread[{j}]", 1000))
                   for j, r in enumerate(rows))
    return Coverage(declared, read, unread)


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
    rows = reader.rows(row, "series", 10)
    if not rows:  # jx-mlops draws no chart without a line or a bar
        raise reader.fail(f"{field}.series", "at least one series", rows)
    for j, s in enumerate(rows):
        xs, ys = s.get("x"), s.get("y")
        if not (isinstance(xs, list) and isinstance(ys, list) and 1 <= len(xs) == len(ys) <= 200):
            raise reader.fail(f"{field}.series[{j}]", "x and y lists of one length (1 to 200)",
                              s)
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


# -- the trusted block, read as mlops.yaml is (file: the artifact, key: trusted.*) --

_MAX_ROWS = 5000


def _text(node: ConfigNode, limit: int) -> str:
    """Any string up to ``limit`` (an empty one too: the artifact is data, not config)."""
    if not isinstance(node.value, str) or len(node.value) > limit:
        raise node.fail(f"a string (<= {limit})")
    return node.value


def _scalar(node: ConfigNode) -> Any:
    """A metric value: a number (NaN and infinities as their JSON strings), a bool, a
    short string or null; nothing nested (a row is one metric)."""
    value = node.value
    if _special(value):
        return _SPECIAL[value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and len(value) <= 200:
        return value
    raise node.fail("a number, bool, short string or null")


def _row(node: ConfigNode) -> SelfReported:
    node.mapping(what="an object")
    return SelfReported(
        model=_text(node.child("model"), 100), path=_text(node.child("path"), 500),
        name=_text(node.child("name"), 500), trusted=_scalar(node.child("trusted")),
        reported=_scalar(node.child("reported")))


def trusted_from_json(data: Any, where: str) -> TrustedEvaluation | None:
    """Rebuild ``jsonout.trusted_to_json`` output, checking every field."""
    node = ConfigNode(data, "trusted", where)
    if data is None:
        return None
    node.mapping(what="an object or null")
    mode = node.child("mode").choice("enforced", "advisory")
    sha = node.child("base_sha").optional(lambda n: _text(n, 64))
    if sha is not None and not all(c in "0123456789abcdef" for c in sha):
        raise node.child("base_sha").fail("a commit sha")
    rows = node.child("self_reported").optional(
        lambda n: n.sequence(f"a list of at most {_MAX_ROWS} rows", limit=_MAX_ROWS), [])
    problem = node.child("problem").optional(lambda n: _text(n, 1000))
    if node.value.get("scored") is not (problem is None):
        raise node.child("scored").fail("true exactly when there is no problem")
    return TrustedEvaluation(
        stage=_text(node.child("stage"), 100), base=_text(node.child("base"), 250),
        base_sha=sha, mode=cast(TrustedMode, mode), problem=problem,
        rows=tuple(_row(row) for row in rows),
        where=node.child("where").optional(lambda n: _text(n, 500)))
