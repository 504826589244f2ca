"""The model's framework (PyTorch): the network, save, load, predict, ONNX, serve.

The network standardises its inputs itself, so models/model.onnx takes the raw feature
rows. KServe serves the ONNX export (modelFormat `onnx`), so no PyTorch is needed in
the cluster; models/model.pt (weights) is what the evaluate and export stages load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

KSERVE_FORMAT = "onnx"
MODEL_FILE = "models/model.pt"
ONNX_FILE = "models/model.onnx"
# The file the InferenceService serves (the model artifact of dvc.yaml and mlops.yaml).
SERVING_FILE = ONNX_FILE
# The ONNX model answers with the probability of readmission: eval's y_score.
SERVED = "y_score"


class Classifier(nn.Module):
    """Standardise, two hidden layers, one logit; ``forward`` gives the probability."""

    def __init__(self, n_features: int, hidden: int, mean: Any, std: Any) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.asarray(std), dtype=torch.float32)
                             .clamp_min(1e-6))
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden // 2), nn.ReLU(),
            nn.Linear(hidden // 2, 1))
        self.n_features = n_features
        self.hidden = hidden

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers((x - self.mean) / self.std).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


def save(net: Classifier, path: str = MODEL_FILE) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"n_features": net.n_features, "hidden": net.hidden,
                "state_dict": net.state_dict()}, path)


def load(path: str = MODEL_FILE) -> Classifier:
    saved = torch.load(path, weights_only=True)  # tensors and numbers only: no code runs
    net = Classifier(saved["n_features"], saved["hidden"], np.zeros(saved["n_features"]),
                     np.ones(saved["n_features"]))
    net.load_state_dict(saved["state_dict"])
    return net.eval()


def predict(net: Classifier, x: np.ndarray) -> np.ndarray:
    """The probability of readmission for each row."""
    with torch.no_grad():
        return net(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy().astype(float)


def to_onnx(net: Classifier, x: np.ndarray) -> bytes:
    example = torch.from_numpy(np.asarray(x[:2], dtype=np.float32))
    program = torch.onnx.export(
        net, (example,), input_names=["input"], output_names=["probability"],
        dynamic_shapes=({0: torch.export.Dim("batch")},), dynamo=True, verbose=False)
    return bytes(program.model_proto.SerializeToString())


def onnx_predict(session: Any, x: np.ndarray) -> np.ndarray:
    from kit.portability import run_onnx

    return run_onnx(session, x, "probability").ravel()


def load_for_serving(model_dir: Path) -> Any:
    """As KServe's ONNX runtime: the one .onnx file of the directory."""
    # kit.serving is imported here, not at the top: it imports kserve (about 1.6 s of
    # CPU), which the pipeline's stages that import model_io never need.
    from kit.portability import onnx_session
    from kit.serving import model_file

    return onnx_session(model_file(model_dir, (".onnx",)))


def serve_predict(session: Any, x: np.ndarray) -> list[Any]:
    return [float(v) for v in onnx_predict(session, x)]


# The served predictions are the positive-class scores (eval's y_score): the service's
# score histogram, which verify's drift check compares with the evaluation's, reads them.
serve_scores = serve_predict
