"""ConfigNode: every reader names the file and the dotted key, says what it expected and
what it got (``FILE: KEY: expected X, got Y``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from jx_mlops.config.node import ConfigNode
from jx_mlops.errors import ConfigError


def node(value: Any, where: str = "block.key") -> ConfigNode:
    return ConfigNode(value, where, "mlops.yaml")


def message(read: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        read()
    return caught.value.message


def test_fail_names_file_key_expectation_and_value() -> None:
    assert node(None).fail("a value").message == \
        "mlops.yaml: block.key: expected a value, got nothing"
    assert node("x" * 200).fail("a short text").message.endswith("…'")
    assert ConfigNode([], "", "f.json").fail("a mapping").message == \
        "f.json: (top level): expected a mapping, got []"


def test_error_and_fail_key_name_the_key() -> None:
    assert node({}).error("duplicate name 'a'").message == \
        "mlops.yaml: block.key: duplicate name 'a'"
    assert node({}).fail_key("colour", ("size", "shape")).message == \
        "mlops.yaml: block.key.colour: unknown key (expected one of: size, shape)"
    assert ConfigNode({}, "", "mlops.yaml").fail_key("x", ("y",)).message == \
        "mlops.yaml: x: unknown key (expected one of: y)"


def test_mapping_checks_type_keys_and_required() -> None:
    node({"a": 1}).mapping(("a", "b"), required=("a",))
    assert message(lambda: node([1]).mapping(what="an object")) == \
        "mlops.yaml: block.key: expected an object, got [1]"
    assert message(lambda: node({1: 2}).mapping()) == \
        "mlops.yaml: block.key: expected string keys, got {1: 2}"
    assert message(lambda: node({"c": 1}).mapping(("a", "b"))) == \
        "mlops.yaml: block.key.c: unknown key (expected one of: a, b)"
    assert message(lambda: node({"b": 1}).mapping(("a", "b"), required=("a",))) == \
        "mlops.yaml: block.key.a: expected a value (this key is required), got nothing"


def test_child_of_a_non_mapping_is_absent() -> None:
    child = node("text").child("inner")
    assert (child.value, child.where) == (None, "block.key.inner")
    assert ConfigNode({"a": 1}, "", "f").child("a").where == "a"


def test_sequence_names_each_item_by_index() -> None:
    items = node([1, "b"]).sequence("a list")
    assert [(n.value, n.where) for n in items] == [(1, "block.key[0]"), ("b", "block.key[1]")]
    assert node([]).sequence("a list") == []
    assert message(lambda: node([]).sequence("a non-empty list", non_empty=True)) == \
        "mlops.yaml: block.key: expected a non-empty list, got []"
    assert message(lambda: node([1, 2, 3]).sequence("at most 2", limit=2)).endswith(
        "expected at most 2, got [1, 2, 3]")
    assert message(lambda: node({"a": 1}).sequence("a list")).endswith(
        "expected a list, got {'a': 1}")


def test_string_checks_blank_pattern_and_length() -> None:
    word = re.compile(r"^[a-z]+$")
    assert node("abc").string(word, "a word", limit=3) == "abc"
    for bad in ("  ", "", 3, None, "ABC", "abcd"):
        assert message(lambda bad=bad: node(bad).string(word, "a word", limit=3)) \
            .startswith("mlops.yaml: block.key: expected a word, got ")


def test_strings_fail_the_item_or_the_whole_list() -> None:
    login = re.compile(r"^[a-z]+$")
    assert node(["ann", "bob"]).strings(login, "logins", "a login") == ("ann", "bob")
    assert node([]).strings(login) == ()
    assert message(lambda: node(["ann", "B!"]).strings(login, "logins", "a login")) == \
        "mlops.yaml: block.key[1]: expected a login, got 'B!'"
    assert message(lambda: node(["ann", 7]).strings(login, "distinct logins")) == \
        "mlops.yaml: block.key: expected distinct logins, got ['ann', 7]"
    assert message(lambda: node([]).strings(what="some", non_empty=True)) == \
        "mlops.yaml: block.key: expected some, got []"
    assert message(lambda: node(["abc"]).strings(what="short ones", limit=2)).endswith(
        "expected short ones, got ['abc']")


def test_paths_accept_one_path_or_a_list() -> None:
    assert node("m.json").paths() == ("m.json",)
    assert node(["a.json", "b.json"]).paths() == ("a.json", "b.json")
    assert message(lambda: node([]).paths()) == \
        "mlops.yaml: block.key: expected a path or a non-empty list of paths, got []"
    assert message(lambda: node(["a", " "]).paths()) == \
        "mlops.yaml: block.key[1]: expected a path, got ' '"


@pytest.mark.parametrize(("value", "expected"), [
    (True, "expected a number, got True"), ("1", "expected a number, got '1'"),
    (float("nan"), "expected a finite number, got nan"),
    (float("inf"), "expected a finite number, got inf"),
])
def test_number_refuses_bools_text_and_non_finite(value: Any, expected: str) -> None:
    assert message(lambda: node(value).number()) == f"mlops.yaml: block.key: {expected}"


def test_number_variants() -> None:
    assert node(3).number() == 3.0
    assert node(None).optional_number() is None
    assert node(0.5).optional_number() == 0.5
    assert message(lambda: node("x").optional_number("a finite number")).endswith(
        "expected a finite number, got 'x'")
    assert node(0).non_negative() == 0.0
    assert message(lambda: node(-1).non_negative()).endswith("expected a number >= 0, got -1")


def test_integer_refuses_bools_floats_and_small_values() -> None:
    assert node(4).integer() == 4
    assert node(2).integer(minimum=2, what="2 or more") == 2
    for bad in (True, 1.0, -1, "3"):
        assert message(lambda bad=bad: node(bad).integer()).startswith(
            "mlops.yaml: block.key: expected a whole number >= 0, got ")
    assert message(lambda: node(1).integer(minimum=2, what="2 or more")).endswith(
        "expected 2 or more, got 1")


@pytest.mark.parametrize(("value", "seconds"), [
    (90, 90), (0, 0), ("30m", 1800), ("24h", 86400), ("2d", 172800), ("1h30m", 5400),
    ("45s", 45), ("1d2h3m4s", 93784),
])
def test_duration_reads_seconds_and_units(value: Any, seconds: int) -> None:
    assert node(value).duration() == seconds


@pytest.mark.parametrize("value", ["", "30", "3w", "m30", -5, True, 1.5, "1h 30m", None])
def test_duration_refuses_the_rest(value: Any) -> None:
    assert message(lambda: node(value).duration()).startswith(
        "mlops.yaml: block.key: expected a duration such as 30m, 24h or 2d (or seconds), "
        "got ")


def test_choice_and_flag() -> None:
    assert node("b").choice("a", "b") == "b"
    assert message(lambda: node("c").choice("a", "b")) == \
        "mlops.yaml: block.key: expected 'a' or 'b', got 'c'"
    assert message(lambda: node("c").choice("a", "b", "d", what="'a', 'b' or 'd'")) == \
        "mlops.yaml: block.key: expected 'a', 'b' or 'd', got 'c'"
    assert message(lambda: node(["a"]).choice("a")).endswith("got ['a']")
    assert node(False).flag() is False
    assert message(lambda: node("yes").flag()).endswith("expected true or false, got 'yes'")


def test_optional_reads_only_a_present_value() -> None:
    assert node(None).optional(ConfigNode.duration, 7) == 7
    assert node("1m").optional(ConfigNode.duration, 7) == 60
