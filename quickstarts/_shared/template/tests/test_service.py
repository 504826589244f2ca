"""The model service predicts what the evaluate stage measured, over HTTP too, through
KServe's model server (V1 and V2 protocols, Prometheus metrics).

Needs the pipeline's outputs: run `dvc repro` (or `dvc pull`) first.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import common
import model_io
import numpy as np
import pytest
import serve
from kit import data


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    frame = data.read_table("data/prepared/test.csv")
    x = data.encode(frame, data.features(), common.CATEGORIES)
    expected = data.read_table("eval/predictions.csv")[model_io.SERVED].to_numpy()
    return x, expected


def assert_same_predictions(got: list[float], want: np.ndarray) -> None:
    if model_io.SERVED == "y_pred" and common.TASK == "classification":
        assert np.array_equal(np.asarray(got, dtype=int).ravel(), want.astype(int))
    else:  # scores and regression values: equal up to the 6 decimals of the CSV
        np.testing.assert_allclose(np.asarray(got, dtype=float).ravel(), want, atol=1e-4)


def test_service_predicts_what_evaluate_measured(test_set) -> None:
    x, expected = test_set
    model = serve.build()
    assert model.load() and model.ready
    assert_same_predictions(model.predict({"instances": x.tolist()})["predictions"], expected)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`python src/serve.py` on a free loopback port: KServe's model server, as deployed."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "src/serve.py", "--http_port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while get(f"{base}/v2/health/ready")[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                errors = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise AssertionError(f"the model server did not start: {errors}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_v1_protocol_over_http(server: str, test_set) -> None:
    x, expected = test_set
    name = serve.model_name()
    status, body = get(f"{server}/v1/models/{name}")
    assert status == 200 and json.loads(body) == {"name": name, "ready": True}
    status, reply = post(f"{server}/v1/models/{name}:predict", {"instances": x[:5].tolist()})
    assert status == 200
    assert_same_predictions(reply["predictions"], expected[:5])
    status, reply = post(f"{server}/v1/models/{name}:predict", {"instances": [[1.0]]})
    assert status == 400 and "instance needs" in reply["error"]


def test_v2_protocol_over_http(server: str, test_set) -> None:
    x, expected = test_set
    name = serve.model_name()
    assert get(f"{server}/v2/models/{name}/ready")[0] == 200
    rows = x[:5].astype(np.float32)
    request = {"inputs": [{"name": "input-0", "shape": list(rows.shape), "datatype": "FP32",
                           "data": rows.ravel().tolist()}]}
    status, reply = post(f"{server}/v2/models/{name}/infer", request)
    assert status == 200, reply
    assert reply["model_name"] == name
    assert_same_predictions(reply["outputs"][0]["data"], expected[:5])


def test_metrics_for_prometheus(server: str, test_set) -> None:
    name = serve.model_name()
    post(f"{server}/v1/models/{name}:predict", {"instances": test_set[0][:1].tolist()})
    status, body = get(f"{server}/metrics")
    assert status == 200
    assert f'request_predict_seconds_count{{model_name="{name}"}}' in body.decode()
    # verify's checks: per-version counters, and (classifiers) the score histogram on the
    # bucket edges jx-mlops fills ${score_reference} with.
    text = body.decode()
    assert f'jx_mlops_requests_total{{model="{name}",version="' in text
    score = f'jx_mlops_prediction_score_bucket{{le="0.5",model="{name}",version="'
    assert (score in text) == (common.TASK == "classification")
