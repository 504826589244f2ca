"""How each command shows its result: rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jx_mlops.console import out_console

if TYPE_CHECKING:
    from jx_mlops.ci.release import ReleaseResult
    from jx_mlops.compare.comparison import Comparison
    from jx_mlops.create import CreatedProject
    from jx_mlops.forge.base import PullDetail, PullRequest, Repo
    from jx_mlops.forge.records import Finding
    from jx_mlops.project.init import InitResult
    from jx_mlops.promote.audit import AuditReport
    from jx_mlops.promote.history import HistoryEvent
    from jx_mlops.promote.lineage import Lineage
    from jx_mlops.promote.promotion import PromotionResult
    from jx_mlops.promote.status import StatusEntry
    from jx_mlops.registry import ModelVersion
    from jx_mlops.registry.versions import Registration
    from jx_mlops.retrain_data import DataUpdate
    from jx_mlops.scaffold import Quickstart


def _json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]],
           wrap: Sequence[str] = (), caption: str | None = None) -> None:
    """A table; only the ``wrap`` columns (free text) may wrap, the others stay on one line.

    Columns with nothing in any row are left out: a narrow terminal keeps what matters.
    """
    from rich import box
    from rich.table import Table

    keep = [i for i, _c in enumerate(columns) if not rows or any(row[i] for row in rows)]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False, collapse_padding=True,
                  caption=caption, caption_justify="left")
    for i in keep:
        column = columns[i]
        table.add_column(column, no_wrap=column not in wrap, overflow="fold"
                         if column in wrap else "ellipsis",
                         min_width=14 if column in wrap else None)
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    out_console().print(table)


def show_quickstarts(quickstarts: Sequence[Quickstart],
                     missing: dict[str, list[str]] | None = None) -> None:
    missing = missing or {}

    def needs(q: Quickstart) -> str:
        absent = missing.get(q.name)
        return "ready" if not absent else "missing " + ", ".join(absent)

    _table(None, ("Quickstart", "Description", "Packages"),
           [(q.name, q.description, needs(q)) for q in quickstarts],
           wrap=("Description", "Packages"))


def show_created(created: CreatedProject) -> None:
    from rich.markup import escape

    out = out_console()
    out.print(f"[bold green]Created[/] {escape(created.repo)} from quickstart "
              f"{escape(created.quickstart)} in {escape(str(created.path))}")
    out.print(f"  first commit {created.commit[:12]}; DVC remote {escape(created.dvc_remote)}")
    for repo in created.environments_created:
        out.print(f"  environment repository {escape(repo)} created")
    for repo in created.environments_reused:
        out.print(f"  environment repository {escape(repo)} reused")
    out.print(f"Next: cd {escape(str(created.path))} && jx-mlops retrain --set KEY=VALUE")


def show_pull_opened(pull: PullRequest) -> None:
    out_console().print(f"Opened pull request #{pull.number}: {pull.title} "
                        f"({pull.head} -> {pull.base})", markup=False)


def show_comparison(comparison: Comparison, fmt: str) -> None:
    if fmt == "json":
        from jx_mlops.report.jsonout import comparison_to_json

        _json(comparison_to_json(comparison))
    elif fmt == "md":
        from jx_mlops.report.markdown import render_comment

        print(render_comment(comparison), end="")
    else:
        from jx_mlops.report.terminal import render_terminal

        out_console().print(render_terminal(comparison))


def _registration_json(reg: Registration) -> dict[str, Any]:
    v = reg.version
    return {"model": v.model, "version": v.version, "tag": v.tag, "commit": v.commit,
            "created": reg.created,
            "unchanged_since": reg.unchanged_since.version if reg.unchanged_since else None}


def _promotion_json(result: PromotionResult) -> dict[str, Any]:
    return {"environment": result.environment, "model": result.model,
            "version": result.version, "merged": result.merged,
            "already_deployed": result.already_deployed,
            "pull_request": result.pull.number if result.pull else None,
            "action": result.action, "waiting": result.waiting, "forced": result.forced,
            "labels": list(result.pull.labels) if result.pull else [],
            "gates": [{"gate": g.gate, "status": g.status, "detail": g.detail}
                      for g in result.gates]}


def show_registration(reg: Registration, *, as_json: bool) -> None:
    if as_json:
        _json(_registration_json(reg))
        return
    v = reg.version
    if reg.unchanged_since is not None:
        text = f"{v.model}: model unchanged since {v.version}; nothing registered"
    elif reg.created:
        text = f"registered {v.tag} at {v.commit[:12]}"
    else:
        text = f"{v.tag} already registered at {v.commit[:12]}"
    out_console().print(text, markup=False)


def show_promotion(result: PromotionResult, *, as_json: bool) -> None:
    if as_json:
        _json(_promotion_json(result))
        return
    out = out_console()
    if result.already_deployed:
        done = "is disabled" if result.action == "disable" else "already runs"
        out.print(f"{result.model} {result.version} {done} in {result.environment}",
                  markup=False)
    elif result.pull is not None:
        verb = {"promote": "->", "rollback": "rolled back ->", "disable": "disabled in"}
        state = "merged" if result.merged else "waiting"
        out.print(f"{result.model} {result.version} {verb.get(result.action, '->')} "
                  f"{result.environment}: PR #{result.pull.number} {state}"
                  + (" (forced)" if result.forced else ""), markup=False)
    icons = {"pass": "✓", "fail": "✗", "pending": "…"}
    for gate in result.gates if not result.already_deployed else ():
        out.print(f"  {icons[gate.status]} {gate.gate}: {gate.detail}", markup=False)


def show_release(result: ReleaseResult, *, as_json: bool) -> None:
    if as_json:
        _json({"commit": result.commit,
               "registrations": [_registration_json(r) for r in result.registrations],
               "promotions": [_promotion_json(p) for p in result.promotions],
               "blocked": [{"tag": b.tag, "environment": b.environment, "reason": b.reason}
                           for b in result.blocked]})
        return
    for reg in result.registrations:
        show_registration(reg, as_json=False)
    for promotion in result.promotions:
        show_promotion(promotion, as_json=False)
    for blocked in result.blocked:
        out_console().print(f"{blocked.tag} not promoted to {blocked.environment}: "
                            f"{blocked.reason}", markup=False)


def show_status(entries: Sequence[StatusEntry], *, as_json: bool) -> None:
    if as_json:
        _json([e.to_json() for e in entries])
        return
    def version(entry: StatusEntry) -> str:
        if entry.version is None:
            return "—"
        return entry.version if entry.state in (None, "serving") else \
            f"{entry.version} ({entry.state})"

    rows = [(e.model, e.environment, version(e),
             (e.since or "").replace("T", " ")[:16], e.by or "",
             f"#{e.pull_request}" if e.pull_request else "",
             f"#{e.source_pull}" if e.source_pull else "") for e in entries]
    _table("Deployments", ("Model", "Env", "Version", "Since (UTC)", "By", "PR", "From"), rows,
           caption="PR: the promotion's pull request in the environment repository; "
                   "From: the project pull request the version was merged from")


def show_gto_stages(entries: Sequence[StatusEntry], *, as_json: bool) -> None:
    """``status`` of a project without environments: the stages GTO's tags show."""
    if as_json:
        _json([e.to_json() for e in entries])
        return
    rows = [(e.environment, e.model, e.version or "", (e.source_commit or "")[:7])
            for e in entries]
    _table("GTO stages", ("Stage", "Model", "Version", "Commit"), rows,
           caption="No environments in mlops.yaml: the stages GTO's tags assign "
                   "(as gto show lists them)")


def show_versions(versions: Sequence[ModelVersion], *, as_json: bool) -> None:
    from datetime import datetime, timezone

    if as_json:
        _json([{"model": v.model, "version": v.version, "commit": v.commit,
                "stages": list(v.stages), "tag": v.tag, "registered": v.registered,
                "registered_at": v.registered_at, "registered_by": v.registered_by}
               for v in versions])
        return
    # GTO's mark for what no registration tag names: "*"; the sha in full is in --json.
    rows = [(v.model, v.version if v.registered else f"*{v.version[:7]}",
             ", ".join(v.stages), v.commit[:7],
             datetime.fromtimestamp(v.registered_at, timezone.utc).strftime("%Y-%m-%d %H:%M"),
             v.registered_by.split(" <")[0]) for v in versions]
    _table("Registered versions", ("Model", "Version", "Stages", "Commit", "Registered (UTC)",
                                   "By"), rows)


def show_history(model: str, events: Sequence[HistoryEvent], *, as_json: bool) -> None:
    if as_json:
        # One event per line: still one JSON array, and json's C encoder (an indent makes
        # it fall back to pure Python, the bulk of the time for a long history).
        lines = ",\n".join(f"  {json.dumps(e.to_json())}" for e in events)
        print(f"[\n{lines}\n]" if events else "[]")
        return

    def notes(event: HistoryEvent) -> str:
        parts = []
        if event.approved_by:
            parts.append(f"approved by {', '.join(event.approved_by)}")
        if event.forced:
            parts.append(f"forced past {', '.join(event.forced_gates) or 'gates'}")
        if event.reason:
            parts.append(event.reason)
        return "; ".join(parts)

    rows = [(e.at.replace("T", " ")[:16], e.environment, e.action, e.version,
             e.previous_version or "", e.by, f"#{e.pull_request}" if e.pull_request else "",
             notes(e)) for e in events]
    _table(f"History of {model}", ("When (UTC)", "Env", "Action", "Version", "Replaced", "By",
                                   "PR", "Notes"), rows, wrap=("Notes",))


def show_lineage(lineage: Lineage, *, as_json: bool) -> None:
    if as_json:
        _json(lineage.to_json())
        return
    data = lineage.to_json()
    unknown = data["unknown"]

    def fact(key: str, value: object) -> str:
        return f"unknown ({unknown[key]})" if key in unknown else str(value)

    artifact = data["artifact"] or {}
    model_line = fact("artifact", f"{artifact.get('path')} md5 {artifact.get('md5')} "
                                  f"({artifact.get('size')} bytes)"
                                  + (f" at {artifact['uri']}" if artifact.get("uri") else ""))
    source = fact("source_repo", data["source_repo"])
    lock = fact("dvc_lock_sha256", f"sha256 {data['dvc_lock_sha256']}")
    params = fact("params", f"sha256 {data['params_sha256']}")
    lines = [f"{data['tag']}  commit {data['commit']} in {source}",
             f"  registered by {data['registered_by']}"
             + (f"; source PR #{data['source_pull']}" if data["source_pull"] else "")
             + (f"; CI run {data['run_url']}" if data["run_url"] else ""),
             f"  model     {model_line}",
             f"  dvc.lock  {lock}",
             f"  params    {params}"]
    for path, values in (data["params"] or {}).items():
        lines += [f"            {path}: {k} = {v}" for k, v in values.items()]
    lines += [f"  data      {d['path']} md5 {d['md5']}" for d in data["data"]]
    if "metrics" in unknown:
        lines.append(f"  metrics   unknown ({unknown['metrics']})")
    for path, values in (data["metrics"] or {}).items():
        lines += [f"  metric    {path}: {k} = {v}" for k, v in values.items()]
    runs = [f"{d['environment']} (since {d['since']}, by {d['by']})" if d["since"] else
            f"{d['environment']} (GTO stage)"
            for d in data["deployments"] if d["state"] == "serving"]
    lines.append(f"  runs in   {', '.join(runs) or 'no environment'}")
    lines.insert(3, f"  signature {data['signature']['status']}: {data['signature']['detail']}")
    out = out_console()
    for line in lines:
        out.print(line, markup=False)


def show_audit(report: AuditReport, *, as_json: bool) -> None:
    if as_json:
        _json(report.to_json())
        return
    out = out_console()
    for finding in report.findings:
        out.print(f"✗ {finding.environment}/{finding.model}: {finding.problem}", markup=False)
    if report.ok:
        out.print(f"audit: {len(report.checked)} deployment records match the registry and "
                  "their sources", markup=False)
    else:
        from jx_mlops.promote.audit import summarize

        out.print(f"audit: {summarize(report.findings)} ({len(report.checked)} records "
                  "checked)", markup=False)


def show_repos(repos: Sequence[Repo], *, as_json: bool) -> None:
    if as_json:
        _json([{"full_name": r.full_name, "clone_url": r.clone_url,
                "default_branch": r.default_branch} for r in repos])
        return
    _table("Repositories", ("Repository", "Default branch", "Clone URL"),
           [(r.full_name, r.default_branch, r.clone_url) for r in repos])


def show_pulls(repo: str, pulls: Sequence[PullRequest], *, as_json: bool) -> None:
    if as_json:
        _json([p.to_json() for p in pulls])
        return
    _table(f"Pull requests of {repo}", ("#", "Title", "Head -> base", "State", "Labels"),
           [(str(p.number), p.title, f"{p.head} -> {p.base}", p.state, ", ".join(p.labels))
            for p in pulls], wrap=("Title", "Head -> base", "Labels"))


_HTML_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)
_DETAILS = re.compile(r"<details(?P<open> open)?>\s*<summary>(?P<summary>.*?)</summary>"
                      r"(?P<body>.*?)</details>", re.S)


def comment_for_terminal(body: str) -> str:
    """A PR comment's markdown as a terminal shows it: hidden markers dropped, collapsed
    ``<details>`` shown as one line (open ones unfolded), ``<sub>`` as plain text."""
    def details(match: re.Match[str]) -> str:
        summary = match["summary"].strip()
        if match["open"]:
            return f"\n**{summary}**\n{match['body']}\n"
        return f"\n▸ *{summary}* (collapsed; `--raw` shows it)\n"

    text = _DETAILS.sub(details, _HTML_COMMENT.sub("", body))
    return re.sub(r"</?sub>", "", text).strip()


def show_pull_detail(repo: str, detail: PullDetail, *, as_json: bool,
                     raw: bool = False) -> None:
    """A PR with its statuses and comments; comments rendered as markdown for the
    terminal (tables fitted to its width), or as their raw markdown with ``raw``."""
    if as_json:
        _json(detail.to_json())
        return
    from rich.markdown import Markdown
    from rich.markup import escape
    from rich.panel import Panel

    pull = detail.pull
    out = out_console()
    out.print(f"[bold]{escape(repo)}#{pull.number}[/] {escape(pull.title)} "
              f"[dim]({pull.state}; {escape(pull.head)} -> {escape(pull.base)} @ "
              f"{pull.head_sha[:12]}; by {escape(pull.author)})[/]")
    if pull.labels:
        out.print("labels: " + escape(", ".join(pull.labels)))
    for status in detail.statuses:
        out.print(f"status {escape(status.context)}: {status.state} - "
                  f"{escape(status.description)}")
    for comment in detail.comments:
        if raw:  # the markdown as posted, unwrapped, so it can be copied or piped
            out.print(f"--- comment {comment.id} by {comment.author}", markup=False)
            out.print(comment.body.rstrip(), markup=False, highlight=False, soft_wrap=True)
            continue
        # Not soft-wrapped like the rest of stdout: the panel's paragraphs wrap inside it.
        out.print(Panel(Markdown(comment_for_terminal(comment.body)),
                        title=f"comment {comment.id} by {escape(comment.author)}",
                        title_align="left"), soft_wrap=False)


def show_data_update(update: DataUpdate) -> None:
    out = out_console()
    for change in update.changes:
        before, after = change.before, change.after
        out.print(f"{before.path}: md5 {(before.md5 or '?')[:12]} -> {(after.md5 or '?')[:12]}"
                  f" (source {before.source})", markup=False)
    if update.pull is None:
        out.print(f"No pull request: {update.reason}.", markup=False)
    elif update.reused:
        out.print(f"Pull request #{update.pull.number} already proposes this data: "
                  f"{update.pull.title}", markup=False)
    else:
        show_pull_opened(update.pull)


def show_fsck(findings: Sequence[Finding], *, repair: bool, as_json: bool) -> None:
    """`forge fsck`: one line a problem (and what was or would be done), or all clear."""
    if as_json:
        _json([f.__dict__ for f in findings])
        return
    console = out_console()
    if not findings:
        console.print("local forge records: all consistent", markup=False)
        return
    for finding in findings:
        done = finding.repair if repair else f"--repair: {finding.repair}"
        console.print(f"{finding.path}: {finding.problem} ({done})", markup=False, soft_wrap=True)
    if not repair:
        console.print(f"{len(findings)} problem(s); run `jx-mlops forge fsck --repair`",
                      markup=False)


_INIT_VERBS = {"create": "create", "overwrite": "overwrite", "unchanged": "unchanged",
               "kept": "kept (differs; --force overwrites)"}


def show_init(result: InitResult, *, as_json: bool) -> None:
    """What `jx-mlops init` found (models, metric directions) and wrote."""
    if as_json:
        _json({"root": str(result.root), "dry_run": result.dry_run,
               "models": [{"name": m.name, "path": m.path, "source": m.source}
                          for m in result.models],
               "metrics": [{"metric": g.key, "direction": g.direction}
                           for g in result.metrics],
               "files": [{"path": f.path, "action": f.action} for f in result.files],
               "notes": list(result.notes)})
        return
    console = out_console()
    for model in result.models:
        console.print(f"model {model.name}: {model.path} ({model.source})")
    directed = sum(1 for g in result.metrics if g.direction)
    console.print(f"metrics: {len(result.metrics)}, {directed} with a direction "
                  f"from the name")
    would = "would " if result.dry_run else ""
    for planned in result.files:
        if planned.action != "unchanged":
            console.print(f"{would}{_INIT_VERBS[planned.action]}: {planned.path}")
    unchanged = sum(1 for f in result.files if f.action == "unchanged")
    if unchanged:
        console.print(f"{unchanged} file(s) already as init writes them")
    for note in result.notes:
        console.print(f"note: {note}")
