"""How registry and promotion commands show versions, stages, history, lineage and audits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jx_mlops.console import out_console
from jx_mlops.oci import by_digest
from jx_mlops.views.common import print_json, print_table
from jx_mlops.views.table import Column

if TYPE_CHECKING:
    from jx_mlops.ci.release import ReleaseResult
    from jx_mlops.environments.history import HistoryEvent
    from jx_mlops.environments.records import Hold
    from jx_mlops.promote.audit import AuditReport
    from jx_mlops.promote.lineage import Lineage
    from jx_mlops.promote.promotion import PromotionResult
    from jx_mlops.promote.status import StatusEntry
    from jx_mlops.registry.registration import Registration
    from jx_mlops.registry.tags import ModelVersion


def _registration_json(reg: Registration) -> dict[str, Any]:
    v = reg.version
    return {"model": v.model, "version": v.version, "tag": v.tag, "commit": v.commit,
            "created": reg.created,
            "unchanged_since": reg.unchanged_since.version if reg.unchanged_since else None,
            "oci": _oci(reg)}


def _oci(reg: Registration) -> dict[str, Any] | None:
    """Where the version was pushed as an OCI artifact (mlops.yaml registry.oci)."""
    found = (reg.version.metadata.get("artifact") or {}).get("oci")
    return {"reference": found.get("reference"), "digest": found.get("digest")} \
        if isinstance(found, dict) else None


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
        print_json(_registration_json(reg))
        return
    v = reg.version
    if reg.unchanged_since is not None:
        text = f"{v.model}: model unchanged since {v.version}; nothing registered"
    elif reg.created:
        text = f"registered {v.tag} at {v.commit[:12]}"
        oci = _oci(reg)
        if oci is not None:
            text += f"\npushed to {by_digest(str(oci['reference']), str(oci['digest']))}"
    else:
        text = f"{v.tag} already registered at {v.commit[:12]}"
    out_console().print(text, markup=False)


def show_promotion(result: PromotionResult, *, as_json: bool) -> None:
    if as_json:
        print_json(_promotion_json(result))
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
        print_json({"commit": result.commit,
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
        print_json([e.to_json() for e in entries])
        return
    def version(entry: StatusEntry) -> str:
        if entry.version is None:
            return "—"
        if entry.canary_percent is not None:
            return (f"{entry.version} at {entry.canary_percent}% (canary), "
                    f"{entry.stable_version} stable")
        marks = [m for m in ("" if entry.state in (None, "serving") else entry.state,
                             "held" if entry.held else "") if m]
        return f"{entry.version} ({', '.join(marks)})" if marks else entry.version

    rows = [(e.model, e.environment, version(e),
             (e.since or "").replace("T", " ")[:16], e.by or "",
             f"#{e.pull_request}" if e.pull_request else "",
             f"#{e.source_pull}" if e.source_pull else "") for e in entries]
    print_table("Deployments", ("Model", "Env", "Version", "Since (UTC)", Column("By", "cut"),
                                "PR", "From"), rows,
                caption="PR: the promotion's pull request in the environment repository; "
                        "From: the project pull request the version was merged from")
    for hold in (h for e in entries for h in e.holds):
        out_console().print(hold_line(hold), markup=False)
    frozen = {e.environment: e.frozen for e in entries if e.frozen}
    for environment, freeze in frozen.items():
        out_console().print(f"{environment} is {freeze}", markup=False)


def hold_line(hold: Hold) -> str:
    """One held version, as `status` and `hold list` show it."""
    return (f"held: {hold.model} {hold.version} in {hold.environment} since "
            f"{hold.at.replace('T', ' ')[:16]} by {hold.by}: {hold.reason}")


def show_holds(holds: Sequence[Hold], *, as_json: bool) -> None:
    """`hold list`: every held version, or a line saying there is none."""
    if as_json:
        from dataclasses import asdict

        print_json([asdict(h) for h in holds])
        return
    out = out_console()
    for hold in holds:
        out.print(hold_line(hold), markup=False)
    if not holds:
        out.print("no version is on hold", markup=False)


def show_gto_stages(entries: Sequence[StatusEntry], *, as_json: bool) -> None:
    """``status`` of a project without environments: the stages GTO's tags show."""
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    rows = [(e.environment, e.model, e.version or "", (e.source_commit or "")[:7])
            for e in entries]
    print_table("GTO stages", ("Stage", "Model", "Version", "Commit"), rows,
                caption="No environments in mlops.yaml: the stages GTO's tags assign "
                        "(as gto show lists them)")


def show_versions(versions: Sequence[ModelVersion], *, as_json: bool) -> None:
    from datetime import datetime, timezone

    if as_json:
        print_json([{"model": v.model, "version": v.version, "commit": v.commit,
                "stages": list(v.stages), "tag": v.tag, "registered": v.registered,
                "registered_at": v.registered_at, "registered_by": v.registered_by}
               for v in versions])
        return
    # GTO's mark for what no registration tag names: "*"; the sha in full is in --json.
    rows = [(v.model, v.version if v.registered else f"*{v.version[:7]}",
             ", ".join(v.stages), v.commit[:7],
             datetime.fromtimestamp(v.registered_at, timezone.utc).strftime("%Y-%m-%d %H:%M"),
             v.registered_by.split(" <")[0]) for v in versions]
    print_table("Registered versions", ("Model", "Version", Column("Stages", "wrap"), "Commit",
                                        "Registered (UTC)", Column("By", "cut")), rows)


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
    print_table(f"History of {model}", ("When (UTC)", "Env", "Action", "Version", "Replaced",
                                        Column("By", "cut"), "PR", Column("Notes", "detail")),
                rows)


def show_lineage(lineage: Lineage, *, as_json: bool) -> None:
    if as_json:
        print_json(lineage.to_json())
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
    oci, bom = artifact.get("oci") or {}, data.get("bom") or {}
    lines[4:4] = ([f"  oci       {by_digest(str(oci['reference']), str(oci['digest']))}"]
                  if oci.get("digest") else []) + \
        ([f"  ml-bom    {bom['uri']}" + (" (signed)" if bom.get("signature") else "")]
         if bom.get("uri") else [])
    out = out_console()
    for line in lines:
        out.print(line, markup=False)


def show_audit(report: AuditReport, *, as_json: bool) -> None:
    if as_json:
        print_json(report.to_json())
        return
    out = out_console()
    # Environment repositories shared by several projects: say whose each record is.
    projects = sorted({c[3] for c in report.checked})
    shared = len(projects) > 1
    for finding in report.findings:
        whose = f" ({finding.project})" if shared else ""
        out.print(f"✗ {finding.environment}/{finding.model}{whose}: {finding.problem}",
                  markup=False)
    counts = ", ".join(f"{sum(c[3] == p for c in report.checked)} of {p}" for p in projects)
    if report.ok:
        out.print(f"audit: {len(report.checked)} deployment records "
                  f"{f'({counts}) ' if shared else ''}match the registry and their sources",
                  markup=False)
    else:
        from jx_mlops.promote.audit import summarize

        out.print(f"audit: {summarize(report.findings)} ({len(report.checked)} records "
                  "checked)", markup=False)
