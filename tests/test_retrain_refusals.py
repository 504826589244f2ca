"""`retrain` starts from the fetched default branch, leaves the user where they were, and
refuses (exit 1, one line) before it writes anything: one row a case."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge

BARE = "forge/repos/local/churn.git"
META = "forge/repos/local/churn.forge"


def _state(project: Project) -> dict[str, object]:
    """Everything a refused retrain must leave as it was."""
    meta = project.home / META
    return {
        "refs": git(project.path, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": git(project.path, "symbolic-ref", "-q", "HEAD"),
        "work tree": git(project.path, "status", "--porcelain"),
        "params": (project.path / "params.yaml").read_bytes(),
        "forge refs": git(project.home / BARE, "for-each-ref",
                          "--format=%(refname) %(objectname)"),
        "forge records": {str(p.relative_to(meta)): hashlib.sha256(p.read_bytes()).hexdigest()
                          for p in sorted(meta.rglob("*")) if p.is_file() and p.name != "lock"},
        "outside": sorted(p.name for p in project.path.parent.iterdir()),
    }


def _open_pr(project: Project, cli) -> None:
    assert cli("retrain", "--set", "train.n_estimators=60").code == 0


def _unpushed_branch(project: Project, cli) -> None:
    git(project.path, "checkout", "-q", "-b", "experiment")
    (project.path / "notes.txt").write_text("work in progress\n")
    git(project.path, "add", "notes.txt")
    git(project.path, "commit", "-qm", "unpushed work")
    git(project.path, "checkout", "-q", "main")


def _truncate(record: str) -> Callable[[Project, object], None]:
    def setup(project: Project, cli) -> None:
        if record.startswith("pulls/"):
            _open_pr(project, cli)
        path = project.home / META / record
        path.write_bytes(path.read_bytes()[:20])
    return setup


def _nothing(project: Project, cli) -> None:
    return None


def _main_params(data: bytes) -> Callable[[Project, object], None]:
    """params.yaml on main (committed and pushed, as a hostile merge would leave it)."""
    def setup(project: Project, cli) -> None:
        (project.path / "params.yaml").write_bytes(data)
        git(project.path, "commit", "-qam", "params")
        git(project.path, "push", "-q", "origin", "main")
    return setup


DEEP = b"train:\n  n_estimators: 40\n" + b"".join(
    b"  " * (i + 1) + f"k{i}:\n".encode() for i in range(1000)) + b"  " * 1001 + b"v: 1\n"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    message: str
    setup: Callable[[Project, object], None] = _nothing


CASES = {
    "outside-relative": Case(("--set", "../outside.yaml:a=1"), "inside the repository"),
    "outside-absolute": Case(("--set", "/tmp/outside.yaml:a=1"), "inside the repository"),
    "dvc-config": Case(("--set", ".dvc/config:core.remote=x"), ".dvc/ is not a params file"),
    "not-yaml": Case(("--set", "src/train.py:a=1"), "YAML params files"),
    "missing-file": Case(("--set", "conf/none.yaml:a=1"),
                         "params file conf/none.yaml not found on the default branch"),
    "no-op": Case(("--set", "train.n_estimators=40"),
                  "params.yaml already has train.n_estimators: 40"),
    "unknown-key": Case(("--set", "train.n_estimator=5"), "did you mean train.n_estimators"),
    "branch-main": Case(("--branch", "main", "--set", "train.max_depth=6"),
                        "that is the default branch"),
    "branch-open-pr": Case(("--branch", "retrain/n_estimators-60", "--set",
                            "train.max_depth=6"), "pull request #1 is open", _open_pr),
    "branch-unpushed": Case(("--branch", "experiment", "--set", "train.max_depth=6"),
                            "a local branch of that name exists", _unpushed_branch),
    "branch-invalid": Case(("--branch", "bad..name", "--set", "train.max_depth=6"),
                           "not a valid branch name"),
    # A value must be valid YAML of the current value's type.
    "text-for-a-number": Case(("--set", "evaluate.threshold=abc"),
                              "params.yaml has evaluate.threshold: 0.5, a number; 'abc' is text"),
    "fraction-for-a-count": Case(("--set", "train.n_estimators=-3.5"),
                                 "train.n_estimators: 40, a whole number; '-3.5' is a number"),
    "number-for-a-boolean": Case(("--set", "prepare.drop_sensitive=0"),
                                 "prepare.drop_sensitive: true, true or false; '0' is a whole"),
    "unclosed-list": Case(("--set", "train.n_estimators=[1,2"), "the value is not valid YAML"),
    # A params.yaml main holds that retrain cannot edit safely.
    "duplicated-key": Case(("--set", "train.max_depth=6"),
                           "params.yaml on the default branch: not valid YAML: duplicate key",
                           _main_params(b"train:\n  max_depth: 3\n  max_depth: 4\n")),
    "latin-1": Case(("--set", "train.max_depth=6"),
                    "params.yaml on the default branch is not UTF-8 text",
                    _main_params(b"train:\n  max_depth: 3\n  name: caf\xe9\n")),
    "invalid-yaml": Case(("--set", "train.max_depth=6"),
                         "params.yaml on the default branch: not valid YAML",
                         _main_params(b"train:\n  max_depth: [3\n")),
    "nested-1000-deep": Case(("--set", "train.n_estimators=6"),
                             "params.yaml on the default branch: not valid YAML: nested deeper",
                             _main_params(DEEP)),
    "truncated-pull": Case(("--set", "train.max_depth=6"), "pulls/1.json: not valid JSON",
                           _truncate("pulls/1.json")),
    "truncated-state": Case(("--set", "train.max_depth=6"), "state.json: not valid JSON",
                            _truncate("state.json")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_before_anything_changes(name: str, project: Project, cli, monkeypatch) -> None:
    case = CASES[name]
    monkeypatch.chdir(project.path)
    case.setup(project, cli)
    before = _state(project)
    result = cli("retrain", *case.args)
    assert result.code == 1, result.err
    assert case.message in result.err
    # Progress lines (✓ done, ✗ the step that failed) aside, one line: the error.
    problems = [line for line in result.err.splitlines() if not line.startswith(("✓", "✗"))]
    assert len(problems) == 1 and problems[0].startswith("error: ") and case.message in problems[0]
    after = _state(project)
    if name == "truncated-state":
        # The branch was pushed before the forge's counter turned out unreadable: undone.
        before.pop("forge records"), after.pop("forge records")
    assert after == before
    assert not (project.path.parent / "outside.yaml").exists()


def test_values_keep_their_type_and_name_the_branch_as_typed(project: Project, cli,
                                                            monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    result = cli("retrain", "--set", "prepare.drop_sensitive=false", "--set",
                 "evaluate.threshold=1")
    assert result.code == 0, result.err
    pull = LocalForge(project.home / "forge").get_pull("local/churn", 1)
    assert pull.head == "retrain/drop_sensitive-false-threshold-1"
    params = git(project.path, "show", f"{pull.head_sha}:params.yaml")
    assert "  drop_sensitive: false\n" in params and "  threshold: 1.0\n" in params


def test_retrain_from_another_branch_starts_from_main_and_stays_put(project: Project, cli,
                                                                    monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    _open_pr(project, cli)
    assert git(project.path, "symbolic-ref", "--short", "HEAD") == "main"
    # Standing on the first PR's branch, with uncommitted work: neither is used nor touched.
    git(project.path, "checkout", "-q", "retrain/n_estimators-60")
    (project.path / "README.md").write_text("draft\n")
    # main moves on the forge meanwhile: retrain fetches it.
    other = project.path.parent / "other"
    git(project.path.parent, "clone", "-q", (project.home / BARE).as_uri(), str(other))
    (other / "NOTES.md").write_text("moved\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-qm", "main moves")
    git(other, "push", "-q", "origin", "main")

    result = cli("retrain", "--set", "train.max_depth=6")
    assert result.code == 0, result.err
    assert git(project.path, "symbolic-ref", "--short", "HEAD") == "retrain/n_estimators-60"
    assert (project.path / "README.md").read_text() == "draft\n"
    assert "n_estimators: 60" in (project.path / "params.yaml").read_text()

    pull = LocalForge(project.home / "forge").get_pull("local/churn", 2)
    assert (pull.head, pull.base) == ("retrain/max_depth-6", "main")
    params = git(project.path, "show", f"{pull.head_sha}:params.yaml")
    assert "max_depth: 6" in params and "n_estimators: 40" in params
    assert git(project.path, "rev-parse", f"{pull.head_sha}^") == git(other, "rev-parse", "HEAD")
    assert git(project.path, "diff", "--name-only", f"{pull.head_sha}^", pull.head_sha) == \
        "params.yaml"
    # The local branch exists for the user to check out, tracking the pushed one.
    assert git(project.path, "rev-parse", "retrain/max_depth-6") == pull.head_sha
    shown = json.loads(cli("forge", "pr", "show", "2", "--json").out)
    assert shown["labels"] == ["retrain"]
