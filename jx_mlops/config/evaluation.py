"""The ``evaluation:`` block of mlops.yaml: who scores a pull request's model.

```yaml
evaluation:
  trusted: evaluate      # the stage that scores models, run as the base branch has it
  mode: enforced         # enforced (default) | advisory
  holdout: data/holdout.csv      # a CSV tracked by data/holdout.csv.dvc on the base branch
  holdout_remote: sealed         # the DVC remote only the trusted job can read
  holdout_target: approved       # the label column
  holdout_features: [age, income]  # the model's input columns, in order (optional)
```

A pull request controls its own training, so left alone it controls its own metrics.
With ``trusted``, `ci pr` scores the PR's model with the *base branch's* version of that
stage (its command, code, params and the data it tracks itself; the model and
prepared data it consumes are the PR's), and the verdict uses those scores. When the
base's stage cannot score the PR's model (a new model format, a renamed output), the
verdict fails, unless ``mode: advisory`` lets the PR's own scores decide, flagged.

With ``holdout``, jx-mlops itself (not any stage) scores the PR's ONNX export on a
dataset the PR never sees: fetched from ``holdout_remote`` by the hash the *base's*
``.dvc`` file records, read by onnxruntime only (``evaluation.holdout``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, cast

from jx_mlops.compare.scoring import TrustedMode
from jx_mlops.errors import ConfigError
from jx_mlops.yamlio import cut

# DVC's own rule for stage names (letters, digits, '-', '_', '.', '@' of foreach items).
_STAGE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,99}$")
# DVC remote names are config section names: keep to what needs no quoting.
_REMOTE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_COLUMN_MAX = 200


@dataclass(frozen=True)
class HoldoutConfig:
    """A sealed holdout: ``path`` (a CSV tracked by ``path``.dvc on the base branch) whose
    data only ``remote`` holds; ``target`` is the label column; ``features`` the model's
    input columns in order (empty: every numeric column but the target, in file order)."""

    path: str
    remote: str
    target: str
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationConfig:
    """Trusted evaluation: ``trusted`` None means the PR's own metrics decide."""

    trusted: str | None = None
    mode: TrustedMode = "enforced"
    holdout: HoldoutConfig | None = None


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
    allowed = ("trusted", "mode", "holdout", "holdout_remote", "holdout_target",
               "holdout_features")
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
    return EvaluationConfig(trusted=stage, mode=cast(TrustedMode, mode),
                            holdout=_read_holdout(value, file))


def _read_holdout(value: dict[str, Any], file: str) -> HoldoutConfig | None:
    path = value.get("holdout")
    if path is None:
        extra = [k for k in ("holdout_remote", "holdout_target", "holdout_features")
                 if k in value]
        if extra:
            raise _fail(file, "evaluation.holdout", f"a path ({extra[0]} needs a holdout)",
                        path)
        return None
    if not isinstance(path, str) or not _relative(path):
        raise _fail(file, "evaluation.holdout", "a path inside the project", path)
    remote = value.get("holdout_remote")
    if not isinstance(remote, str) or not _REMOTE.match(remote):
        raise _fail(file, "evaluation.holdout_remote",
                    "the name of the DVC remote that holds the holdout", remote)
    target = value.get("holdout_target")
    if not isinstance(target, str) or not 0 < len(target) <= _COLUMN_MAX:
        raise _fail(file, "evaluation.holdout_target", "the holdout's label column", target)
    features = value.get("holdout_features", [])
    if not isinstance(features, list) or not all(
            isinstance(f, str) and 0 < len(f) <= _COLUMN_MAX for f in features) \
            or target in features or len(set(features)) != len(features):
        raise _fail(file, "evaluation.holdout_features",
                    "a list of distinct columns, the target not among them", features)
    return HoldoutConfig(os.path.normpath(path), remote, target, tuple(features))


def _relative(path: str) -> bool:
    """Inside the project: relative, no '..' (it names a .dvc file read at the base)."""
    norm = os.path.normpath(path)
    return bool(path) and not os.path.isabs(path) and norm != "." and \
        not norm.startswith("..") and "\x00" not in path
