"""The trusted block of a fork's report artifact, checked before it is published."""

from __future__ import annotations

import pytest

from jx_mlops.compare.scoring import TrustedEvaluation


@pytest.mark.parametrize(("trusted", "message"), [
    ({"mode": "lenient"}, "trusted.mode: expected 'enforced' or 'advisory', got 'lenient'"),
    ({"scored": True, "problem": "boom"},
     "trusted.scored: expected true exactly when there is no problem, got True"),
    ({"self_reported": [{"model": "churn", "path": "m.json", "name": "a", "trusted": 1,
                         "reported": {"nested": 1}}]},
     "trusted.self_reported[0].reported: expected a number, bool, short string or null, "
     "got {'nested': 1}"),
])
def test_publish_checks_the_trusted_block_of_an_artifact(trusted: dict[str, object],
                                                         message: str) -> None:
    from jx_mlops.ci.fork_report import trusted_from_json
    from jx_mlops.errors import ConfigError

    valid = {"stage": "evaluate", "base": "main", "base_sha": "a" * 40, "mode": "enforced",
             "scored": True, "problem": None, "where": None, "self_reported": []}
    assert trusted_from_json(valid, "r.json") == TrustedEvaluation("evaluate", "main", "a" * 40)
    with pytest.raises(ConfigError) as info:
        trusted_from_json({**valid, **trusted}, "r.json")
    assert info.value.message == f"r.json: {message}"
