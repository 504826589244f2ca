"""Score an ONNX export that may come from an untrusted pull request, with onnxruntime only.

The file is data: it is size-bounded, parsed and checked by ``onnx`` (graph, operator
sets) before onnxruntime sees it, and it may not point at external weight files (which
would make onnxruntime read paths of this machine). Neither ``onnx`` nor onnxruntime
executes Python from the model, and no pickle is ever loaded: this is what lets the job
that holds secrets score a fork's model.

Which output is the score: a float output named like ``probabilities`` (two columns: the
second is class 1) or ``probability`` makes a classifier, as do a float and an integer
(label) output side by side; a single float output is a regressor's prediction. These are
what skl2onnx, onnxmltools and torch.onnx export for the quickstarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from jx_mlops.compare.modelmetrics import Array, Task
from jx_mlops.errors import JxMlopsError
from jx_mlops.yamlio import shorten

MAX_ONNX_BYTES = 256 * 1024 * 1024
# The standard operator sets onnxruntime implements; anything else would be a custom op.
_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "com.microsoft")
_FLOAT = ("tensor(float)", "tensor(double)", "tensor(float16)")


class OnnxScoringError(JxMlopsError):
    """The ONNX export cannot be scored; the message says why, in one line."""


@dataclass(frozen=True)
class OnnxModel:
    """A checked ONNX model, ready to score: its session, task and score output."""

    session: Any
    task: Task
    output: str
    inputs: int | None  # the input's column count when the graph fixes it


def _runtime() -> tuple[Any, Any]:
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise OnnxScoringError(
            f"scoring ONNX exports needs onnx and onnxruntime ({exc.name} is missing): "
            "pip install 'jx-mlops[scoring]'") from None
    return onnx, onnxruntime


def _check(onnx: Any, data: bytes, where: str) -> Any:
    if len(data) > MAX_ONNX_BYTES:
        raise OnnxScoringError(f"{where}: {len(data):,} bytes, more than the "
                               f"{MAX_ONNX_BYTES:,} an ONNX export may have here")
    try:
        model = onnx.load_model_from_string(data)
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises DecodeError, ValidationError and others
        first = shorten(str(exc).strip().splitlines()[0], 200) if str(exc).strip() else type(exc)
        raise OnnxScoringError(f"{where}: not a valid ONNX model: {first}") from None
    from onnx.external_data_helper import uses_external_data

    tensors = list(model.graph.initializer)
    if any(uses_external_data(t) for t in tensors):
        raise OnnxScoringError(f"{where}: refers to external weight files; only "
                               "self-contained ONNX models are scored")
    unknown = sorted({o.domain for o in model.opset_import} - set(_DOMAINS))
    if unknown:
        raise OnnxScoringError(f"{where}: uses custom operator domains {unknown[:3]}")
    return model


def _score_output(outputs: list[Any], where: str) -> tuple[Task, str]:
    floats = [o for o in outputs if o.type in _FLOAT]
    if not floats:
        raise OnnxScoringError(f"{where}: no floating-point output to score")
    named = [o for o in floats if "probabilit" in o.name.lower()]
    if named:
        return "classification", named[0].name
    if len(floats) < len(outputs):  # a float beside a label: the class probabilities
        return "classification", floats[0].name
    return "regression", floats[0].name


def load_onnx(data: bytes, where: str) -> OnnxModel:
    """Check ``data`` (an ONNX export, untrusted) and open it with onnxruntime's CPU
    provider; ``where`` names it in errors."""
    onnx, ort = _runtime()
    _check(onnx, data, where)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # its warnings are about the graph, not for a PR comment
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own exception types (Fail, InvalidGraph...)
        raise OnnxScoringError(f"{where}: onnxruntime cannot load it: "
                               f"{shorten(str(exc).splitlines()[0], 200)}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise OnnxScoringError(f"{where}: {len(inputs)} inputs; one feature matrix expected")
    task, output = _score_output(session.get_outputs(), where)
    shape = inputs[0].shape
    columns = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
    return OnnxModel(session, task, output, columns)


def predict(model: OnnxModel, x: Array, where: str) -> Array:
    """The score of each row of ``x``: class 1's probability, or the prediction."""
    if model.inputs is not None and model.inputs != x.shape[1]:
        raise OnnxScoringError(f"{where}: takes {model.inputs} features, the holdout gives "
                               f"{x.shape[1]} (evaluation.holdout_features)")
    name = model.session.get_inputs()[0].name
    try:
        out = np.asarray(model.session.run([model.output], {name: x.astype(np.float32)})[0],
                         dtype=np.float64)
    except Exception as exc:  # a shape or type the graph refuses
        raise OnnxScoringError(f"{where}: onnxruntime failed: "
                               f"{shorten(str(exc).splitlines()[0], 200)}") from None
    if out.ndim == 2 and out.shape[1] == 2 and model.task == "classification":
        out = out[:, 1]
    out = out.reshape(len(x), -1)
    if out.shape[1] != 1:
        raise OnnxScoringError(f"{where}: output {model.output!r} has {out.shape[1]} "
                               "columns; one score per row expected")
    return out.ravel()
