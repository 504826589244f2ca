"""The body of a promotion pull request (pure): the version compared with what runs in the
environment now, by the same report engine as the PR evaluation comment, then the gates.

Metrics and params come from the registry metadata (tag messages) and the deployment
record, so no checkout of either version is needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jx_mlops.compare.comparison import Comparison, ModelComparison, Revision, decide
from jx_mlops.compare.metrics import compare_metrics, compare_params
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.config.project import ModelConfig
from jx_mlops.environments.records import DeploymentRecord
from jx_mlops.forge.base import PullRequest
from jx_mlops.promote.gates import GateResult
from jx_mlops.report.markdown import render_comment
from jx_mlops.report.mdtext import code, escape

_ICONS = {"pass": "✅", "fail": "❌", "pending": "⏳"}
BODY_MARKER = "promotion"
# The evaluation comment's footer, which a PR body has no use for.
_COMMENT_FOOTER = "<sub>Posted by jx-mlops; re-runs update this comment in place.</sub>\n"
# Who asked for the change. On GitHub the PR's author is the account jx-mlops posts as
# (github-actions[bot]), not the person: the approvals gate reads the requester here.
REQUESTER_MARKER = "<!-- jx-mlops:requested-by {login} -->"
_REQUESTER = re.compile(r"^<!-- jx-mlops:requested-by (\S+) -->$", re.MULTILINE)


def requester_of(pull: PullRequest, poster: str) -> str:
    """Who requested the promotion ``pull`` is: the login its body records when an account
    no person signs in as opened it (this forge's poster, or a GitHub App's ``NAME[bot]``:
    a person's own PR body says what its author wants), else the PR's author."""
    by_bot = pull.author == poster or pull.author.endswith("[bot]")
    found = _REQUESTER.search(pull.body) if by_bot else None
    return found.group(1) if found else pull.author


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a version's label, commit, metrics and params."""

    label: str
    commit: str | None
    metrics: Mapping[str, Mapping[str, Any]]
    params: Mapping[str, Mapping[str, Any]] | None = None


def compare_versions(model: str, config: ModelConfig | None, base: Side | None,
                     head: Side) -> Comparison:
    """Compare ``head`` with ``base`` (None: nothing deployed) under the model's policies."""
    def policy(path: str, key: str) -> MetricPolicy:
        return config.policy_for(path, key) if config else MetricPolicy()

    metrics = []
    files = list(dict.fromkeys([*(base.metrics if base else {}), *head.metrics]))
    for path in files:
        metrics += compare_metrics(path, base.metrics.get(path) if base else None,
                                   head.metrics.get(path), policy)
    params = []
    if base is not None and base.params is not None and head.params is not None:
        for path in dict.fromkeys([*base.params, *head.params]):
            params += compare_params(path, base.params.get(path), head.params.get(path))
    models = (ModelComparison(model=model, metrics=tuple(metrics), params=tuple(params)),)
    base_rev = Revision(base.label, base.commit) if base else Revision("nothing", None)
    return Comparison(base=base_rev, head=Revision(head.label, head.commit), models=models,
                      verdict=decide(models))


def _gate_lines(gates: Sequence[GateResult], forced: bool) -> list[str]:
    if not gates:
        return ["No gates apply to this change."]
    lines = [f"- {_ICONS[g.status]} **{escape(g.gate)}**: {escape(g.detail)}" for g in gates]
    if forced and any(g.status != "pass" for g in gates):
        lines.append("- ⚠️ **forced** past the gates that did not pass (`--force`); recorded "
                     "in the deployment record and the history")
    return lines


def _now_running(current: DeploymentRecord | None) -> str:
    if current is None:
        return "nothing runs there yet"
    if not current.serving:
        return f"{code(current.version)} is there, {escape(current.state)}"
    return f"{code(current.version)} runs there now"


def render_body(record: DeploymentRecord, current: DeploymentRecord | None,
                comparison: Comparison | None, gates: Sequence[GateResult], *, forced: bool,
                files: Sequence[str]) -> str:
    """The promotion PR body."""
    verb = {"promote": "Promotes", "rollback": "Rolls back", "disable": "Disables"}[record.action]
    now = _now_running(current)
    # Model and environment names are DNS labels (mlops.yaml checks): nothing to escape.
    lines = [f"{verb} **{record.model}** "
             + ("" if record.action == "disable" else f"to {code(record.version)} ")
             + f"in **{record.environment}** ({now}).", ""]
    if record.reason:
        lines += [f"Reason: {escape(record.reason)}", ""]
    if comparison is not None:
        text = render_comment(comparison, report_id=BODY_MARKER,
                              title=f"{record.version} compared with the deployed version")
        text = text.replace(_COMMENT_FOOTER, "")
        if current is None:
            text = text.replace(f"Base {code('nothing')} @ {code('workspace')} → ",
                                "Nothing deployed yet → ")
        lines += [text.rstrip("\n"), ""]
    lines += ["### Gates", "", *_gate_lines(gates, forced), ""]
    lines += ["### Deployment", "",
              f"- source: {code(record.source_repo)} @ {code(record.source_commit)} "
              f"(tag {code(record.tag)})",
              f"- artifact: {code(record.artifact_path)} md5 {code(record.artifact_md5 or '?')}",
              f"- files: {', '.join(code(f) for f in files)}", ""]
    lines += [f"Requested by {code(record.promoted_by)}.", "",
              REQUESTER_MARKER.format(login=re.sub(r"\s", "", record.promoted_by)), ""]
    if any(g.gate == "approvals" for g in gates):
        command = code(f"jx-mlops approve {record.model} --env {record.environment}")
        lines += ["<sub>To approve: a user with write permission on this repository, other "
                  f"than the requester, comments {code('/approve')} (or runs {command}); the "
                  "promotion merges once the gates pass.</sub>"]
    return "\n".join(lines).rstrip("\n") + "\n"
