"""The model service: loads the model file as KServe's runtime does and predicts.

    MODEL_VERSION=v0.0.1 python src/serve.py [--http_port 8080]   # V1, V2, /metrics
    # then POST /v1/models/NAME:predict {"instances": [...]}
    #   or POST /v2/models/NAME/infer {"inputs": [{"name": "input-0", ...}]}

The InferenceService in the environment repository serves the same file with KServe's
stock runtime for model_io.KSERVE_FORMAT; tests/test_service.py checks that what this
service predicts, in both protocols, is what the evaluate stage measured.
"""

from __future__ import annotations

from pathlib import Path

import model_io
import yaml
from kit import data, serving


def model_name() -> str:
    """The first model of mlops.yaml: the InferenceService's name."""
    config = yaml.safe_load(Path("mlops.yaml").read_text(encoding="utf-8"))
    return str(next(iter(config["models"])))


def build(model_dir: str | Path = Path(model_io.SERVING_FILE).parent) -> serving.Model:
    """The service's model, not yet loaded."""
    return serving.Model(model_name(), len(data.features()),
                         lambda: model_io.load_for_serving(Path(model_dir)),
                         model_io.serve_predict, model_io.serve_scores)


if __name__ == "__main__":
    serving.run(build())
