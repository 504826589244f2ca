"""The pure parts of the team loop: noise-aware statuses, failed-training reports, and
merging a moved base key by key (real git, no DVC)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kit.git import git

from jx_mlops.ci.context import detect_context
from jx_mlops.ci.failure import parse_failure, render_failure
from jx_mlops.ci.pr import event_pull
from jx_mlops.ci.update import MergeConflictError, bring_up_to_date
from jx_mlops.compare.comparison import ModelComparison, decide
from jx_mlops.compare.metrics import compare_metric
from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.compare.significance import Predictions, bootstrap_many, noise_aware
from jx_mlops.git.repo import GitRepo

REQUIRED = MetricPolicy(direction="higher", tolerance=0.001)
IGNORE = MetricPolicy(direction="higher", tolerance=0.001, significance="ignore")


def _predictions(broken: int, fixed: int) -> tuple[Predictions, Predictions]:
    """750 samples; the head gets ``broken`` rows wrong the base had right, and ``fixed``
    rows right the base had wrong (two forests disagree on some rows both ways)."""
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 750).astype(float)
    base = truth.copy()
    base[:150] = 1 - base[:150]  # 80% accuracy
    head = base.copy()
    head[150:150 + broken] = 1 - head[150:150 + broken]
    head[:fixed] = truth[:fixed]
    return Predictions(truth, y_pred=base), Predictions(truth, y_pred=head)


@pytest.mark.parametrize(("broken", "fixed", "policy", "expected"), [
    (24, 20, REQUIRED, "within_noise"),  # -0.0053, as n_estimators 40 -> 60 did
    (24, 20, IGNORE, "regressed"),       # the team keeps the tolerance alone
    (64, 4, REQUIRED, "regressed"),      # -0.08: distinguishable from noise, still fails
])
def test_a_drop_beyond_tolerance_fails_only_when_it_is_not_noise(broken: int, fixed: int,
                                                                 policy: MetricPolicy,
                                                                 expected: str) -> None:
    base, head = _predictions(broken, fixed)
    base_acc = float((base.y_pred == base.y_true).mean())
    head_acc = float((head.y_pred == head.y_true).mean())
    delta = compare_metric("metrics.json", "accuracy", base_acc, head_acc, (True, True), policy)
    assert delta.status == "regressed"
    (marked,) = noise_aware([delta], bootstrap_many(["accuracy"], base, head))
    assert marked.status == expected
    verdict = decide([ModelComparison("churn", (marked,))])
    assert verdict.passed is (expected == "within_noise")
    if verdict.passed:
        assert verdict.line == "pass: 1 within noise"


DVC_OUTPUT = """\
Running stage 'prepare':
> python src/prepare.py
Running stage 'train':
> python src/train.py
Traceback (most recent call last):
  File "src/train.py", line 30, in <module>
    model.fit(X, y)
sklearn.utils._param_validation.InvalidParameterError: The 'n_estimators' parameter of \
RandomForestClassifier must be an int in the range [1, inf). Got 0 instead.
ERROR: failed to reproduce 'train': failed to run: python src/train.py, exited with 1
"""


def test_a_failed_stage_is_named_with_its_command_and_output() -> None:
    failure = parse_failure(DVC_OUTPUT)
    assert (failure.stage, failure.command) == ("train", "python src/train.py")
    assert failure.reason.startswith("sklearn.utils._param_validation.InvalidParameterError")
    assert failure.tail[0] == "Traceback (most recent call last):"
    assert failure.status == ("training failed in stage train: InvalidParameterError: The "
                              "'n_estimators' parameter of…")
    body = render_failure(failure, marker="<!-- m -->", pull_number=3, branch="b", sha="a" * 40)
    assert body.startswith("<!-- m -->\n## jx-mlops evaluation: ❌ training failed")
    assert "```text\nTraceback" in body and "dvc repro --pull train" in body


def test_output_with_backticks_cannot_close_the_code_block() -> None:
    failure = parse_failure("Running stage 'train':\n> x\n```` oops\nValueError: bad\n")
    body = render_failure(failure, marker="<!-- m -->", pull_number=1, branch="b", sha="a" * 40)
    assert "`````text\n```` oops" in body


PARAMS = "train:\n  n_estimators: 40\n  max_depth: 3\n"


def _repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    GitRepo.init(path).close()
    (path / "params.yaml").write_text(PARAMS)
    (path / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (path / "README.md").write_text("hello\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "start")
    return path


def _commit(path: Path, message: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        (path / name).write_text(text)
    git(path, "commit", "-qam", message)


def test_different_keys_on_adjacent_lines_merge_and_generated_files_are_regenerated(
        tmp_path: Path) -> None:
    path = _repo(tmp_path)
    git(path, "checkout", "-qb", "pr")
    _commit(path, "pr", {"params.yaml": PARAMS.replace("max_depth: 3", "max_depth: 6"),
                           "dvc.lock": "schema: '2.0'\nstages: {pr: 1}\n"})
    git(path, "checkout", "-q", "main")
    _commit(path, "main", {"params.yaml": PARAMS.replace("40", "60"),
                             "dvc.lock": "schema: '2.0'\nstages: {main: 1}\n"})
    git(path, "checkout", "-q", "pr")
    repo = GitRepo.open(path)
    update = bring_up_to_date(repo, "main", "main")
    assert (update.commits, update.regenerated, update.merged_params) == (
        1, ("dvc.lock",), ("params.yaml",))
    assert update.line == "Brought up to date with main (1 commit)."
    assert (path / "params.yaml").read_text() == "train:\n  n_estimators: 60\n  max_depth: 6\n"
    assert git(path, "status", "--porcelain") == ""
    assert bring_up_to_date(repo, "main", "main").commits == 0
    repo.close()


def test_both_changing_the_same_key_is_refused_with_nothing_merged(tmp_path: Path) -> None:
    path = _repo(tmp_path)
    git(path, "checkout", "-qb", "pr")
    _commit(path, "pr", {"params.yaml": PARAMS.replace("max_depth: 3", "max_depth: 6"),
                           "README.md": "pr\n"})
    git(path, "checkout", "-q", "main")
    _commit(path, "main", {"params.yaml": PARAMS.replace("max_depth: 3", "max_depth: 8"),
                             "README.md": "main\n"})
    git(path, "checkout", "-q", "pr")
    head = git(path, "rev-parse", "HEAD")
    repo = GitRepo.open(path)
    with pytest.raises(MergeConflictError) as caught:
        bring_up_to_date(repo, "main", "main")
    repo.close()
    assert caught.value.conflicts == ("README.md", "params.yaml: train.max_depth")
    assert "both changed README.md, params.yaml: train.max_depth" in caught.value.message
    assert git(path, "rev-parse", "HEAD") == head
    assert git(path, "status", "--porcelain") == ""


def test_a_lock_both_sides_changed_is_taken_from_the_base_even_if_git_could_merge_it(
        tmp_path: Path) -> None:
    path = _repo(tmp_path)
    lock = "schema: '2.0'\nstages:\n  train:\n    md5: a\n  x: 1\n  y: 2\n  z: 3\n" \
           "  evaluate:\n    md5: b\n"
    _commit(path, "lock", {"dvc.lock": lock})
    git(path, "checkout", "-qb", "pr")
    _commit(path, "pr", {"dvc.lock": lock.replace("md5: a", "md5: pr-train")})
    git(path, "checkout", "-q", "main")
    main_lock = lock.replace("md5: b", "md5: main-evaluate")
    _commit(path, "main", {"dvc.lock": main_lock})
    git(path, "checkout", "-q", "pr")
    repo = GitRepo.open(path)
    update = bring_up_to_date(repo, "main", "main")
    repo.close()
    # A stitched lock would claim `evaluate` ran on the PR's model: it never did.
    assert update.regenerated == ("dvc.lock",)
    assert (path / "dvc.lock").read_text() == main_lock


def test_the_event_payload_names_the_pull_request_only_when_it_is_that_one(
        tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": {"number": 3, "state": "open", '
                     '"head": {"ref": "tune", "sha": "' + "a" * 40 + '"}, '
                     '"base": {"ref": "main", "sha": "' + "b" * 40 + '"}}}')
    context = detect_context({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
                              "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/churn"})
    pull = event_pull(context, "Acme/Churn", 3)
    assert pull is not None
    assert (pull.number, pull.head, pull.base, pull.head_sha, pull.state) == (
        3, "tune", "main", "a" * 40, "open")
    # Another PR, another repository, or no payload: the forge is asked instead.
    assert event_pull(context, "acme/churn", 4) is None
    assert event_pull(context, "acme/other", 3) is None
    assert event_pull(detect_context({}), "acme/churn", 3) is None
