"""Formatting shared by every renderer: numbers, deltas, status labels (pure)."""

from __future__ import annotations

import json
import math
from typing import Any

from jx_mlops.compare.metrics import MetricDelta

STATUS_ICONS = {
    "improved": "🟢", "regressed": "🔴", "within_tolerance": "🟡", "within_noise": "🟡",
    "unchanged": "⚪",
    "changed": "🔵", "new": "🆕", "removed": "🗑️", "failed_threshold": "⛔",
    "unreadable": "❔",
}
STATUS_ORDER = ("failed_threshold", "regressed", "unreadable", "within_noise",
                "within_tolerance", "improved", "changed", "new", "removed", "unchanged")


def format_number(value: float) -> str:
    """Four significant decimals, plain notation for everyday magnitudes."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def format_value(value: Any, kind: str | None) -> str:
    """A metric or param value as text; absent values are an em dash."""
    if kind is None:
        return "—"
    if kind in ("number", "nan", "inf", "bool"):
        return format_number(value)
    if kind == "null":
        return "null"
    if kind == "string":
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def format_delta(delta: MetricDelta) -> str:
    """'+0.0190 (+2.1%)', or an em dash when no numeric change exists."""
    if delta.delta is None:
        return "—"
    if delta.delta == 0:
        return "0"
    text = format_number(delta.delta)
    if delta.delta > 0:
        text = "+" + text
    if delta.rel_delta is not None:
        text += f" ({delta.rel_delta:+.1%})"
    return text


def status_label(status: str) -> str:
    return status.replace("_", " ")


def json_value(value: Any) -> Any:
    """JSON has no NaN or infinity: they travel as the strings 'NaN', 'Infinity', '-Infinity'."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value
