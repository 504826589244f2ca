"""Hostile and clumsy input: every refusal is one clean line, exit 1, and nothing changed.

One table, one row a case: the command, what is done to the project (or its forge) first,
the exit code expected, a fragment of the message, and the proof that nothing changed (git
refs and work tree of the project, every file of the local forge, the same before and
after). The readers of untrusted files are property-tested in tests/unit (test_yamlio,
test_fsutil, ci/test_event_payloads).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kit.git import git
from kit.workspace import Project

from jx_mlops.ci.fork_report import REPORT_FILE, REPORT_SCHEMA

BOMB = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9)
                  + "]\n" for i in range(9)))
DEEP_JSON = "[" * 100_000 + "]" * 100_000
BIG_INT = "1" * 5000


# -- what must not change ----------------------------------------------------------------


def state_of(project: Project) -> dict[str, str]:
    """Refs and work tree of the project, and every file of the forge, by content hash."""
    state = {"refs": git(project.path, "for-each-ref", "--format=%(refname) %(objectname)"),
             "status": git(project.path, "status", "--porcelain", "--ignored")}
    for path in sorted((project.home / "forge").rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != "lock":
            state[str(path.relative_to(project.home))] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    return state


# -- the corpus --------------------------------------------------------------------------

Setup = Callable[[Project, Path, pytest.MonkeyPatch], None]


@dataclass(frozen=True)
class Case:
    """One row: ``args`` run in the project after ``setup``; the exit code and message."""

    id: str
    args: tuple[str, ...]
    setup: Setup
    message: str
    code: int = 1
    after_setup_state: bool = True  # compare with the state after setup (not before)
    extra: dict[str, str] = field(default_factory=dict)


def write(name: str, text: str) -> Setup:
    def setup(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        (project.path / name).write_text(text)
    return setup


def symlink(name: str, target: str | Callable[[Path], Path]) -> Setup:
    def setup(project: Project, tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        path = project.path / name
        path.unlink()
        to = target(tmp) if callable(target) else Path(target)
        if not to.exists() and not str(to).startswith("/dev/"):
            to.write_text('{"accuracy": 1.0}\nsecret: hunter2\n')
        path.symlink_to(to)
    return setup


def write_bytes(name: str, data: bytes) -> Setup:
    def setup(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        (project.path / name).write_bytes(data)
    return setup


def deleted_at_head(name: str) -> Setup:
    """``name`` removed from git in a new commit (what a careless PR does)."""
    def setup(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        git(project.path, "rm", "-q", name)
        git(project.path, "commit", "-qm", f"remove {name}")
    return setup


def directory_event(project: Project, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    (tmp / "event-dir").mkdir()
    event(path=str(tmp / "event-dir"))(project, tmp, mp)


def fifo(name: str) -> Setup:
    def setup(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        path = project.path / name
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    return setup


def env(**values: str) -> Setup:
    def setup(_project: Project, _tmp: Path, mp: pytest.MonkeyPatch) -> None:
        for key, value in values.items():
            mp.setenv(key, value)
    return setup


def event(payload: str | None = None, *, path: str | None = None,
          kind: str = "pull_request") -> Setup:
    """A GitHub Actions run whose event file holds ``payload`` (or is ``path``)."""
    def setup(_project: Project, tmp: Path, mp: pytest.MonkeyPatch) -> None:
        where = Path(path) if path else tmp / "event.json"
        if payload is not None:
            where.write_text(payload)
        for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": kind,
                           "GITHUB_EVENT_PATH": str(where),
                           "GITHUB_REPOSITORY": "local/churn"}.items():
            mp.setenv(key, value)
    return setup


def fifo_event(project: Project, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    os.mkfifo(tmp / "event.fifo")
    event(path=str(tmp / "event.fifo"))(project, tmp, mp)


def artifact(doc: object | str) -> Setup:
    """A downloaded fork artifact in ``TMP/art`` holding ``doc`` as its report."""
    def setup(_project: Project, tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        (tmp / "art").mkdir(exist_ok=True)
        text = doc if isinstance(doc, str) else json.dumps(doc)
        (tmp / "art" / REPORT_FILE).write_text(text)
    return setup


def artifact_special(kind: str) -> Setup:
    def setup(_project: Project, tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        (tmp / "art").mkdir(exist_ok=True)
        if kind == "fifo":
            os.mkfifo(tmp / "art" / REPORT_FILE)
        else:
            (tmp / "art" / REPORT_FILE).symlink_to("/dev/zero")
    return setup


def report_doc(**fields: object) -> dict[str, object]:
    doc: dict[str, object] = {"schema": REPORT_SCHEMA, "pull_request": 1,
                              "head_sha": "a" * 40, "base_sha": "b" * 40, "comparison": {}}
    doc.update(fields)
    return doc


def metric_row(**fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "model": "churn", "path": "metrics.json", "name": "accuracy", "base": 0.8,
        "head": 0.9, "delta": 0.1, "rel_delta": 0.125, "status": "improved",
        "direction": "higher", "base_kind": "number", "head_kind": "number"}
    row.update(fields)
    return row


def comparison_doc(**fields: object) -> dict[str, object]:
    """A comparison as `ci pr --output` writes it, with ``fields`` replaced."""
    doc: dict[str, object] = {"verdict": "pass", "summary": "pass", "counts": {},
                              "metrics": [metric_row()], "params": [],
                              "models": [{"name": "churn", "significance": [], "trend": []}],
                              "lineage": [], "data": [],
                              "plots": [], "notes": []}
    doc.update(fields)
    return doc


def corrupt_forge_record(text: str, name: str = "state.json") -> Setup:
    def setup(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        (project.home / "forge" / "repos" / "local" / "churn.forge" / name).write_text(text)
    return setup


def registered(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
    from jx_mlops.cli.main import main

    assert main(["-q", "-C", str(project.path), "register", "churn"]) == 0


def both(*setups: Setup) -> Setup:
    def setup(project: Project, tmp: Path, mp: pytest.MonkeyPatch) -> None:
        for one in setups:
            one(project, tmp, mp)
    return setup


def truncated_pull(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
    from jx_mlops.forge.local.forge import LocalForge

    git(project.path, "push", "-q", "origin", "main:feature")
    forge = LocalForge(project.home / "forge")
    pull = forge.create_pull("local/churn", title="t", body="", head="feature", base="main")
    record = project.home / "forge/repos/local/churn.forge/pulls" / f"{pull.number}.json"
    record.write_text(record.read_text()[:40])


def reader_on(env_repo: str, *, promoted: bool = False) -> Setup:
    """A registered (and ``promoted``) version; the user has only read on ``env_repo``."""
    def setup(project: Project, _tmp: Path, mp: pytest.MonkeyPatch) -> None:
        from jx_mlops.cli.main import main
        from jx_mlops.forge.local.forge import LocalForge

        assert main(["-q", "-C", str(project.path), "register", "churn"]) == 0
        if promoted:
            assert main(["-q", "-C", str(project.path), "promote", "churn", "--version",
                         "latest", "--to", "staging"]) == 0
        LocalForge(project.home / "forge").set_permission(env_repo, "reader", "read")
        mp.setenv("JX_MLOPS_USER", "reader")
    return setup


def unmerged_branch(project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
    git(project.path, "checkout", "-q", "-b", "unreviewed")
    (project.path / "params.yaml").write_text(
        (project.path / "params.yaml").read_text() + "\n# unreviewed\n")
    git(project.path, "commit", "-qam", "unreviewed change")
    git(project.path, "push", "-q", "origin", "unreviewed")
    git(project.path, "checkout", "-q", "main")


def nothing(_project: Project, _tmp: Path, _mp: pytest.MonkeyPatch) -> None:
    return None


REPORT = ("report", "--fail-on-regression", "--trend", "0")
CASES = [
    # Expensive input: aliases, nesting and integers bounded, in every file read.
    Case("mlops-bomb", ("status",), write("mlops.yaml", BOMB), "mlops.yaml: invalid YAML"),
    Case("mlops-deep", ("status",), write("mlops.yaml", "- " * 5000 + "x"), "nested deeper"),
    Case("mlops-bigint", ("status",), write("mlops.yaml", f"version: {BIG_INT}\n"),
         "integer longer than"),
    Case("params-bomb", REPORT, write("params.yaml", BOMB), "params.yaml at workspace"),
    Case("dvc-yaml-bomb", REPORT, write("dvc.yaml", BOMB), "dvc.yaml"),
    Case("dvc-lock-bomb", REPORT, write("dvc.lock", BOMB), "dvc.lock"),
    Case("metrics-deep", REPORT, write("metrics.json", DEEP_JSON), "metrics.json at workspace"),
    Case("metrics-bigint", REPORT, write("metrics.json", f'{{"accuracy": {BIG_INT}}}'),
         "integer longer than"),
    # Exit 0 but wrong, before: duplicate keys, bad params, links out of the repository.
    Case("mlops-duplicate-key", ("status",),
         write("mlops.yaml", "forge: {repo: local/churn}\nmodels: {a: {}}\nmodels: {b: {}}\n"),
         "duplicate key 'models'"),
    Case("metrics-duplicate-key", REPORT,
         write("metrics.json", '{"accuracy": 0.1, "accuracy": 0.99}'), "duplicate key"),
    Case("params-list", REPORT, write("params.yaml", "- 1\n- 2\n"), "params.yaml at workspace"),
    Case("params-not-yaml", REPORT, write("params.yaml", "train: [\n"), "not valid YAML"),
    Case("metrics-symlink-out", REPORT, symlink("metrics.json", lambda t: t / "outside.json"),
         "outside"),
    Case("mlops-symlink-out", ("status",), symlink("mlops.yaml", lambda t: t / "outside.yaml"),
         "outside"),
    Case("mlops-dev-zero", ("status",), symlink("mlops.yaml", "/dev/zero"), "mlops.yaml"),
    Case("params-fifo", REPORT, fifo("params.yaml"), "", code=0),
    # Bytes that are not UTF-8 are named, never replaced into a key no policy matches.
    Case("metrics-latin-1-key", REPORT,
         write_bytes("metrics.json", b'{"accuracy": 0.8, "caf\xe9": 1}'),
         "metrics.json at workspace: not UTF-8 text (byte 0xe9 at offset 22"),
    # A git-kept (`cache: false`) output deleted at the head: not blamed on the DVC cache.
    Case("metrics-cache-false-deleted", ("report", "--base", "HEAD~1", "--head", "HEAD",
                                         "--fail-on-regression", "--trend", "0"),
         deleted_at_head("metrics.json"),
         "is a `cache: false` output of stage evaluate that is not in git there"),
    # Exit codes: argparse errors are bad input like any other.
    Case("trend-negative", ("report", "--trend", "-5"), nothing, "expected a whole number"),
    Case("unknown-command", ("frobnicate",), nothing, "invalid choice"),
    Case("number-not-a-number", ("forge", "pr", "show", "x"), nothing,
         "expected a whole number"),
    Case("unknown-option", ("status", "--nope"), nothing, "unrecognized arguments"),
    Case("register-huge-version", ("register", "churn", "--version", "v9999999999999999999"),
         nothing, "invalid version"),
    # CI context: Jenkins X variables and GitHub event payloads are untrusted.
    Case("pull-number-superscript", ("ci", "pr"),
         env(JOB_TYPE="presubmit", REPO_OWNER="local", REPO_NAME="churn", PULL_NUMBER="²"),
         "PULL_NUMBER"),
    Case("pull-number-arabic-indic", ("ci", "pr"),
         env(JOB_TYPE="presubmit", REPO_OWNER="local", REPO_NAME="churn", PULL_NUMBER="١٢"),
         "PULL_NUMBER"),
    Case("event-deep", ("ci", "pr"), event(DEEP_JSON), "nested deeper"),
    Case("event-bigint", ("ci", "pr"), event(f'{{"number": {BIG_INT}}}'), "integer longer"),
    Case("event-dev-zero", ("ci", "pr"), event(path="/dev/zero"), "not a regular file"),
    Case("event-fifo", ("ci", "pr"), fifo_event, "not a regular file"),
    Case("event-directory", ("ci", "pr"), directory_event,
         "event-dir: a directory: not reading it"),
    Case("event-run-id-string", ("ci", "publish", "art"),
         event('{"workflow_run": {"id": "abc", "head_sha": "x"}}', kind="workflow_run"),
         "workflow_run.id"),
    # Fork artifacts: every field checked before use.
    Case("artifact-status-list", ("ci", "publish", "art"),
         artifact(report_doc(comparison={"metrics": [{"status": []}]})), "jx-mlops-report.json"),
    Case("artifact-pr-string", ("ci", "publish", "art"),
         artifact(report_doc(pull_request="1")), "pull_request"),
    Case("artifact-sha-number", ("ci", "publish", "art"),
         artifact(report_doc(head_sha=5)), "head_sha"),
    Case("artifact-bigint", ("ci", "publish", "art"),
         artifact(f'{{"schema": "{REPORT_SCHEMA}", "pull_request": {BIG_INT}}}'),
         "integer longer"),
    Case("artifact-deep", ("ci", "publish", "art"), artifact(DEEP_JSON), "nested deeper"),
    Case("artifact-fifo", ("ci", "publish", "art"), artifact_special("fifo"),
         "not a regular file"),
    Case("artifact-dev-zero", ("ci", "publish", "art"), artifact_special("zero"),
         "not a regular file"),
    Case("artifact-number-holds-text", ("ci", "publish", "art"),
         artifact(report_doc(comparison=comparison_doc(metrics=[metric_row(base="abc")]))),
         "metrics[0].base: expected a value of kind 'number', got 'abc'"),
    Case("artifact-plot-without-series", ("ci", "publish", "art"),
         artifact(report_doc(comparison=comparison_doc(plots=[
             {"title": "ROC", "x_label": "fpr", "y_label": "tpr", "series": []}]))),
         "plots[0].series: expected at least one series"),
    Case("artifact-long-value", ("ci", "publish", "art"),
         artifact(report_doc(schema="x" * 10_000_00)), "schema"),
    # Local-forge records: a corrupt one is a clean error naming the file.
    Case("forge-state-truncated", ("forge", "fsck"),
         corrupt_forge_record('{"next_pull": 1, "next_com'), "state.json"),
    Case("forge-pull-truncated", ("forge", "pr", "list", "--repo", "local/churn"),
         truncated_pull, "pulls/1.json: not valid JSON"),
    Case("forge-collaborators-wrong", ("promote", "churn", "--version", "latest", "--to",
                                       "staging"),
         both(registered, corrupt_forge_record(
             '{"users": ["tester"]}', "../environment-staging.forge/collaborators.json")),
         "collaborators.json: users: expected a mapping"),
    # Authorization: read permission on an environment repository changes nothing there.
    Case("promote-with-read", ("promote", "churn", "--version", "latest", "--to", "staging"),
         reader_on("local/environment-staging"), "needs write permission"),
    Case("rollback-with-read", ("rollback", "churn", "--env", "staging", "--to", "v0.0.1"),
         reader_on("local/environment-staging", promoted=True), "needs write permission"),
    Case("release-unmerged-ref", ("-q", "ci", "release", "--ref", "origin/unreviewed"),
         unmerged_branch, "is not on main"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(case: Case, project: Project, cli, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_of(project)
    case.setup(project, tmp_path, monkeypatch)
    if case.after_setup_state:
        before = state_of(project)
    monkeypatch.chdir(tmp_path)
    result = cli("-C", project.path, *case.args)
    said = result.out + result.err
    assert result.code == case.code, said[-2000:]
    assert case.message in said
    assert "Traceback" not in said and "unexpected error" not in said
    if result.err:  # a refusal (a failed report check says why on stdout instead)
        assert result.err.count("\n") == 1, result.err
        assert len(result.err) < 1100
    after = state_of(project)
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    assert after.keys() == before.keys()


# -- the readers, property-based ----------------------------------------------------------
