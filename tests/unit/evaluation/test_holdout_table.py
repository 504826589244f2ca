"""The sealed holdout's readers: an ONNX file is never unpickled, a table's columns are typed."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from jx_mlops.config.evaluation import HoldoutConfig
from jx_mlops.errors import ConfigError
from jx_mlops.evaluation.holdout import parse_table
from jx_mlops.evaluation.onnxscore import OnnxScoringError, load_onnx


class _Marker:
    """Unpickling this writes a file: the proof a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "unpickled"))  # type: ignore[return-value]


def test_an_onnx_file_that_is_not_onnx_is_refused_without_loading_it(tmp_path: Path
                                                                     ) -> None:
    marker = tmp_path / "marker"
    evil = pickle.dumps(_Marker(str(marker)))
    for data, expected in ((evil, "not a valid ONNX model"), (b"", "not a valid ONNX model")):
        with pytest.raises(OnnxScoringError, match=f"^model.onnx: {expected}"):
            load_onnx(data, "model.onnx")
    assert not marker.exists()
    table = parse_table(b"a,b,y\n1,x,1\n2,y,0\n", _holdout())
    assert table.x.shape == (2, 1)  # the non-numeric column is no feature by default
    with pytest.raises(ConfigError, match=r"column 'a', row 3: not a number"):
        parse_table(b"a,y\n1,1\nn/a,0\n", _holdout(("a",)))


def _holdout(features: tuple[str, ...] = ()) -> HoldoutConfig:
    return HoldoutConfig("h.csv", "sealed", "y", features)
