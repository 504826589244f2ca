"""Metric directions guessed from metric names."""

from __future__ import annotations

import pytest

from jx_mlops.project.policy import guess_policy


@pytest.mark.parametrize(("name", "direction"), [
    ("roc_auc.test", "higher"), ("train.loss", "lower"), ("val_loss", "lower"),
    ("test/acc", "higher"), ("eval.rmse", "lower"), ("epoch", None), ("f1_macro", "higher"),
])
def test_directions_come_from_metric_names(name: str, direction: str | None) -> None:
    assert guess_policy(f"m.json:{name}").direction == direction


@pytest.mark.parametrize(("name", "direction"), [
    ("jaccard", "higher"), ("mean_iou", "higher"), ("iou_score", "higher"),
    ("dice_loss", "lower"), ("best.dice", "higher"), ("mAP50", "higher"),
    ("metrics/mAP50-95(B)", "higher"), ("metrics/precision(B)", "higher"),
    ("metrics/recall(B)", "higher"), ("recall@10", "higher"), ("precision_at_5", "higher"),
    ("ndcg@10", "higher"), ("mAP@0.5", "higher"), ("val/box_loss", "lower"),
    ("validation_loss", "lower"), ("error_rate", "lower"), ("fitness", None), ("lr", None),
])
def test_segmentation_detection_and_ranking_metrics_have_directions(name: str,
                                                                   direction: str | None
                                                                   ) -> None:
    assert guess_policy(f"m.json:{name}").direction == direction
