"""A failed training reported: the stage, its command and its output, safely fenced."""

from __future__ import annotations

from jx_mlops.ci.failure import parse_failure, render_failure

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
