"""The ``evaluation:`` block of mlops.yaml: who scores a pull request's model.

```yaml
evaluation:
  trusted: evaluate      # the stage that scores models, run as the base branch has it
  mode: enforced         # enforced (default) | advisory
  on_mismatch: flag      # flag (default) | fail: fail a PR whose own values differ
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
verdict fails, unless ``mode: advisory`` lets the PR's own scores decide, flagged. The
PR's own values are shown beside the trusted ones, each difference flagged; with
``on_mismatch: fail`` a difference fails the PR (its own evaluation says something the
base's does not: a forgery, or an evaluation change that belongs in its own PR).

With ``holdout``, jx-mlops itself (not any stage) scores the PR's ONNX export on a
dataset the PR never sees: fetched from ``holdout_remote`` by the hash the *base's*
``.dvc`` file records, read by onnxruntime only (``evaluation.holdout``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import cast

from jx_mlops.compare.scoring import OnMismatch, TrustedMode
from jx_mlops.config.node import ConfigNode

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
    on_mismatch: OnMismatch = "flag"


def read_evaluation(node: ConfigNode) -> EvaluationConfig:
    """Parse the ``evaluation`` mapping (absent: the PR's own metrics decide)."""
    if node.value is None:
        return EvaluationConfig()
    node.mapping(("trusted", "mode", "on_mismatch", "holdout", "holdout_remote",
                  "holdout_target", "holdout_features"))
    trusted = node.child("trusted")
    stage = trusted.optional(lambda n: n.string(_STAGE, "the name of a dvc.yaml stage"))
    mode = node.child("mode").optional(lambda n: n.choice("enforced", "advisory"), "enforced")
    on_mismatch = node.child("on_mismatch").optional(lambda n: n.choice("flag", "fail"),
                                                     "flag")
    for key in ("mode", "on_mismatch"):
        if stage is None and key in node.value:
            raise trusted.fail(f"a stage ({key} applies to trusted evaluation)")
    return EvaluationConfig(trusted=stage, mode=cast(TrustedMode, mode),
                            holdout=_read_holdout(node),
                            on_mismatch=cast(OnMismatch, on_mismatch))


def _read_holdout(node: ConfigNode) -> HoldoutConfig | None:
    holdout = node.child("holdout")
    if holdout.value is None:
        extra = [k for k in ("holdout_remote", "holdout_target", "holdout_features")
                 if k in node.value]
        if extra:
            raise holdout.fail(f"a path ({extra[0]} needs a holdout)")
        return None
    path = holdout.string(what="a path inside the project")
    if not _relative(path):
        raise holdout.fail("a path inside the project")
    remote = node.child("holdout_remote").string(
        _REMOTE, "the name of the DVC remote that holds the holdout")
    target = node.child("holdout_target").string(what="the holdout's label column",
                                                 limit=_COLUMN_MAX)
    features_node = node.child("holdout_features")
    distinct = "a list of distinct columns, the target not among them"
    features = features_node.optional(lambda n: n.strings(what=distinct, limit=_COLUMN_MAX),
                                      ())
    if target in features or len(set(features)) != len(features):
        raise features_node.fail(distinct)
    return HoldoutConfig(os.path.normpath(path), remote, target, features)


def _relative(path: str) -> bool:
    """Inside the project: relative, no '..' (it names a .dvc file read at the base)."""
    norm = os.path.normpath(path)
    return bool(path) and not os.path.isabs(path) and norm != "." and \
        not norm.startswith("..") and "\x00" not in path
