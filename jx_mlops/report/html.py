"""The full report as one self-contained HTML file (pure): for CI artifacts.

Same content as the PR comment, never shortened, with charts drawn as inline SVG, so the
file opens anywhere with no network access and no image host.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from jx_mlops.compare.comparison import Comparison, ModelComparison
from jx_mlops.compare.cost import describe_stage
from jx_mlops.compare.datadiff import human_size
from jx_mlops.compare.metrics import ParamChange
from jx_mlops.compare.slices.findings import SliceResult
from jx_mlops.compare.values import kind_of
from jx_mlops.report.format import (
    STATUS_ICONS,
    STATUS_ORDER,
    format_delta,
    format_number,
    format_value,
)
from jx_mlops.report.slices import slice_chart
from jx_mlops.report.svg import render_svg

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:70rem;
color:#1f2328;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #d0d7de;
padding:.25rem .6rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1a7f37}.fail{color:#cf222e}code{background:#f6f8fa;padding:0 .2rem}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}.note{color:#59636e}
.regressed,.failed_threshold{background:#ffebe9}.improved{background:#dafbe1}
"""


_SLICE_CLASS = {"worse": "regressed", "better": "improved", "not_significant": "note"}


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metrics(model: ModelComparison) -> str:
    rows = []
    for d in sorted(model.metrics, key=lambda d: (STATUS_ORDER.index(d.status), d.path, d.name)):
        sig = model.significance_of(d)
        ci = (f"[{sig.low:+.4f}, {sig.high:+.4f}] {'✓' if sig.significant else '≈'}"
              if sig else "—")
        rows.append([_e(f"{d.path}: {d.name}"), _e(format_value(d.base, d.base_kind)),
                     _e(format_value(d.head, d.head_kind)), _e(format_delta(d)), _e(ci),
                     f'<span class="{d.status}">{STATUS_ICONS[d.status]} '
                     f'{_e(d.status.replace("_", " "))}</span>'])
    return _table(("Metric", "Base", "Head", "Change", "95% CI", "Status"), rows, {1, 2, 3, 4})


def _params(params: Sequence[ParamChange]) -> str:
    def side(p: ParamChange, value: object, absent: str) -> str:
        return "—" if p.status == absent else _e(format_value(value, kind_of(value)))

    rows = [[_e(f"{p.path}: {p.name}"), side(p, p.base, "added"), side(p, p.head, "removed"),
             _e(p.status)] for p in sorted(params, key=lambda p: (p.status == "unchanged",
                                                                  p.path, p.name))]
    return _table(("Param", "Base", "Head", ""), rows, {1, 2})


def _slice_rows(results: Sequence[SliceResult]) -> list[list[str]]:
    return [[_e(r.slice), f"{r.rows:,}", _e(r.metric), _e(format_number(r.base)),
             _e(format_number(r.head)), _e(f"{r.delta:+.4f} [{r.low:+.4f}, {r.high:+.4f}]"),
             _e(f"{r.q:.2g}"), f'<span class="{_SLICE_CLASS[r.status]}">'
             f'{_e(r.status.replace("_", " "))}</span>'
             + (f" (within {_e(r.subsumed_by)})" if r.subsumed_by else "")]
            for r in results]


def _slices(model: ModelComparison) -> list[str]:
    """Every significant slice, the chart, and every test one click away."""
    report = model.slices
    if report is None:
        return [f'<p class="note">{_e(model.slices_note)}</p>'] if model.slices_note else []
    header = ("Slice", "Rows", "Metric", "Base", "Head", "Change [95% CI]", "q", "")
    significant = [r for r in report.results if r.status != "not_significant"]
    parts = ["<h3>Where it got worse</h3>",
             f"<p>{len(report.worse())} of {report.slices} slices significantly worse, "
             f"{len(report.better())} better ({report.tests} tests, {report.pairing} "
             f"bootstrap, Benjamini-Hochberg at q ≤ {report.policy.fdr:g}).</p>"]
    if significant:
        parts.append(_table(header, _slice_rows(significant), {1, 3, 4, 5, 6}))
    chart = slice_chart(report)
    if chart is not None:
        parts.append(render_svg(chart))
    parts += [f'<p class="note">{_e(n)}</p>' for n in report.notes]
    every = f"All {report.tests} tests" if len(report.results) == report.tests else \
        (f"The {len(report.results)} significant of {report.tests} tests (the fork's "
         "artifact carries no more)")
    parts += [f"<details><summary>{every}</summary>",
              _table(header, _slice_rows(report.results), {1, 3, 4, 5, 6}), "</details>"]
    return parts


def _model(model: ModelComparison) -> list[str]:
    parts = [f"<h2>Model <code>{_e(model.model)}</code></h2>"]
    parts += [f'<p class="fail">Head metrics unavailable: {_e(p)}</p>'
              for p in model.head_problems]
    parts += [f'<p class="note">Base metrics unavailable: {_e(p)}</p>'
              for p in model.base_problems]
    parts.append(_metrics(model))
    if model.significance_note:
        parts.append(f'<p class="note">{_e(model.significance_note)}</p>')
    parts += _slices(model)
    if model.params:
        parts += ["<h3>Params</h3>", _params(model.params)]
    if model.trend:
        parts += ["<h3>Metric trend</h3>", *(render_svg(c) for c in model.trend)]
    return parts


def _project(comparison: Comparison) -> list[str]:
    parts: list[str] = []
    if comparison.data:
        rows = [[_e(d.path), _e(d.status),
                 _e(f"{human_size(d.base.size) if d.base else '—'} → "
                    f"{human_size(d.head.size) if d.head else '—'}"),
                 f"<code>{_e(d.md5 or '?')}</code>",
                 _e(d.source)] for d in comparison.data]
        parts += ["<h2>Data</h2>", _table(("Path", "Change", "Size", "md5", "Tracked by"), rows,
                                          {2})]
    if comparison.plots:
        parts += ["<h2>Plots</h2>", *(render_svg(c) for c in comparison.plots)]
    parts += [f'<p class="note">{_e(n)}</p>' for n in comparison.notes]
    costs = comparison.costs
    if costs is not None and (costs.base or costs.head):
        rows = [[_e(n), *map(_e, describe_stage(costs, n))] for n in costs.stage_names()]
        parts += ["<h2>Training cost</h2>", _table(("Stage", "Wall time", "Peak memory"), rows,
                                                   {1, 2})]
    if comparison.lineage:
        rows = [[_e(s.stage), f"<code>{_e(s.base or '—')}</code>",
                 f"<code>{_e(s.head or '—')}</code>", "changed" if s.changed else "same"]
                for s in comparison.lineage]
        parts += ["<h2>Lineage</h2>",
                  f"<p>base <code>{_e(comparison.base.label)}</code> @ "
                  f"<code>{_e(comparison.base.sha or 'workspace')}</code>; head "
                  f"<code>{_e(comparison.head.label)}</code> @ "
                  f"<code>{_e(comparison.head.sha or 'workspace')}</code></p>",
                  _table(("Stage", "Base fingerprint", "Head fingerprint", ""), rows, set())]
    return parts


def _trusted(comparison: Comparison) -> list[str]:
    """Who scored the PR's model, and every self-reported value beside the trusted one."""
    trusted = comparison.trusted
    if trusted is None:
        return []
    who = (f"<code>{_e(trusted.stage)}</code> as of <code>{_e(trusted.base)}</code> @ "
           f"<code>{_e((trusted.base_sha or '?')[:7])}</code>")
    parts = ["<h2>Trusted evaluation</h2>"]
    if not trusted.scored:
        parts.append(f'<p class="fail">{who} could not score this PR\'s model: '
                     f"{_e(trusted.problem)} (mode {_e(trusted.mode)})</p>")
    else:
        parts.append(f"<p>Scored by {who} in a separate work tree; the PR's own values are "
                     "self-reported.</p>")
        rows = [[_e(f"{r.path}: {r.name}"), _e(format_value(r.trusted, kind_of(r.trusted))),
                 _e(format_value(r.reported, kind_of(r.reported))),
                 '<span class="regressed">⚠️ differs</span>' if r.differs else "same"]
                for r in trusted.rows]
        parts.append(_table(("Metric", "Trusted (judged)", "Self-reported", ""), rows, {1, 2}))
    if trusted.where:
        parts.append(f'<p class="note">{_e(trusted.where)}</p>')
    return parts


def render_html(comparison: Comparison, *, title: str = "jx-mlops evaluation") -> str:
    """A complete HTML document."""
    verdict = comparison.verdict
    body = [f"<h1>{_e(title)}: <span class=\"{verdict.word}\">{verdict.word}</span></h1>",
            f'<p class="{verdict.word}"><strong>{_e(verdict.line)}</strong></p>',
            *_trusted(comparison)]
    for model in comparison.models:
        body += _model(model)
    body += _project(comparison)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
