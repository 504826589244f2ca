"""The ``verify:`` block of an environment in mlops.yaml: production checks after promotion.

```yaml
verify:
  prometheus: http://127.0.0.1:9090       # Prometheus HTTP API base URL (optional)
  checks:
    - name: serving
      query: min(up{job="churn-model"})   # one scalar, or a one-sample vector
      min: 1                              # and/or max
  within: 30m                             # the window after each promotion
  on_failure: rollback                    # rollback | hold | report
  on_inconclusive: report                 # report | hold (never a rollback)
  inconclusive_limit: 3                   # inconclusive runs in a row before it acts
```

A check passes, fails (its value is outside its bounds) or is *inconclusive*: Prometheus
unreachable, a query error, no sample, several series or NaN say nothing of the model,
so they never roll back. ``inconclusive_limit`` runs in a row escalate as
``on_inconclusive`` says: ``report`` (the default) only says so, ``hold`` holds the version
(it keeps serving; promotions of it stop).

``prometheus`` may be left out: ``JX_MLOPS_PROMETHEUS_URL`` in the environment (a CI
variable or secret) supplies it, and overrides it when both are set. With neither, the
environment's verification is *not configured*: its checks do not run, and that is no
failure (a scheduled job runs from the day a project is created, before Prometheus is).

Queries may name ``${model}``, ``${version}`` and ``${environment}``: they are replaced by
the model, the version running there and the environment being verified.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal, cast

from jx_mlops.config.node import ConfigNode
from jx_mlops.errors import ConfigError

OnFailure = Literal["rollback", "hold", "report"]
OnInconclusive = Literal["hold", "report"]
_CHECK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_URL = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")
_URL_EXAMPLE = "a Prometheus URL such as http://127.0.0.1:9090"
PROMETHEUS_ENV = "JX_MLOPS_PROMETHEUS_URL"  # supplies or overrides verify.prometheus


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

    prometheus: str | None  # None: JX_MLOPS_PROMETHEUS_URL gives it, or it is not configured
    checks: tuple[VerifyCheck, ...]
    within: int = 1800
    on_failure: OnFailure = "rollback"
    on_inconclusive: OnInconclusive = "report"
    inconclusive_limit: int = 3


def _check(node: ConfigNode) -> VerifyCheck:
    node.mapping(("name", "query", "min", "max"), required=("name", "query"))
    check = VerifyCheck(
        name=node.child("name").string(_CHECK_NAME, "a short name (letters, digits, . _ -)"),
        query=node.child("query").string(
            what="a PromQL query (at most 4000 characters)", limit=4000).strip(),
        min=node.child("min").optional_number("a finite number"),
        max=node.child("max").optional_number("a finite number"))
    if check.min is None and check.max is None:
        raise node.error("expected min and/or max (the bounds the query's value must stay "
                         "within)")
    if check.min is not None and check.max is not None and check.min > check.max:
        raise node.child("min").fail(f"a value <= max ({check.max:g})")
    return check


def read_verify(node: ConfigNode) -> VerifyConfig | None:
    """The validated ``verify:`` block of an environment (None when there is none)."""
    if node.value is None:
        return None
    node.mapping(("prometheus", "checks", "within", "on_failure", "on_inconclusive",
                  "inconclusive_limit"), required=("checks",))
    checks_node = node.child("checks")
    checks = tuple(_check(item) for item in checks_node.sequence(
        "a non-empty list of checks", non_empty=True))
    names = [c.name for c in checks]
    for name in names:
        if names.count(name) > 1:
            raise checks_node.error(f"duplicate name {name!r}")
    return VerifyConfig(
        prometheus=node.child("prometheus").optional(
            lambda n: n.string(_URL, _URL_EXAMPLE).rstrip("/"), None),
        checks=checks,
        within=node.child("within").optional(ConfigNode.duration, 1800),
        on_failure=cast(OnFailure, node.child("on_failure").optional(
            lambda n: n.choice("rollback", "hold", "report",
                               what="'rollback', 'hold' or 'report'"), "rollback")),
        on_inconclusive=cast(OnInconclusive, node.child("on_inconclusive").optional(
            lambda n: n.choice("report", "hold", what="'report' or 'hold'"), "report")),
        inconclusive_limit=node.child("inconclusive_limit").optional(
            lambda n: n.integer(1, "a whole number >= 1"), 3))


def prometheus_from_env() -> str | None:
    """``JX_MLOPS_PROMETHEUS_URL`` when set (empty: unset, as a CI variable nobody defined
    renders), validated as ``verify.prometheus`` is."""
    value = os.environ.get(PROMETHEUS_ENV, "").strip()
    if not value:
        return None
    if not _URL.match(value):
        raise ConfigError(f"{PROMETHEUS_ENV}={value!r}: expected {_URL_EXAMPLE}")
    return value.rstrip("/")


def prometheus_url(verify: VerifyConfig) -> str | None:
    """The Prometheus an environment's checks query: the environment variable's, else
    mlops.yaml's (None: not configured)."""
    return prometheus_from_env() or verify.prometheus
