"""A fork's pull request on a project with a sealed holdout: its job (no secrets) carries
the ONNX export in the artifact, and `ci publish` (the trusted job, on a checkout of main)
scores it with onnxruntime, whatever the artifact claims, unpickling nothing."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from pathlib import Path

import pytest
from kit.github import TOKEN, GitHubProject, retrain_on_github
from kit.github_events import (
    READ_ONLY,
    actions_env,
    pull_request_event,
    use_env,
    workflow_run_event,
)
from kit.holdout import seal_holdout

from jx_mlops.dvc.lockfile import parse_lock
from jx_mlops.dvc.storage import default_remote_url
from jx_mlops.forge.github.credentials import git_auth_env

pytestmark = pytest.mark.slow

ONNX_NOTE = ("scored by the trusted job from the PR's ONNX export with onnxruntime; no file "
             "from the PR was unpickled")


class _Marker:
    """Unpickling this writes the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path, str]]:
        return (Path.write_text, (Path(self.path), "unpickled"))


def _constant_onnx() -> bytes:
    """A valid ONNX classifier that says 0.3 for everyone: what a fork could upload."""
    from onnx import TensorProto, helper

    zeros = helper.make_node("Mul", ["sum", "zero"], ["nothing"])
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["X", "axes"], ["sum"], keepdims=1), zeros,
         helper.make_node("Add", ["nothing", "base"], ["probability"])],
        "constant", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 7])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
         helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
         helper.make_tensor("base", TensorProto.FLOAT, [], [0.3])])
    return bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
                 .SerializeToString())


def _forge_claims(report: Path) -> None:
    """What a fork can write into its artifact: every metric as good as the base, a pass,
    and a holdout row of its own."""
    data = json.loads(report.read_text())
    comparison = data["comparison"]
    for row in comparison["metrics"]:
        row.update(head=row["base"], head_kind=row["base_kind"], delta=0, rel_delta=0,
                   status="unchanged")
    forged = dict(comparison["metrics"][0], path="data/holdout.csv (holdout)",
                  name="accuracy", head=1.0, base=0.5, status="improved")
    comparison["metrics"].append(forged)
    comparison.update(verdict="pass", summary="pass: everything unchanged",
                      counts={"unchanged": len(comparison["metrics"])})
    for model in comparison["models"]:
        model["head_problems"] = []
    report.write_text(json.dumps(data))


def _plain(markdown: str) -> str:
    return markdown.replace("\\", "").replace("&#39;", "'")


def statuses_line(gp: GitHubProject, sha: str) -> str:
    return gp.forge().get_statuses(gp.repo, sha)[-1].description or ""


def test_fork_is_scored_on_the_sealed_holdout_from_its_onnx_export(
        github_project: GitHubProject, cli, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    gp, server = github_project, github_project.server
    seal_holdout(gp.path)
    subprocess.run(["git", "-C", str(gp.path), "push", "-q", "origin", "main"], check=True,
                   env={**os.environ, **git_auth_env(server.url, TOKEN)})
    pull = retrain_on_github(gp, cli, monkeypatch, "train.n_estimators=60")
    head_sha = gp.forge().get_pull(gp.repo, 1).head_sha

    # The fork's job: no secrets, no holdout; the ONNX export goes into the artifact.
    server.add_user("fork-runner", READ_ONLY, permissions={"metadata=read", "contents=read",
                                                           "pull_requests=read"})
    server.set_permission(gp.repo, "fork-runner", "read")
    work = gp.clone(tmp_path / "checkout", branch=pull["head"], depth=1)
    use_env(monkeypatch, actions_env(tmp_path, server, "pull_request",
                                     pull_request_event(server, gp.repo, 1), gp.repo,
                                     head_sha, token=READ_ONLY))
    artifact = tmp_path / "artifact"
    result = cli("-C", work, "ci", "pr", "--output", artifact, "--json")
    assert result.code == 0, result.err
    exported = artifact / "onnx" / "churn.onnx"
    assert exported.read_bytes() == (work / "models" / "model.onnx").read_bytes()
    assert "(holdout)" not in (artifact / "comment.md").read_text()

    # The trusted job, on a checkout of main: the holdout rows come from its own scoring.
    publisher = gp.clone(tmp_path / "publisher")
    run_event = workflow_run_event(gp.repo, 99, head_sha, pull["head"], "someone/churn")
    use_env(monkeypatch, actions_env(tmp_path, server, "workflow_run", run_event, gp.repo,
                                     "0" * 40, token=TOKEN))
    result = cli("-C", publisher, "ci", "publish", artifact, "--json")
    assert result.code == 0, result.err
    body = gp.forge().list_comments(gp.repo, 1)[0].body
    assert "| data/holdout.csv \\(holdout\\): roc\\_auc | 0." in body
    assert ONNX_NOTE in _plain(body)

    # A fork that uploads a useless model and claims it is as good as main's: the verdict
    # is the holdout's. Its model.pkl, here a pickle that would leave a marker, is never
    # loaded: neither the artifact's copy nor the one in the DVC remote.
    marker = tmp_path / "unpickled"
    evil = pickle.dumps(_Marker(str(marker)))
    exported.write_bytes(_constant_onnx())
    (artifact / "model.pkl").write_bytes(evil)
    lock = parse_lock((work / "dvc.lock").read_text())
    found = lock.containing("models/model.pkl")
    assert found is not None and found[0].md5
    url = default_remote_url(work)
    assert url is not None
    stored = Path(url) / "files" / "md5" / found[0].md5[:2] / found[0].md5[2:]
    stored.parent.mkdir(parents=True, exist_ok=True)
    if stored.exists():
        stored.chmod(0o644)
    stored.write_bytes(evil)
    _forge_claims(artifact / "jx-mlops-report.json")
    result = cli("-C", publisher, "ci", "publish", artifact, "--json")
    assert result.code == 0, result.err
    published = json.loads(result.out)
    body = gp.forge().list_comments(gp.repo, 1)[0].body
    assert published["verdict"] == "fail", published
    assert statuses_line(gp, head_sha).startswith(
        "fail: holdout roc_auc is 0.5 (outside min 0.75); holdout accuracy regressed")
    # The fork's own holdout row (1.0, improved) is dropped: only the trusted one is shown.
    rows = [line for line in body.splitlines()
            if line.startswith("| data/holdout.csv \\(holdout\\): accuracy |")]
    assert rows and all("| 0.4" in row and "regressed" in row for row in rows)
    assert ONNX_NOTE in _plain(body) and not marker.exists()
    assert published["status"] == "failure"
    # Only aggregates: no holdout row reaches the comment or the fork's workspace.
    first = (gp.path / "data" / "holdout.csv").read_text().splitlines()[1]
    assert first not in body and not (work / "data" / "holdout.csv").exists()

    # Attack 6 of issue 20: an artifact that reports no model at all. The model list is
    # main's mlops.yaml's, so the missing model fails (it used to pass "no metrics" while
    # the comment said the PR was scored on the sealed holdout).
    data = json.loads((artifact / "jx-mlops-report.json").read_text())
    data["comparison"].update(models=[], metrics=[], params=[], verdict="pass",
                              summary="pass: no metrics", counts={})
    (artifact / "jx-mlops-report.json").write_text(json.dumps(data))
    exported.write_bytes((work / "models" / "model.onnx").read_bytes())
    result = cli("-C", publisher, "ci", "publish", artifact, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["verdict"] == "fail"
    assert "churn: not in the report artifact, though main's mlops.yaml configures it" in \
        statuses_line(gp, head_sha)
