"""The one adapter to Prometheus: an instant query through its HTTP API.

``GET /api/v1/query?query=...`` answers ``{"status": "success", "data": {"resultType":
..., "result": ...}}``; a check needs one number, so a scalar or a vector with exactly one
sample is an answer, and anything else (no sample, several series, a string, an error,
an unreachable server) is a :class:`QueryFailure` whose reason is the line a user reads.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from jx_mlops.yamlio import json_loads, shorten

MAX_RESPONSE = 1 << 20  # one instant query for one number: a megabyte is plenty


@dataclass(frozen=True)
class QueryResult:
    """A query's value (``None`` with ``reason`` when it has no usable one)."""

    value: float | None
    reason: str = ""


def _value(sample: Any) -> float | None:
    """``[timestamp, "value"]`` as a float (Prometheus sends values as strings)."""
    if not isinstance(sample, list) or len(sample) != 2 or not isinstance(sample[1], str):
        return None
    try:
        return float(sample[1])
    except ValueError:
        return None


def _interpret(data: Any) -> QueryResult:
    if not isinstance(data, dict) or data.get("status") != "success":
        error = data.get("error") if isinstance(data, dict) else None
        return QueryResult(None, f"Prometheus refused the query: {shorten(str(error), 200)}")
    body = data.get("data")
    kind = body.get("resultType") if isinstance(body, dict) else None
    result = body.get("result") if isinstance(body, dict) else None
    if kind == "scalar":
        value = _value(result)
    elif kind == "vector" and isinstance(result, list):
        if not result:
            return QueryResult(None, "the query returned no sample")
        if len(result) > 1:
            return QueryResult(None, f"the query returned {len(result)} series; aggregate "
                                     "it to one (e.g. min(...) or sum(...))")
        value = _value(result[0].get("value") if isinstance(result[0], dict) else None)
    else:
        return QueryResult(None, f"the query returned a {kind}, not a number")
    if value is None:
        return QueryResult(None, "the query's value is not a number")
    if math.isnan(value):
        return QueryResult(None, "the query's value is NaN")
    return QueryResult(value)


def query(base_url: str, promql: str, *, timeout: float = 10.0) -> QueryResult:
    """The value of ``promql`` now, from the Prometheus at ``base_url``."""
    url = f"{base_url.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            raw = response.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        # Prometheus answers a bad query with 400 and its JSON error body.
        try:
            return _interpret(json_loads(exc.read(MAX_RESPONSE)))
        except ValueError:
            return QueryResult(None, f"Prometheus at {base_url} answered HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return QueryResult(None, f"Prometheus at {base_url} is unreachable: {reason}")
    if len(raw) > MAX_RESPONSE:
        return QueryResult(None, "Prometheus' answer is larger than 1 MiB")
    try:
        return _interpret(json_loads(raw))
    except ValueError:
        return QueryResult(None, f"Prometheus at {base_url} did not answer JSON")
