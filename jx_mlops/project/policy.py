"""A first metric policy from metric names alone (pure): which way is better, if the name
says it, with a small tolerance. Anything else stays undirected until a person decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jx_mlops.compare.policy import Direction

HIGHER = frozenset({"accuracy", "acc", "auc", "roc_auc", "avg_prec", "ap", "f1", "precision",
                    "recall", "r2", "map", "ndcg", "iou", "dice", "bleu", "rouge", "jaccard",
                    "miou", "fscore", "f1score", "sensitivity", "specificity", "mrr", "hit",
                    "hitrate", "psnr", "ssim", "kappa", "mcc"})
LOWER = frozenset({"loss", "error", "mse", "rmse", "mae", "mape", "logloss", "perplexity",
                   "wer", "cer", "fid", "hausdorff"})
# Detection and ranking metrics with a threshold or a cut-off in their name: mAP50,
# mAP50-95, map_75, AP@0.5, recall@10, precision_at_5, top1, top5_acc, ndcg@10, hit@20.
_HIGHER_FORMS = re.compile(r"^(?:m?ap|map|ndcg|mrr|hit|recall|precision|top)\d*$")
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
    """Components, last first: ``roc_auc.test`` says roc_auc, ``train/box_loss`` loss
    (dots and slashes separate; a YOLO ``metrics/mAP50-95(B)`` keeps its dash)."""
    return [part.lower() for part in reversed(re.split(r"[./]", name)) if part]


def _tokens(word: str) -> list[str]:
    """A component's parts, last first: ``val_loss`` -> loss, val; ``map50-95(b)`` ->
    b, 95, map50; ``recall@10`` -> 10, recall."""
    return [t for t in reversed(re.split(r"[_\-@()\s\[\]]+", word)) if t]


def _direction(candidate: str) -> Direction | None:
    if candidate in HIGHER or _HIGHER_FORMS.match(candidate):
        return "higher"
    if candidate in LOWER:
        return "lower"
    return None


def guess_policy(key: str) -> MetricGuess:
    """The direction of ``FILE:name`` from the last component that names one: the whole
    component first (``roc_auc``), then its parts, last first (``dice_loss`` is a loss,
    ``precision_macro`` a precision)."""
    name = key.split(":", 1)[-1]
    for word in _words(name):
        for candidate in dict.fromkeys((word, *_tokens(word))):
            direction = _direction(candidate)
            if direction is not None:
                return MetricGuess(key, direction, candidate)
    return MetricGuess(key, None)
