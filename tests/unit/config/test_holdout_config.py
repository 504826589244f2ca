"""mlops.yaml evaluation.holdout: a wrong key is one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.config.project import parse_config
from jx_mlops.errors import ConfigError


@pytest.mark.parametrize(("block", "message"), [
    ("  holdout: ../outside.csv\n  holdout_remote: s\n  holdout_target: y\n",
     "mlops.yaml: evaluation.holdout: expected a path inside the project, got '../outside.csv'"),
    ("  holdout: data/h.csv\n  holdout_target: y\n",
     "mlops.yaml: evaluation.holdout_remote: expected the name of the DVC remote that holds "
     "the holdout, got nothing"),
    ("  holdout: data/h.csv\n  holdout_remote: s\n",
     "mlops.yaml: evaluation.holdout_target: expected the holdout's label column, got "
     "nothing"),
    ("  holdout: data/h.csv\n  holdout_remote: s\n  holdout_target: y\n"
     "  holdout_features: [a, y]\n",
     "mlops.yaml: evaluation.holdout_features: expected a list of distinct columns, the "
     "target not among them, got ['a', 'y']"),
    ("  holdout_remote: s\n", "mlops.yaml: evaluation.holdout: expected a path "
     "(holdout_remote needs a holdout), got nothing"),
])
def test_a_bad_holdout_key_is_one_line_naming_it(block: str, message: str) -> None:
    text = ("version: 1\nproject: p\nforge: {kind: local, repo: a/p}\nmodels:\n  m: {}\n"
            f"evaluation:\n  trusted: evaluate\n{block}")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("mlops.yaml"))
    assert str(caught.value.message) == message
