"""Editing params.yaml for a retrain: comments survive, typos are caught."""

from __future__ import annotations

import pytest

from jx_mlops.errors import UsageError
from jx_mlops.project.retrain import apply_settings, parse_setting

PARAMS = """\
prepare:
  test_size: 0.25  # fraction held out
  seed: 20
train:
  # forest size
  n_estimators: 40
  max_depth: 3
  nested:
    seed: 1
"""


def apply(*settings: str) -> str:
    return apply_settings(PARAMS, [parse_setting(s, "params.yaml") for s in settings],
                          "params.yaml")


def test_values_are_set_in_place_keeping_comments() -> None:
    result = apply("train.n_estimators=200", "prepare.test_size=0.3", "train.nested.seed=9")
    assert result == PARAMS.replace("n_estimators: 40", "n_estimators: 200").replace(
        "test_size: 0.25  # fraction", "test_size: 0.3  # fraction").replace(
        "    seed: 1", "    seed: 9")


def test_same_leaf_name_in_two_sections_is_not_confused() -> None:
    result = apply("prepare.seed=5")
    assert "  seed: 5\ntrain:" in result and "    seed: 1" in result


def test_values_are_typed_as_yaml() -> None:
    assert parse_setting("a.b=200", "p.yaml").value == 200
    assert parse_setting("a.b='200'", "p.yaml").value == "200"
    assert parse_setting("a.b=true", "p.yaml").value is True
    assert parse_setting("other.yaml:a.b=1", "p.yaml").file == "other.yaml"


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(UsageError, match=r"no param 'train.n_estimator' \(did you mean "
                                         r"train.n_estimators\?\)"):
        apply("train.n_estimator=5")


@pytest.mark.parametrize("text", ["train.n_estimators", "=5", "a..b=1", "a=[1, 2]"])
def test_malformed_settings(text: str) -> None:
    with pytest.raises(UsageError):
        parse_setting(text, "params.yaml")
