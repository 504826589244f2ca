"""The readers of untrusted YAML and JSON, property-based (hypothesis)."""

from __future__ import annotations

import contextlib
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from kit.strategies import JSON_VALUES

from jx_mlops import yamlio
from jx_mlops.errors import InputError


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


# -- YAML as DVC reads it (1.2), checked against DVC's own parser ---------------------------

SCALARS_12 = ["1e-3", "5e-4", "yes", "no", "on", "off", "y", "0755", "0o17", "0x1F", "0b101",
              "1_000", "12:30", "1:2:3", ".inf", "-.INF", ".NaN", "+1.5e+3", "1e3", "TRUE",
              "True", "true", "~", "null", "Null", "", "2020-01-01", ".5", "1.", "08",
              "-0", "+12", "3.0e-05", "'1e-3'", "abc"]


@pytest.mark.parametrize("scalar", SCALARS_12)
def test_yaml_as_dvc_reads_it_is_ruamels_yaml_1_2(scalar: str) -> None:
    from ruamel.yaml import YAML

    text = f"k: {scalar}\nlist: [{scalar or '~'}]\n"
    ours, theirs = yamlio.load_as_dvc(text), YAML(typ="safe", pure=True).load(text)
    assert repr(ours) == repr(theirs)


def test_yaml_as_dvc_reads_it_keeps_the_limits() -> None:
    bomb = "a0: &a0 [x, x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n"
                                           for i in range(1, 30))
    for text in ("k: 1\nk: 2\n", bomb, "- " * 5000 + "x", f"k: {'9' * 200}\n"):
        with pytest.raises(ValueError):
            yamlio.load_as_dvc(text)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=200))
def test_a_cut_always_ends_in_an_ellipsis(text: str, limit: int) -> None:
    short = yamlio.shorten(text, limit)
    assert len(short) <= limit
    assert short == text if len(text) <= limit else (
        short.endswith("…") and text.startswith(short[:-1]))
