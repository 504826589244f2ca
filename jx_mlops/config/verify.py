"""The ``verify:`` block of an environment in mlops.yaml: production checks after promotion.

```yaml
verify:
  prometheus: http://127.0.0.1:9090       # Prometheus HTTP API base URL
  checks:
    - name: serving
      query: min(up{job="churn-model"})   # one scalar, or a one-sample vector
      min: 1                              # and/or max
  within: 30m                             # the window after each promotion
  on_failure: rollback                    # rollback | hold | report
```

Queries may name ``${model}``, ``${version}`` and ``${environment}``: they are replaced by
the model, the version running there and the environment being verified.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal, cast

from jx_mlops.errors import ConfigError
from jx_mlops.yamlio import cut

OnFailure = Literal["rollback", "hold", "report"]
_CHECK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_URL = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@dataclass(frozen=True)
class VerifyCheck:
    """One PromQL query whose value must stay within ``min``/``max``."""

    name: str
    query: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class VerifyConfig:
    """How one environment is verified after each promotion."""

    prometheus: str
    checks: tuple[VerifyCheck, ...]
    within: int = 1800
    on_failure: OnFailure = "rollback"


def _fail(file: str, where: str, expected: str, value: Any) -> ConfigError:
    """The same one line as mlops.yaml's other errors (see ``config``)."""
    got = "nothing" if value is None else cut(value)
    return ConfigError(f"{file}: {where}: expected {expected}, got {got}")


def _keys(value: Any, file: str, where: str, allowed: tuple[str, ...],
          required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(file, where, "a mapping", value)
    for key in value:
        if key not in allowed:
            raise ConfigError(f"{file}: {where}.{key}: unknown key (expected one of: "
                              f"{', '.join(allowed)})")
    for key in required:
        if value.get(key) is None:
            raise ConfigError(f"{file}: {where}.{key}: expected a value (this key is required)")
    return value


def _number(value: Any, file: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise _fail(file, where, "a finite number", value)
    return float(value)


def _string(value: Any, file: str, where: str, pattern: re.Pattern[str], expected: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise _fail(file, where, expected, value)
    return value


def duration_seconds(value: Any, file: str, where: str) -> int:
    """``90`` (seconds), ``30m``, ``24h``, ``2d`` or ``1h30m`` as seconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION.match(value) if isinstance(value, str) and value else None
    if not match:
        raise _fail(file, where, "a duration such as 30m, 24h or 2d (or seconds)", value)
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _check(value: Any, file: str, where: str) -> VerifyCheck:
    data = _keys(value, file, where, ("name", "query", "min", "max"), ("name", "query"))
    query = data["query"]
    if not isinstance(query, str) or not query.strip() or len(query) > 4000:
        raise _fail(file, f"{where}.query", "a PromQL query (at most 4000 characters)", query)
    check = VerifyCheck(
        name=_string(data["name"], file, f"{where}.name", _CHECK_NAME,
                     "a short name (letters, digits, . _ -)"),
        query=query.strip(), min=_number(data.get("min"), file, f"{where}.min"),
        max=_number(data.get("max"), file, f"{where}.max"))
    if check.min is None and check.max is None:
        raise ConfigError(f"{file}: {where}: expected min and/or max (the bounds the query's "
                          "value must stay within)")
    if check.min is not None and check.max is not None and check.min > check.max:
        raise _fail(file, f"{where}.min", f"a value <= max ({check.max:g})", check.min)
    return check


def read_verify(value: Any, file: str, where: str) -> VerifyConfig | None:
    """The validated ``verify:`` block at ``where`` (None when there is none)."""
    if value is None:
        return None
    data = _keys(value, file, where, ("prometheus", "checks", "within", "on_failure"),
                 ("prometheus", "checks"))
    checks = data["checks"]
    if not isinstance(checks, list) or not checks:
        raise _fail(file, f"{where}.checks", "a non-empty list of checks", checks)
    parsed = tuple(_check(item, file, f"{where}.checks[{i}]") for i, item in enumerate(checks))
    names = [c.name for c in parsed]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{file}: {where}.checks: duplicate name {name!r}")
    on_failure = data.get("on_failure", "rollback")
    if on_failure not in ("rollback", "hold", "report"):
        raise _fail(file, f"{where}.on_failure", "'rollback', 'hold' or 'report'", on_failure)
    return VerifyConfig(
        prometheus=_string(data["prometheus"], file, f"{where}.prometheus", _URL,
                           "a Prometheus URL such as http://127.0.0.1:9090").rstrip("/"),
        checks=parsed,
        within=duration_seconds(data.get("within", 1800), file, f"{where}.within"),
        on_failure=cast(OnFailure, on_failure))
