"""The ``trusted`` block of a fork's report, read back by `ci publish` as untrusted data.

Like every other field of the artifact (see ``ci.publish``), each value is type- and
size-checked, and any surprise stops the publication with one line naming the field.
"""

from __future__ import annotations

import math
from typing import Any, cast

from jx_mlops.compare.scoring import SelfReported, TrustedEvaluation, TrustedMode
from jx_mlops.errors import ConfigError

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_MAX_ROWS = 5000


def _fail(where: str, field: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{where}: trusted.{field}: expected {expected}, got {value!r:.80}")


def _text(where: str, data: dict[str, Any], key: str, limit: int, *,
          optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(where, key, f"a string (<= {limit})", value)
    return value


def _scalar(where: str, field: str, value: Any) -> Any:
    """A metric value: a number (NaN and infinities as their JSON strings), a bool, a
    short string or null; nothing nested (a row is one metric)."""
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and len(value) <= 200:
        return value
    raise _fail(where, field, "a number, bool, short string or null", value)


def _row(where: str, row: Any, index: int) -> SelfReported:
    field = f"self_reported[{index}]"
    if not isinstance(row, dict):
        raise _fail(where, field, "an object", row)
    return SelfReported(
        model=cast(str, _text(where, row, "model", 100)),
        path=cast(str, _text(where, row, "path", 500)),
        name=cast(str, _text(where, row, "name", 500)),
        trusted=_scalar(where, f"{field}.trusted", row.get("trusted")),
        reported=_scalar(where, f"{field}.reported", row.get("reported")))


def trusted_from_json(data: Any, where: str) -> TrustedEvaluation | None:
    """Rebuild ``jsonout.trusted_to_json`` output, checking every field."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _fail(where, "", "an object or null", data)
    mode = data.get("mode")
    if mode not in ("enforced", "advisory"):
        raise _fail(where, "mode", "'enforced' or 'advisory'", mode)
    sha = _text(where, data, "base_sha", 64, optional=True)
    if sha is not None and not all(c in "0123456789abcdef" for c in sha):
        raise _fail(where, "base_sha", "a commit sha", sha)
    rows = data.get("self_reported") or []
    if not isinstance(rows, list) or len(rows) > _MAX_ROWS:
        raise _fail(where, "self_reported", f"a list of at most {_MAX_ROWS} rows", rows)
    problem = _text(where, data, "problem", 1000, optional=True)
    if data.get("scored") is not (problem is None):
        raise _fail(where, "scored", "true exactly when there is no problem",
                    data.get("scored"))
    return TrustedEvaluation(
        stage=cast(str, _text(where, data, "stage", 100)),
        base=cast(str, _text(where, data, "base", 250)), base_sha=sha,
        mode=cast(TrustedMode, mode), problem=problem,
        rows=tuple(_row(where, row, i) for i, row in enumerate(rows)),
        where=_text(where, data, "where", 500, optional=True))
