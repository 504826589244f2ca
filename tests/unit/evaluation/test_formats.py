"""evaluation.formats: every data file read by its extension, with errors a user can act on."""

from __future__ import annotations

import math
import sys

import pytest

from jx_mlops.evaluation.formats import (
    load_records,
    load_structured,
    parse_columns,
    parse_prediction_table,
    parse_predictions,
    read_values,
)


def test_structured_files_parse_by_extension() -> None:
    assert load_structured("m.json", b'{"acc": 0.9, "loss": NaN}')["acc"] == 0.9
    assert math.isnan(load_structured("M.JSON", b'{"loss": NaN}')["loss"])
    assert load_structured("params.yaml", b"train:\n  lr: 0.1\n") == {"train": {"lr": 0.1}}
    assert load_structured("anything", b"a: 1") == {"a": 1}  # YAML is the default


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib")
def test_toml_parses_and_reports_its_errors() -> None:
    assert load_structured("p.toml", b"[train]\nlr = 0.1\n") == {"train": {"lr": 0.1}}
    with pytest.raises(ValueError, match=r"^cannot parse: "):
        load_structured("p.toml", b"[train\n")


def test_structured_errors_say_which_format_failed() -> None:
    with pytest.raises(ValueError, match=r"^not valid JSON: Expecting"):
        load_structured("m.json", b"{acc: 1}")
    with pytest.raises(ValueError, match=r"^not valid YAML: .*line 2"):
        load_structured("p.yaml", b"a: 1\n b: [\n")


def test_read_values_flattens_a_mapping() -> None:
    data = b"train:\n  lr: 0.1\n  layers: [2, 3]\n  opt: {}\nseed: 7\n"
    assert read_values("params.yaml", data) == {
        "train.lr": 0.1, "train.layers": [2, 3], "train.opt": {}, "seed": 7}
    assert read_values("m.json", b'{"a": {"b": true}}', "metrics") == {"a.b": True}


@pytest.mark.parametrize(("data", "message"), [
    (b"- 1\n- 2\n", "expected a mapping of params, got list"),
    (b"", "expected a mapping of params, got nothing"),
    (b"just text", "expected a mapping of params, got str"),
    (b"a: [\n", "not valid YAML: "),
])
def test_read_values_refuses_what_is_not_a_mapping(data: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        read_values("params.yaml", data)
    assert str(caught.value).startswith(message)


def test_read_values_names_what_it_expected() -> None:
    with pytest.raises(ValueError, match=r"^expected a mapping of metrics, got list$"):
        read_values("m.json", b"[1]", "metrics")


def test_records_from_every_format() -> None:
    rows = [{"step": "1", "acc": "0.5"}, {"step": "2", "acc": "0.7"}]
    assert load_records("p.csv", b"step,acc\n1,0.5\n2,0.7\n") == rows
    assert load_records("p.tsv", b"step\tacc\n1\t0.5\n2\t0.7\n") == rows
    assert load_records("p.json", b'[{"step": 1}, 5, {"step": 2}]') == [{"step": 1},
                                                                        {"step": 2}]
    assert load_records("p.yaml", b"train:\n  - {step: 1}\n") == [{"step": 1}]
    assert load_records("p.json", b'{"n": 3}') == []
    assert load_records("p.yaml", b"7") == []


def test_predictions_read_csv_and_tsv() -> None:
    parsed = parse_predictions(b"y_true,y_pred,y_score\n1,1,0.9\n0,1,0.6\n", "p.csv")
    assert list(parsed.y_true) == [1.0, 0.0] and list(parsed.y_pred) == [1.0, 1.0]
    tabbed = parse_predictions(b"y_true\ty_score\n1\t0.9\n", "p.tsv")
    assert tabbed.y_pred is None and list(tabbed.y_score) == [0.9]


@pytest.mark.parametrize(("data", "message"), [
    (b"truth,guess\n1,1\n", "p.csv: expected columns y_true and y_pred and/or y_score, got "
                            "truth, guess"),
    (b"", "p.csv: expected columns y_true and y_pred and/or y_score, got no header"),
    (b"y_true,y_pred\n", "p.csv: no rows"),
    (b"y_true,y_pred\n1,yes\n", "p.csv: column y_pred has a value that is not a number"),
])
def test_predictions_errors_name_the_file(data: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_predictions(data, "p.csv")
    assert str(caught.value) == message


def test_bytes_that_are_not_utf8_are_named_not_replaced() -> None:
    with pytest.raises(ValueError, match=r"^not UTF-8 text \(byte 0xe9 at offset 5; save it "
                                         r"as UTF-8\)$"):
        read_values("metrics.json", b'{"caf\xe9": 1}', "metrics")


def test_prediction_table_carries_the_slice_columns() -> None:
    data = b"y_true,y_pred,region,age\n1,1,west,40\n0,1,north,\n"
    predictions, columns = parse_prediction_table(data, "p.csv at main", ["region", "age"])
    assert list(predictions.y_pred) == [1.0, 1.0]
    assert columns == {"region": ["west", "north"], "age": ["40", ""]}
    with pytest.raises(ValueError, match=r"p.csv at main: no column 'segment' "
                                         r"\(slices.features\); columns: y_true, y_pred"):
        parse_prediction_table(data, "p.csv at main", ["segment"])
    count, table = parse_columns("\ufeffregion\tage\nwest\t40\n".encode(), "t.tsv", ["age"])
    assert (count, table) == (1, {"age": ["40"]})
