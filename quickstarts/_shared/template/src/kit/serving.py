"""The model service on KServe's own model server (the ``kserve`` SDK).

In a cluster, KServe's stock runtime for the project's format (sklearn, lightgbm, or
ONNX) loads the file the pipeline writes: no code of this project runs there. Here the
same file is loaded the way that runtime loads it, into a :class:`kserve.Model` served by
:class:`kserve.ModelServer`, the server those runtimes are built on, so the project's
tests exercise the real protocol handling, not an imitation of it:

- V1: ``POST /v1/models/NAME:predict`` with ``{"instances": [[f1, f2, ...], ...]}`` ->
  ``{"predictions": [...]}``; ``GET /v1/models/NAME`` says whether it is ready;
- V2 (Open Inference Protocol): ``POST /v2/models/NAME/infer`` with one FP32 input of
  shape ``[rows, features]`` -> ``{"outputs": [...]}``; ``GET /v2/models/NAME/ready``;
- ``GET /metrics``: KServe's own latency histograms (labelled ``model_name`` only), and
  this service's counters labelled ``model`` and ``version`` (the version from the
  ``MODEL_VERSION`` environment variable, ``unversioned`` without it), which the
  ``verify:`` checks of mlops.yaml use: ``jx_mlops_requests_total``,
  ``jx_mlops_request_errors_total`` (a failure of the model, not a refused request),
  ``jx_mlops_invalid_requests_total``, ``jx_mlops_request_seconds`` (a histogram) and, for
  classifiers, ``jx_mlops_predictions_total`` by predicted ``class`` and the histogram
  ``jx_mlops_prediction_score`` of the positive-class score of each row (buckets
  ``SCORE_BUCKETS``: verify's score-drift check compares it with the version's
  evaluation-time scores, ``${score_reference}``). Every series exists at 0 from the start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kserve
import numpy as np
from kserve.errors import InvalidInput
from kserve.utils.utils import get_predict_input, get_predict_response
from prometheus_client import Counter, Histogram


def model_file(model_dir: Path, extensions: tuple[str, ...]) -> Path:
    """The one file of ``model_dir`` with one of ``extensions``, as KServe's servers pick it
    (none, or more than one, is an error there too)."""
    found = sorted(p for p in model_dir.iterdir() if p.is_file() and p.name.endswith(extensions))
    if len(found) != 1:
        raise FileNotFoundError(f"{model_dir}: expected exactly one model file "
                                f"({', '.join(extensions)}), found {[p.name for p in found]}")
    return found[0]


_LABELS = ("model", "version")
REQUESTS = Counter("jx_mlops_requests", "Prediction requests", _LABELS)
ERRORS = Counter("jx_mlops_request_errors", "Requests the model failed", _LABELS)
INVALID = Counter("jx_mlops_invalid_requests", "Requests refused as invalid", _LABELS)
PREDICTIONS = Counter("jx_mlops_predictions", "Predictions by class", (*_LABELS, "class"))
LATENCY = Histogram("jx_mlops_request_seconds", "Prediction latency", _LABELS,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# The edges jx-mlops fills ${score_reference} with (le="0.1" ... "1.0", "+Inf").
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
SCORES = Histogram("jx_mlops_prediction_score", "Positive-class score of each row", _LABELS,
                   buckets=SCORE_BUCKETS)


class Model(kserve.Model):
    """A named model: ``load_fn()`` returns the loaded model, ``predict_fn(model, x)`` its
    predictions for a float32 matrix as a list, ``score_fn(model, x)`` (classifiers) the
    positive-class score of each row, observed in ``jx_mlops_prediction_score``."""

    def __init__(self, name: str, n_features: int, load_fn: Callable[[], Any],
                 predict_fn: Callable[[Any, np.ndarray], list[Any]],
                 score_fn: Callable[[Any, np.ndarray], list[float]] | None = None) -> None:
        super().__init__(name)
        self.n_features = n_features
        self._load_fn = load_fn
        self._predict_fn = predict_fn
        self._score_fn = score_fn
        self._model: Any = None
        self.version = os.environ.get("MODEL_VERSION") or "unversioned"
        # Series at 0 from the start: a rate has two samples once the server was scraped
        # twice, so traffic before the first scrape still counts.
        metrics = (REQUESTS, ERRORS, INVALID, LATENCY, *((SCORES,) if score_fn else ()))
        for metric in metrics:
            metric.labels(name, self.version)

    def load(self) -> bool:
        self._model = self._load_fn()
        self.ready = True
        return self.ready

    def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        """V1 (a dict) or V2 (an ``InferRequest``) in, the same protocol out."""
        if not self.ready:
            self.load()
        labels = (self.name, self.version)
        REQUESTS.labels(*labels).inc()
        started = time.perf_counter()
        try:
            rows = self.instances(payload)
            predictions = self._predict_fn(self._model, rows)
            scores = self._score_fn(self._model, rows) if self._score_fn else []
        except InvalidInput:
            INVALID.labels(*labels).inc()
            raise
        except Exception:
            ERRORS.labels(*labels).inc()
            raise
        finally:
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        for value in predictions:
            if isinstance(value, (int, np.integer, str)):
                PREDICTIONS.labels(*labels, str(value)).inc()
        for score in scores:
            SCORES.labels(*labels).observe(float(score))
        return get_predict_response(payload, np.asarray(predictions), self.name)

    def instances(self, payload: Any) -> np.ndarray:
        """The request's rows as a float32 matrix; InvalidInput (HTTP 400) otherwise."""
        try:
            rows = get_predict_input(payload)
        except (KeyError, IndexError, TypeError, AttributeError):
            raise InvalidInput('expected {"instances": [[feature, ...], ...]} (V1) or one '
                               "FP32 input of shape [rows, features] (V2)") from None
        try:
            matrix = np.asarray(rows, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidInput("instances must be rows of numbers") from None
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features or not len(matrix):
            raise InvalidInput(f"each instance needs {self.n_features} numbers "
                               "(data/prepared/features.json lists them in order)")
        return matrix


def run(model: Model) -> None:
    """Serve ``model`` over HTTP until stopped (``--http_port PORT``, default 8080: KServe's
    own option, read by ``kserve.ModelServer``)."""
    model.load()
    kserve.ModelServer(enable_grpc=False).start([model])
