"""An evaluation status says which base it was computed against (issue 20)."""

from __future__ import annotations

from jx_mlops.forge.base import evaluated_base, with_base


def test_the_base_ends_the_description_and_survives_the_length_cap() -> None:
    text = with_base("pass: " + "x" * 200, "release/2.0")
    assert len(text) == 140 and text.endswith(" (base: release/2.0)")
    assert evaluated_base(text) == "release/2.0"
    assert evaluated_base(with_base("conflicts with main (params.yaml)", "main")) == "main"
    assert evaluated_base("main moved to abc1234: re-run the evaluation") is None
