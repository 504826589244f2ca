"""The model's framework (LightGBM): save, load, predict, export to ONNX, serve.

models/model.bst is LightGBM's own text format: KServe's lightgbm server (modelFormat
`lightgbm`) loads it with lightgbm.Booster and answers with the booster's predictions,
the probability of churn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

KSERVE_FORMAT = "lightgbm"
MODEL_FILE = "models/model.bst"
# The file the InferenceService serves (the model artifact of dvc.yaml and mlops.yaml).
SERVING_FILE = MODEL_FILE
ONNX_FILE = "models/model.onnx"
# KServe's lightgbm server answers with Booster.predict(): the scores, eval's y_score.
SERVED = "y_score"


def save(booster: lgb.Booster, path: str = MODEL_FILE) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(path)


def load(path: str = MODEL_FILE) -> lgb.Booster:
    return lgb.Booster(model_file=path)


def predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """The probability of churn for each row."""
    return np.asarray(booster.predict(x), dtype=float)


def to_onnx(booster: lgb.Booster, x: np.ndarray) -> bytes:
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    # zipmap off: probabilities as a plain tensor, which any ONNX runtime can read.
    onnx_model = convert_lightgbm(booster, initial_types=[
        ("input", FloatTensorType([None, x.shape[1]]))], zipmap=False)
    return onnx_model.SerializeToString()


def onnx_predict(session: Any, x: np.ndarray) -> np.ndarray:
    from kit.portability import run_onnx

    return run_onnx(session, x, "probabilities")[:, 1]


def load_for_serving(model_dir: Path) -> lgb.Booster:
    """As KServe's lightgbm server: the one .bst file of the directory."""
    # kit.serving is imported here, not at the top: it imports kserve (about 1.6 s of
    # CPU), which the pipeline's stages that import model_io never need.
    from kit.serving import model_file

    return lgb.Booster(model_file=str(model_file(model_dir, (".bst",))))


def serve_predict(booster: lgb.Booster, x: np.ndarray) -> list[Any]:
    return [float(v) for v in booster.predict(x)]


# The served predictions are the positive-class scores (eval's y_score): the service's
# score histogram, which verify's drift check compares with the evaluation's, reads them.
serve_scores = serve_predict
