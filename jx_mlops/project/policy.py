"""A first metric policy from metric names alone (pure): which way is better, if the name
says it, with a small tolerance. Anything else stays undirected until a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from jx_mlops.compare.policy import Direction

HIGHER = frozenset({"accuracy", "acc", "auc", "roc_auc", "avg_prec", "ap", "f1", "precision",
                    "recall", "r2", "map", "ndcg", "iou", "dice", "bleu", "rouge"})
LOWER = frozenset({"loss", "error", "mse", "rmse", "mae", "mape", "logloss", "perplexity",
                   "wer", "cer"})
# 1% of the base value: noise for a metric near 0.9 is about 0.009, and a relative
# tolerance suits losses of any scale.
REL_TOLERANCE = 0.01


@dataclass(frozen=True)
class MetricGuess:
    """A metric (``FILE:dotted.key``) and the direction its name gives, if any."""

    key: str
    direction: Direction | None
    because: str = ""


def _words(name: str) -> list[str]:
    """Dotted components, last first: ``roc_auc.test`` says roc_auc, ``train.loss`` loss."""
    return [part.lower() for part in reversed(name.replace("/", ".").split("."))]


def guess_policy(key: str) -> MetricGuess:
    """The direction of ``FILE:name`` from the last dotted component that names one."""
    name = key.split(":", 1)[-1]
    for word in _words(name):
        # val_loss, test_acc, acc_test: a known name with a split prefix or suffix.
        for candidate in dict.fromkeys((word, word.rsplit("_", 1)[-1], word.split("_")[0])):
            if candidate in HIGHER:
                return MetricGuess(key, "higher", candidate)
            if candidate in LOWER:
                return MetricGuess(key, "lower", candidate)
    return MetricGuess(key, None)
