"""The model service predicts what the evaluate stage measured, over HTTP too.

Needs the pipeline's outputs: run `dvc repro` (or `dvc pull`) first.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import common
import model_io
import numpy as np
import pytest
import serve
from kit import data, serving


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    frame = data.read_table("data/prepared/test.csv")
    x = data.encode(frame, data.features(), common.CATEGORIES)
    expected = data.read_table("eval/predictions.csv")[model_io.SERVED].to_numpy()
    return x, expected


def assert_same_predictions(got: list[float], want: np.ndarray) -> None:
    if model_io.SERVED == "y_pred" and common.TASK == "classification":
        assert np.array_equal(np.asarray(got, dtype=int), want.astype(int))
    else:  # scores and regression values: equal up to the 6 decimals of the CSV
        np.testing.assert_allclose(np.asarray(got, dtype=float).ravel(), want, atol=1e-4)


def test_service_predicts_what_evaluate_measured(test_set) -> None:
    x, expected = test_set
    model = serve.build()
    assert model.load() and model.ready
    assert_same_predictions(model.predict({"instances": x.tolist()})["predictions"], expected)


def post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_v1_protocol_over_http(test_set) -> None:
    x, expected = test_set
    model = serve.build()
    server = serving.start_server(model, port=0)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/v1/models/{model.name}"
        with urllib.request.urlopen(base, timeout=30) as response:
            assert json.load(response) == {"name": model.name, "ready": True}
        status, body = post(f"{base}:predict", {"instances": x[:5].tolist()})
        assert status == 200
        assert_same_predictions(body["predictions"], expected[:5])
        status, body = post(f"{base}:predict", {"instances": [[1.0]]})
        assert status == 400 and "instance needs" in body["error"]
    finally:
        server.shutdown()
