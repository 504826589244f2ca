"""A KServe-style model server for local use and tests (V1 inference protocol).

In a cluster, KServe's stock model server for the project's format (sklearn, lightgbm,
or ONNX) loads the file the pipeline writes: no code of this project runs there.
src/serve.py loads that same file the way that server does, and :class:`Model` mirrors
``kserve.Model`` (``load``, then ``predict`` on a V1 payload), so what the project's
tests check is what the InferenceService will serve.

V1 protocol: ``POST /v1/models/NAME:predict`` with ``{"instances": [[f1, f2, ...], ...]}``
returns ``{"predictions": [...]}``; ``GET /v1/models/NAME`` tells whether it is ready.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np


class InvalidInput(ValueError):
    """The request is not a V1 payload the model can take (HTTP 400)."""


def model_file(model_dir: Path, extensions: tuple[str, ...]) -> Path:
    """The one file of ``model_dir`` with one of ``extensions``, as KServe's servers pick it
    (none, or more than one, is an error there too)."""
    found = sorted(p for p in model_dir.iterdir() if p.is_file() and p.name.endswith(extensions))
    if len(found) != 1:
        raise FileNotFoundError(f"{model_dir}: expected exactly one model file "
                                f"({', '.join(extensions)}), found {[p.name for p in found]}")
    return found[0]


class Model:
    """A named model: ``load_fn()`` returns the loaded model, ``predict_fn(model, x)`` its
    predictions for a float32 matrix as a list."""

    def __init__(self, name: str, n_features: int, load_fn: Callable[[], Any],
                 predict_fn: Callable[[Any, np.ndarray], list[Any]]) -> None:
        self.name = name
        self.n_features = n_features
        self.ready = False
        self._load_fn = load_fn
        self._predict_fn = predict_fn
        self._model: Any = None

    def load(self) -> bool:
        self._model = self._load_fn()
        self.ready = True
        return self.ready

    def predict(self, payload: dict[str, Any],
                headers: dict[str, str] | None = None) -> dict[str, Any]:
        """V1 protocol: ``{"instances": rows}`` -> ``{"predictions": [...]}``."""
        if not self.ready:
            self.load()
        return {"predictions": self._predict_fn(self._model, self.instances(payload))}

    def instances(self, payload: Any) -> np.ndarray:
        rows = payload.get("instances", payload.get("inputs")) \
            if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not rows:
            raise InvalidInput('expected {"instances": [[feature, ...], ...]}')
        try:
            matrix = np.asarray(rows, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidInput("instances must be rows of numbers") from None
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise InvalidInput(f"each instance needs {self.n_features} numbers "
                               "(data/prepared/features.json lists them in order)")
        return matrix


def _handler(model: Model) -> type[BaseHTTPRequestHandler]:
    base = f"/v1/models/{model.name}"

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == base:
                self._reply(200, {"name": model.name, "ready": model.ready})
            else:
                self._reply(404, {"error": f"no model at {self.path}"})

        def do_POST(self) -> None:
            if self.path != f"{base}:predict":
                self._reply(404, {"error": f"no model at {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"null")
                self._reply(200, model.predict(payload))
            except (InvalidInput, json.JSONDecodeError) as exc:
                self._reply(400, {"error": str(exc)})

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and local runs do not need an access log

    return Handler


def start_server(model: Model, host: str = "127.0.0.1",
                 port: int = 8080) -> ThreadingHTTPServer:
    """Serve ``model`` in a background thread; ``server.server_address`` has the port."""
    model.load()
    server = ThreadingHTTPServer((host, port), _handler(model))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(model: Model, port: int = 8080) -> None:
    """Serve ``model`` on ``port`` until interrupted."""
    server = start_server(model, "0.0.0.0", port)
    print(f"serving {model.name} on http://localhost:{port}/v1/models/{model.name}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
