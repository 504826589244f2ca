"""Editing params.yaml for a retrain: comments survive, typos are caught."""

from __future__ import annotations

import pytest

from jx_mlops.errors import UsageError
from jx_mlops.project.retrain import apply_settings, parse_setting, typed_setting

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


@pytest.mark.parametrize(("current", "text", "value"), [
    (0.1, "lr=1", 1.0), (0.1, "lr=1e-3", 0.001), (3, "lr=-4", -4), (True, "lr=false", False),
    ("rf", "lr=123", "123"), ("rf", "lr=true", "true"), (None, "lr=abc", "abc"),
])
def test_a_value_takes_the_type_of_the_current_one(current: object, text: str,
                                                   value: object) -> None:
    typed = typed_setting(parse_setting(text, "params.yaml"), current, "params.yaml")
    assert typed.value == value and type(typed.value) is type(value)


@pytest.mark.parametrize(("current", "text", "message"), [
    (0.1, "train.lr=abc", "--set train.lr=abc: params.yaml has train.lr: 0.1, a number; "
                          "'abc' is text"),
    (3, "train.lr=-3.5", "--set train.lr=-3.5: params.yaml has train.lr: 3, a whole number; "
                         "'-3.5' is a number"),
    (True, "train.lr=1", "--set train.lr=1: params.yaml has train.lr: true, true or false; "
                         "'1' is a whole number"),
    (0.1, "train.lr=true", "--set train.lr=true: params.yaml has train.lr: 0.1, a number; "
                           "'true' is true or false"),
])
def test_a_value_of_another_type_is_refused(current: object, text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        typed_setting(parse_setting(text, "params.yaml"), current, "params.yaml")
    assert caught.value.message == message


def test_a_value_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        parse_setting("train.n=[1,2", "params.yaml")
    assert caught.value.message.startswith("--set 'train.n=[1,2': the value is not valid YAML (")
