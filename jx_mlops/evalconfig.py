"""The ``evaluation:`` block of mlops.yaml: who scores a pull request's model.

```yaml
evaluation:
  trusted: evaluate      # the stage that scores models, run as the base branch has it
  mode: enforced         # enforced (default) | advisory
```

A pull request controls its own training, so left alone it controls its own metrics.
With ``trusted``, `ci pr` scores the PR's model with the *base branch's* version of that
stage (its command, code, params and the data it tracks itself; the model and
prepared data it consumes are the PR's), and the verdict uses those scores. When the
base's stage cannot score the PR's model (a new model format, a renamed output), the
verdict fails, unless ``mode: advisory`` lets the PR's own scores decide, flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from jx_mlops.compare.scoring import TrustedMode
from jx_mlops.errors import ConfigError
from jx_mlops.yamlio import cut

# DVC's own rule for stage names (letters, digits, '-', '_', '.', '@' of foreach items).
_STAGE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,99}$")


@dataclass(frozen=True)
class EvaluationConfig:
    """Trusted evaluation: ``trusted`` None means the PR's own metrics decide."""

    trusted: str | None = None
    mode: TrustedMode = "enforced"


def _fail(file: str, where: str, expected: str, value: Any) -> ConfigError:
    """The same one line as mlops.yaml's other errors (see ``config``)."""
    got = "nothing" if value is None else cut(value)
    return ConfigError(f"{file}: {where}: expected {expected}, got {got}")


def read_evaluation(value: Any, file: str) -> EvaluationConfig:
    """Parse the ``evaluation`` mapping (None: the block is absent)."""
    if value is None:
        return EvaluationConfig()
    if not isinstance(value, dict):
        raise _fail(file, "evaluation", "a mapping", value)
    allowed = ("trusted", "mode")
    for key in value:
        if key not in allowed:
            raise ConfigError(f"{file}: evaluation.{key}: unknown key (expected one of: "
                              f"{', '.join(allowed)})")
    stage = value.get("trusted")
    if stage is not None and (not isinstance(stage, str) or not _STAGE.match(stage)):
        raise _fail(file, "evaluation.trusted", "the name of a dvc.yaml stage", stage)
    mode = value.get("mode", "enforced")
    if mode not in ("enforced", "advisory"):
        raise _fail(file, "evaluation.mode", "'enforced' or 'advisory'", mode)
    if stage is None and "mode" in value:
        raise _fail(file, "evaluation.trusted", "a stage (mode applies to trusted evaluation)",
                    stage)
    return EvaluationConfig(trusted=stage, mode=cast(TrustedMode, mode))
