"""Stage `export`: the portable model (models/model.onnx) and its parity check.

ONNX Runtime runs the exported model on the test set; portability.json records the
largest difference from the native model's predictions (and, for classifiers, how often
both decide the same), gated in mlops.yaml.
"""

from __future__ import annotations

from pathlib import Path

import common
import model_io
from kit import data, portability


def main() -> None:
    test = data.read_table("data/prepared/test.csv")
    x = data.encode(test, data.features(), common.CATEGORIES)
    model = model_io.load()
    onnx_file = Path(model_io.ONNX_FILE)
    onnx_file.parent.mkdir(parents=True, exist_ok=True)
    onnx_file.write_bytes(model_io.to_onnx(model, x))
    session = portability.onnx_session(onnx_file)
    result = portability.parity(model_io.predict(model, x), model_io.onnx_predict(session, x),
                                common.TASK, data.params("evaluate").get("threshold", 0.5))
    data.write_json("portability.json", result)
    print(f"wrote {onnx_file} ({onnx_file.stat().st_size} bytes); {result}")


if __name__ == "__main__":
    main()
