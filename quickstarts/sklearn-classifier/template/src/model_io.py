"""The model's framework (scikit-learn): save, load, predict, export to ONNX, serve.

models/model.pkl is a plain scikit-learn estimator, pickled: KServe's sklearn server
(modelFormat `sklearn`) loads it as it is, so nothing of this project's code is needed to
serve it.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

KSERVE_FORMAT = "sklearn"
MODEL_FILE = "models/model.pkl"
# The file the InferenceService serves (the model artifact of dvc.yaml and mlops.yaml).
SERVING_FILE = MODEL_FILE
ONNX_FILE = "models/model.onnx"
# KServe's sklearn server answers with model.predict(): the decisions, eval's y_pred.
SERVED = "y_pred"


def save(model: Any, path: str = MODEL_FILE) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(model, handle)


def load(path: str = MODEL_FILE) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """The probability of the positive class for each row."""
    return np.asarray(model.predict_proba(x)[:, 1], dtype=float)


def to_onnx(model: Any, x: np.ndarray) -> bytes:
    from skl2onnx import to_onnx as convert

    # zipmap off: probabilities as a plain tensor, which any ONNX runtime can read.
    onnx_model = convert(model, x[:1], options={id(model): {"zipmap": False}})
    return onnx_model.SerializeToString()


def onnx_predict(session: Any, x: np.ndarray) -> np.ndarray:
    from kit.portability import run_onnx

    return run_onnx(session, x, "probabilities")[:, 1]


def load_for_serving(model_dir: Path) -> Any:
    """As KServe's sklearn server: the one .joblib/.pkl/.pickle file of the directory."""
    # kit.serving is imported here, not at the top: it imports kserve (about 1.6 s of
    # CPU), which the pipeline's stages that import model_io never need.
    import joblib
    from kit.serving import model_file

    return joblib.load(model_file(model_dir, (".joblib", ".pkl", ".pickle")))


def serve_predict(model: Any, x: np.ndarray) -> list[Any]:
    return [int(v) for v in model.predict(x)]


def serve_scores(model: Any, x: np.ndarray) -> list[float]:
    """The positive-class score of each served row (eval's y_score), for the service's
    score histogram: verify's drift check compares it with the evaluation's."""
    return [float(v) for v in model.predict_proba(x)[:, 1]]
