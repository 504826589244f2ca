"""A DVC repository laid out like DVC's get-started example, built with DVC itself.

The evaluate stage writes one cached directory output, ``eval/``: metrics.json (nested,
as dvclive writes it), sklearn-style ROC and confusion plots, an image, and dvclive's
``plots/metrics`` directory of TSV files. dvc.yaml declares top-level metrics and plots
(with x/y mappings over two files and the confusion template) and an ``artifacts:`` model.
Two commits: ``good`` and ``worse`` (roc_auc falls from 0.93 to 0.80).
"""

from __future__ import annotations

from pathlib import Path

from kit.dvc import dvc
from kit.git import git

DVC_YAML = """\
stages:
  train:
    cmd: python src/train.py
    deps:
    - src/train.py
    params:
    - train.quality
    - train.seed
    outs:
    - model.pkl
  evaluate:
    cmd: python src/evaluate.py
    deps:
    - model.pkl
    - src/evaluate.py
    outs:
    - eval
metrics:
- eval/metrics.json
plots:
- ROC:
    template: simple
    x: fpr
    y:
      eval/plots/sklearn/roc/train.json: tpr
      eval/plots/sklearn/roc/test.json: tpr
- Confusion-Matrix:
    template: confusion
    x: actual
    y:
      eval/plots/sklearn/cm/test.json: predicted
- eval/plots/images/importance.png
- eval/plots/metrics:
    x: step
artifacts:
  text-classification:
    path: model.pkl
    type: model
    desc: Detect whether a question should have the R tag
    labels:
    - nlp
"""

TRAIN = """\
import json, yaml
params = yaml.safe_load(open("params.yaml"))["train"]
open("model.pkl", "w").write(json.dumps(params))
"""

# Deterministic numbers from the "model" (its quality param), in dvclive's layouts.
EVALUATE = """\
import json, os
q = json.load(open("model.pkl"))["quality"]
os.makedirs("eval/plots/sklearn/roc", exist_ok=True)
os.makedirs("eval/plots/sklearn/cm", exist_ok=True)
os.makedirs("eval/plots/images", exist_ok=True)
os.makedirs("eval/plots/metrics/train", exist_ok=True)
metrics = {"avg_prec": {"train": round(q + 0.03, 4), "test": round(q - 0.02, 4)},
           "roc_auc": {"train": round(q + 0.04, 4), "test": q}}
json.dump(metrics, open("eval/metrics.json", "w"), indent=4)
for split, shift in (("train", 0.05), ("test", 0.0)):
    roc = [{"fpr": f / 10, "tpr": round(min(1.0, (f / 10) ** (1 - q - shift)), 4),
            "threshold": 1 - f / 10} for f in range(11)]
    json.dump({"roc": roc}, open(f"eval/plots/sklearn/roc/{split}.json", "w"))
cm = [{"actual": str(a), "predicted": str(p)} for a, p in
      [(0, 0)] * int(40 * q) + [(0, 1)] * int(40 * (1 - q)) + [(1, 1)] * int(20 * q)
      + [(1, 0)] * int(20 * (1 - q))]
json.dump(cm, open("eval/plots/sklearn/cm/test.json", "w"))
open("eval/plots/images/importance.png", "wb").write(b"\\x89PNG\\r\\n\\x1a\\n")
with open("eval/plots/metrics/train/loss.tsv", "w") as f:
    f.write("timestamp\\tstep\\tloss\\n")
    for step in range(5):
        f.write(f"{1700000000 + step}\\t{step}\\t{round((1 - q) / (step + 1), 4)}\\n")
"""


def set_quality(root: Path, quality: float) -> None:
    (root / "params.yaml").write_text(f"train:\n  quality: {quality}\n  seed: 7\n")


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD")


def build_get_started(root: Path) -> dict[str, str]:
    """Build the repository; returns the commit shas by name (``good``, ``worse``)."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(TRAIN)
    (root / "src" / "evaluate.py").write_text(EVALUATE)
    (root / "dvc.yaml").write_text(DVC_YAML)
    set_quality(root, 0.93)
    dvc(root, "repro", "-q")
    shas = {"good": commit(root, "good model")}
    set_quality(root, 0.80)
    dvc(root, "repro", "-q")
    shas["worse"] = commit(root, "worse model")
    return shas
