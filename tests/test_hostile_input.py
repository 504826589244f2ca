"""Hostile and clumsy input: every refusal is one clean line, exit 1, and nothing changed.

One table, one row a case: the command, what is done to the project (or its forge) first,
the exit code expected, a fragment of the message, and the proof that nothing changed (git
refs and work tree of the project, every file of the local forge, the same before and
after). Plus property tests of the readers of untrusted files (hypothesis).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from kit.git import git
from kit.workspace import Project

from jx_mlops import yamlio
from jx_mlops.ci.fork_report import REPORT_FILE, REPORT_SCHEMA
from jx_mlops.errors import InputError
from jx_mlops.fsutil import read_bounded

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

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.text(max_size=20)
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=5),
    max_leaves=30)


@settings(max_examples=60, deadline=None)
@given(JSON_VALUES)
def test_json_and_yaml_readers_round_trip_what_is_within_limits(value: object) -> None:
    assert yamlio.json_loads(json.dumps(value)) == value
    assert yamlio.safe_load(yaml.safe_dump(value)) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('[]{}&*:-, \n"ab1<<!'), max_size=200))
def test_yaml_reader_raises_only_yaml_errors(text: str) -> None:
    with contextlib.suppress(yaml.YAMLError):
        yamlio.safe_load(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet=st.sampled_from('[]{}":,-01e.Na\\u'),
                                         max_size=200))
def test_json_reader_raises_only_its_errors_and_names_the_source(data: bytes | str) -> None:
    try:
        yamlio.load_json(data, source="artifact.json")
    except InputError as exc:
        assert exc.message.startswith("artifact.json: ") and "\n" not in exc.message


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12))
def test_alias_expansion_is_bounded_whatever_the_shape(width: int, levels: int) -> None:
    names = [f"n{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [x]"] + [
        f"{names[i]}: &{names[i]} [{', '.join([f'*{names[i - 1]}'] * width)}]"
        for i in range(1, levels)]
    text = "\n".join(lines) + "\n"
    sizes = [2]  # a one-item sequence: itself and its scalar
    for _ in range(1, levels):
        sizes.append(1 + width * sizes[-1])
    extra = sum(sizes) - (2 + (levels - 1))  # what aliases add to the written nodes
    if extra > yamlio.MAX_ALIAS_EXPANSION:
        with pytest.raises(yaml.YAMLError, match="aliases expand"):
            yamlio.safe_load(text)
    else:
        assert len(yamlio.safe_load(text)) == levels


def test_duplicate_keys_and_merge_keys() -> None:
    with pytest.raises(yaml.YAMLError, match="duplicate key 'a' at line 2"):
        yamlio.safe_load("a: 1\na: 2\n")
    # YAML merge keys may be overridden: that is what they are for.
    assert yamlio.safe_load("base: &b {x: 1, y: 2}\nd: {<<: *b, x: 3}\n")["d"] == {"x": 3, "y": 2}
    with pytest.raises(json.JSONDecodeError, match="duplicate key 'a'"):
        yamlio.json_loads('{"a": 1, "a": 2}')


def test_bounded_reads(tmp_path: Path) -> None:
    inside = tmp_path / "repo"
    inside.mkdir()
    (tmp_path / "secret").write_text("key")
    (inside / "link").symlink_to(tmp_path / "secret")
    (inside / "ok").write_text("fine")
    (inside / "ok-link").symlink_to(inside / "ok")
    assert read_bounded(inside / "ok-link", root=inside) == b"fine"
    with pytest.raises(InputError, match="outside"):
        read_bounded(inside / "link", root=inside)
    os.mkfifo(inside / "fifo")
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(inside / "fifo", root=inside)
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(Path("/dev/zero"))
    with pytest.raises(InputError, match="larger than 3 bytes"):
        read_bounded(inside / "ok", max_bytes=3)
    with pytest.raises(FileNotFoundError):
        read_bounded(inside / "missing")


EVENT_KEYS = {"pull_request": ("number", "head", "base"),
              "issue": ("number", "pull_request"), "comment": ("id", "body", "user"),
              "workflow_run": ("id", "name", "event", "conclusion", "head_sha", "head_branch",
                               "head_repository", "pull_requests"),
              "repository": ("full_name",), "sender": ("login",), "after": ()}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["pull_request", "issue_comment", "push", "workflow_run"]),
       st.dictionaries(st.sampled_from(sorted(EVENT_KEYS)),
                       JSON_VALUES | st.dictionaries(
                           st.sampled_from([k for keys in EVENT_KEYS.values() for k in keys]),
                           JSON_VALUES, max_size=6), max_size=7))
def test_event_payloads_of_any_shape_are_read_or_refused_cleanly(
        tmp_path_factory: pytest.TempPathFactory, kind: str, payload: dict[str, object]) -> None:
    from jx_mlops.ci.context import detect_context
    from jx_mlops.errors import JxMlopsError

    path = tmp_path_factory.getbasetemp() / "hypothesis-event.json"
    path.write_text(json.dumps(payload))
    with contextlib.suppress(JxMlopsError):
        detect_context({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": kind,
                        "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": "a/b"})
