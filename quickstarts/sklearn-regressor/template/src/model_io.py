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
# KServe's sklearn server answers with model.predict(): eval's y_pred.
SERVED = "y_pred"


def save(model: Any, path: str = MODEL_FILE) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(model, handle)


def load(path: str = MODEL_FILE) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """The predicted annual cost (thousands) for each row."""
    return np.asarray(model.predict(x), dtype=float)


def to_onnx(model: Any, x: np.ndarray) -> bytes:
    from skl2onnx import to_onnx as convert

    return convert(model, x[:1]).SerializeToString()


def onnx_predict(session: Any, x: np.ndarray) -> np.ndarray:
    from kit.portability import run_onnx

    return run_onnx(session, x, session.get_outputs()[0].name).ravel()


def load_for_serving(model_dir: Path) -> Any:
    """As KServe's sklearn server: the one .joblib/.pkl/.pickle file of the directory."""
    # kit.serving is imported here, not at the top: it imports kserve (about 1.6 s of
    # CPU), which the pipeline's stages that import model_io never need.
    import joblib
    from kit.serving import model_file

    return joblib.load(model_file(model_dir, (".joblib", ".pkl", ".pickle")))


def serve_predict(model: Any, x: np.ndarray) -> list[Any]:
    return [float(v) for v in model.predict(x)]


# A regressor has no positive-class score: the service exports no score histogram, and
# mlops.yaml's verify: block has no score-drift check (docs/operations.md in jx-mlops).
serve_scores = None
