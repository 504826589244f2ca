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
