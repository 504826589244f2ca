"""The portable model: does ONNX Runtime predict what the native model predicts?

Serving often runs the ONNX export, not the training framework, so the largest
difference between the two on the test set is a metric with a gate in mlops.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort


def onnx_session(path: str | Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_onnx(session: ort.InferenceSession, x: np.ndarray, output: str) -> np.ndarray:
    """Output ``output`` of the model for input matrix ``x`` (float32)."""
    feed = {session.get_inputs()[0].name: x.astype(np.float32)}
    return np.asarray(session.run([output], feed)[0])


def parity(native: np.ndarray, exported: np.ndarray, task: str,
           threshold: float = 0.5) -> dict[str, Any]:
    """How far ONNX Runtime's predictions are from the native model's (same inputs)."""
    native = np.asarray(native, dtype=float).ravel()
    exported = np.asarray(exported, dtype=float).ravel()
    result: dict[str, Any] = {"onnx_max_abs_diff": float(np.max(np.abs(native - exported)))}
    if task == "classification":
        result["onnx_prediction_agreement"] = float(
            np.mean((native > threshold) == (exported > threshold)))
    return result
