"""`jx-mlops techfile MODEL@VERSION`: the technical documentation of a version, under the
headings of Annex IV of the EU AI Act (Regulation (EU) 2024/1689), filled from the
repository's facts and saying "not recorded" where it has none.

Annex IV has nine sections; points 1 and 2 have lettered sub-points (1(a)-(h), 2(a)-(h)),
23 headings in all. Six of them are never facts of a model repository: the hardware a
system runs on (1(e)), product markings (1(f)), the deployer's user interface (1(g)),
instructions for use (1(h)), the harmonised standards applied (7) and the EU declaration
of conformity (8). They are listed, marked "kept outside the repository", and left out of
the count: "headings filled" is the share of the other 17 (the repository's headings)
that at least one recorded fact fills. The document states this denominator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jx_mlops.config.project import ProjectConfig
from jx_mlops.promote.bom import DATA_CARD, Dependency

NOT_RECORDED = "not recorded"
OUTSIDE = "kept outside the repository (not a repository fact; not counted)"


@dataclass(frozen=True)
class Heading:
    """One Annex IV heading: its facts (empty: not recorded)."""

    key: str
    title: str
    facts: tuple[str, ...]
    counted: bool = True

    @property
    def filled(self) -> bool:
        return bool(self.facts)


@dataclass(frozen=True)
class TechFacts:
    """What the technical file is written from."""

    lineage: Mapping[str, Any]
    config: ProjectConfig | None
    versions: Sequence[str] = ()  # every registered version of the model, oldest first
    since: Mapping[str, Any] | None = None  # the lineage of the --since version
    dependencies: Sequence[Dependency] = ()
    stages: Mapping[str, str] = field(default_factory=dict)  # dvc.yaml stage -> cmd
    data_card: Mapping[str, Any] = field(default_factory=dict)  # reports/data_card.json


def _model(facts: TechFacts) -> Any:
    if facts.config is None:
        return None
    name = str(facts.lineage["model"]).rsplit(":", 1)[-1]
    return next((m for m in facts.config.models if m.name == name), None)


def _envs(facts: TechFacts) -> tuple[Any, ...]:
    return facts.config.environments if facts.config else ()


def _metrics(lin: Mapping[str, Any]) -> list[str]:
    return [f"{path}: {k} = {v}" for path, values in sorted((lin.get("metrics") or {}).items())
            for k, v in sorted(values.items())]


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = [f"Changes since {old['version']} (commit {str(old['commit'])[:12]}):"]
    old_data = {d["path"]: d.get("md5") for d in old.get("data") or []}
    for d in new.get("data") or []:
        if old_data.get(d["path"]) != d.get("md5"):
            out.append(f"data {d['path']}: md5 {old_data.get(d['path'], 'absent')} -> "
                       f"{d.get('md5')}")
    for key, label in (("params", "param"), ("metrics", "metric")):
        before = {(p, k): v for p, vs in (old.get(key) or {}).items() for k, v in vs.items()}
        after = {(p, k): v for p, vs in (new.get(key) or {}).items() for k, v in vs.items()}
        out += [f"{label} {p}: {k} {before.get((p, k), 'absent')} -> {after.get((p, k), 'absent')}"
                for p, k in sorted(set(before) | set(after))
                if before.get((p, k)) != after.get((p, k))]
    a, b = (old.get("artifact") or {}).get("md5"), (new.get("artifact") or {}).get("md5")
    if a != b:
        out.append(f"model file md5 {a} -> {b}")
    return out if len(out) > 1 else [*out, "no recorded fact changed"]


def _data_card(card: Mapping[str, Any]) -> list[str]:
    found = card.get("dataset")
    dataset: Mapping[str, Any] = found if isinstance(found, dict) else {}
    out = [f"Data card ({DATA_CARD}) {k}: {dataset[k]}"
           for k in ("name", "description", "source", "licence", "license") if dataset.get(k)]
    out += [f"Data card {k}: {card[k]}" for k in ("task", "target", "sensitive_attribute",
                                                  "sensitive_attribute_used_as_feature")
            if k in card and not isinstance(card[k], (dict, list))]
    return out


def decisions(lin: Mapping[str, Any]) -> list[str]:
    """The people's decisions about this version: each promotion that put it where it
    runs (who, when, its pull request, who approved it, a forced gate) and its holds."""
    out = []
    for d in lin.get("deployments") or []:
        if d.get("action") == "gto stage":
            continue
        approved = d.get("approved_by") or ()
        out.append(f"{d['environment']}: {d.get('action')} of {lin['version']} by "
                   f"{d.get('by')} at {d.get('since')}"
                   + (f" through pull request #{d['pull_request']}"
                      if d.get("pull_request") else "")
                   + (f", approved by {', '.join(approved)}" if approved
                      else ", no approval recorded")
                   + (", forced past a gate" if d.get("forced") else ""))
        out += [f"{d['environment']}: {lin['version']} on hold since {h.get('at')} by "
                f"{h.get('by')}: {h.get('reason')}" for h in d.get("holds") or ()
                if h.get("version") == lin["version"]]
    return out or [f"{lin['version']} runs in no environment: no promotion decision "
                   "recorded yet"]


def headings(facts: TechFacts) -> list[Heading]:
    """The 23 headings of Annex IV with the facts the repository holds for each."""
    lin, model, envs = facts.lineage, _model(facts), _envs(facts)
    art, sig = lin.get("artifact") or {}, lin.get("signature") or {}
    earlier = [v for v in facts.versions if v != lin["version"]]
    a = [f"Intended purpose: {model.intended_use}"] if model and model.intended_use else []
    if a:
        a += [f"Provider: {lin.get('source_repo') or NOT_RECORDED}; version {lin['version']}"
              f" ({lin['tag']}, commit {lin['commit']})",
              "Earlier versions: " + (", ".join(earlier) if earlier else "none")]
    serving = [f"{e.name}: {e.layout} layout, {e.strategy} promotion"
               + (f", namespace {e.namespace}" if e.namespace else "") for e in envs]
    deps = [f"{d.name} {d.version or d.specifier or '(any version)'} ({d.source})"
            for d in facts.dependencies]
    forms = [f"Serving copy {art['serving_uri']} (sha256 {art.get('sha256')})"] \
        if art.get("serving_uri") else []
    design = [f"Model: {model.description}"] if model and model.description else []
    design += [f"{p}: {k} = {v}" for p, vs in sorted((lin.get("params") or {}).items())
               for k, v in sorted(vs.items())]
    policy = [f"{k}: {p.direction or 'no direction'}"
              + (f", min {p.min}" if p.min is not None else "")
              + (f", max {p.max}" if p.max is not None else "")
              + (f", tolerance {p.tolerance}" if p.tolerance else "")
              for k, p in sorted((model.policy if model else {}).items())]
    data = [f"{d['path']}: DVC md5 {d.get('md5')}, {d.get('size')} bytes"
            + (f", {d['nfiles']} files" if d.get("nfiles") else "") for d in lin.get("data") or []]
    data += _data_card(facts.data_card)
    oversight = [f"{e.name}: {e.strategy} promotion"
                 + (f", {e.approvals or 1} approval(s) by a writer other than the author"
                    if e.strategy == "manual" else "")
                 + (f" from {', '.join(e.approvers)}" if e.approvers else "")
                 + (f"; requires {e.requires} first" if e.requires else "") for e in envs]
    oversight += decisions(lin) if envs else []
    if oversight:
        oversight.append("Holds, rollbacks and disables are recorded per environment "
                         "(`jx-mlops history`); `--force` past a gate is recorded.")
    gates = [f"{e.name}: fairness |{f.metric}| <= {f.limit}" for e in envs for f in e.fairness]
    gates += [f"{e.name}: {g.metric}" + (f" >= {g.min}" if g.min is not None else "")
              + (f" <= {g.max}" if g.max is not None else "") for e in envs
              for g in e.metric_gates]
    changes = _changes(facts.since, lin) if facts.since else []
    testing = [*_metrics(lin)]
    if testing:
        trusted = facts.config.evaluation.trusted if facts.config else None
        testing += [f"Evaluation stage trusted for pull requests: {trusted}"] if trusted else []
        testing += [f"CI run: {lin['run_url']}"] if lin.get("run_url") else []
        testing += [f"dvc.lock sha256 {lin['dvc_lock_sha256']}"] \
            if lin.get("dvc_lock_sha256") else []
    security = [f"Signed ({sig['method']}), bundle {sig.get('bundle')} sha256 "
                f"{sig.get('sha256')}; status at writing: {sig.get('status')}"] \
        if sig.get("method") else []
    security += [f"Model file pinned by sha256 {art['sha256']}"] if art.get("sha256") else []
    monitoring = [f"{e.name}: checked against "
                  f"{e.verify.prometheus or 'the Prometheus JX_MLOPS_PROMETHEUS_URL names'} within "
                  f"{e.verify.within} s after each promotion ("
                  + ", ".join(c.name for c in e.verify.checks)
                  + f"); on failure: {e.verify.on_failure}" for e in envs if e.verify]
    stages = [f"stage {name}: {cmd}" for name, cmd in facts.stages.items()]
    history = [f"Registered versions: {', '.join(facts.versions)}"] if facts.versions else []
    return [
        Heading("1(a)", "Intended purpose, provider, version", tuple(a)),
        Heading("1(b)", "Interaction with other hardware, software and AI systems",
                tuple(serving)),
        Heading("1(c)", "Versions of relevant software and update requirements", tuple(deps)),
        Heading("1(d)", "Forms in which the system is placed on the market", tuple(forms)),
        Heading("1(e)", "Hardware on which it is intended to run", (), counted=False),
        Heading("1(f)", "Markings and internal layout of products", (), counted=False),
        Heading("1(g)", "User interface provided to the deployer", (), counted=False),
        Heading("1(h)", "Instructions for use", (), counted=False),
        Heading("2(a)", "Development methods and steps", tuple(stages)),
        Heading("2(b)", "Design specifications, key choices, what is optimised",
                tuple(design + policy)),
        Heading("2(c)", "System architecture and computational resources",
                tuple([f"Model file {art['path']} ({art.get('size')} bytes); compute used "
                       f"for training: {NOT_RECORDED}"] if art.get("path") else [])),
        Heading("2(d)", "Data requirements, datasheets, provenance", tuple(data)),
        Heading("2(e)", "Human oversight measures (Art. 14)", tuple(oversight)),
        Heading("2(f)", "Pre-determined changes and continued compliance",
                tuple(changes + [f"Every new version passes: {g}" for g in gates])),
        Heading("2(g)", "Validation and testing procedures, metrics, test logs",
                tuple(testing)),
        Heading("2(h)", "Cybersecurity measures", tuple(security)),
        Heading("3", "Monitoring, functioning and control: capabilities, limitations, "
                "accuracy per group", tuple((a[:1] + [m for m in _metrics(lin)
                                                      if "by_group." in m or "parity" in m
                                                      or "odds" in m]) if testing else [])),
        Heading("4", "Appropriateness of the performance metrics", tuple(policy)),
        Heading("5", "Risk management system (Art. 9)", tuple(gates + oversight[:0] + (
            ["Rollback to the previous version through a pull request (`jx-mlops "
             "rollback`)"] if envs else []))),
        Heading("6", "Changes made through the lifecycle", tuple(history + changes)),
        Heading("7", "Harmonised standards applied", (), counted=False),
        Heading("8", "EU declaration of conformity", (), counted=False),
        Heading("9", "Post-market performance evaluation and monitoring plan",
                tuple(monitoring)),
    ]


def score(items: Sequence[Heading]) -> tuple[int, int]:
    """(headings filled, headings counted): the denominator excludes the six headings a
    repository never holds (see the module's docstring)."""
    counted = [h for h in items if h.counted]
    return sum(h.filled for h in counted), len(counted)


def to_json(facts: TechFacts) -> dict[str, Any]:
    """`techfile --json`: each heading with its facts, and the count with its denominator."""
    items = headings(facts)
    filled, total = score(items)
    return {"model": facts.lineage["model"], "version": facts.lineage["version"],
            "tag": facts.lineage["tag"], "filled": filled, "counted": total,
            "headings": [{"key": h.key, "title": h.title, "counted": h.counted,
                          "filled": h.filled, "facts": list(h.facts)} for h in items]}


def render(facts: TechFacts) -> str:
    """The technical file as markdown."""
    items = headings(facts)
    filled, total = score(items)
    lin = facts.lineage
    lines = [f"# Technical documentation: {lin['model']} {lin['version']}", "",
             "Following Annex IV of Regulation (EU) 2024/1689 (23 headings: sections 1-9, "
             "with the lettered points of 1 and 2), written by `jx-mlops techfile` from the "
             f"registration tag {lin['tag']} and the repository at commit {lin['commit']}.",
             "",
             f"**Headings filled from repository facts: {filled} of {total} "
             f"({100 * filled // max(total, 1)}%).** The denominator is the 23 headings less "
             "the six no repository holds (1(e) hardware, 1(f) markings, 1(g) user "
             "interface, 1(h) instructions for use, 7 standards, 8 declaration of "
             "conformity), which the provider keeps by hand. A heading counts as filled "
             "when at least one recorded fact answers it; where a part of it has no fact, "
             f"the text says {NOT_RECORDED!r}.", ""]
    for h in items:
        lines += [f"## {h.key} {h.title}", ""]
        if not h.counted:
            lines.append(f"_{OUTSIDE}_")
        elif not h.facts:
            lines.append(f"_{NOT_RECORDED}_")
        else:
            lines += [f"- {f}" for f in h.facts]
        lines.append("")
    return "\n".join(lines)


def techfile_facts(start: Path, reference: str, since: str | None) -> TechFacts:
    """The facts of ``MODEL@VERSION`` (and of ``since``) from the directory ``start``."""
    from jx_mlops.config.project import CONFIG_FILE, find_project_root, load_config
    from jx_mlops.errors import UsageError
    from jx_mlops.git.repo import GitRepo
    from jx_mlops.promote.bom import bom_facts
    from jx_mlops.promote.lineage import lineage_of
    from jx_mlops.registry.tags import list_versions
    from jx_mlops.yamlio import json_loads, safe_load

    bom = bom_facts(start, reference)
    lin = bom.lineage
    if since is not None and since == lin["version"]:
        raise UsageError(f"--since {since}: the version itself; give an earlier version")
    old = lineage_of(start, f"{lin['model']}@{since}").to_json() if since else None
    root = find_project_root(start)
    config = load_config(root) if (root / CONFIG_FILE).is_file() else None
    repo = GitRepo.open(root)
    try:
        versions = [v.version for v in list_versions(repo, lin["model"])]
        prefix = (lin.get("project_path") or "").strip("/")
        raw = repo.read_blob(lin["commit"], f"{prefix}/dvc.yaml" if prefix else "dvc.yaml")
        card_raw = repo.read_blob(lin["commit"],
                                  f"{prefix}/{DATA_CARD}" if prefix else DATA_CARD)
    finally:
        repo.close()
    card = json_loads(card_raw) if card_raw else {}
    stages: dict[str, str] = {}
    pipeline = safe_load(raw.decode("utf-8", "replace")) if raw else None
    if isinstance(pipeline, dict) and isinstance(pipeline.get("stages"), dict):
        for name, stage in pipeline["stages"].items():
            cmd = stage.get("cmd") if isinstance(stage, dict) else None
            stages[str(name)] = " && ".join(map(str, cmd)) if isinstance(cmd, list) \
                else str(cmd)
    return TechFacts(lin, config, versions, old, bom.dependencies, stages,
                     card if isinstance(card, dict) else {})
