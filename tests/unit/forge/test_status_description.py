"""A commit status's description: GitHub's 140 characters, cut at a word with "…"."""

from __future__ import annotations

import pytest

from jx_mlops.forge.base import STATUS_DESCRIPTION_MAX, status_description


@pytest.mark.parametrize("text", [
    "pass: 3 improved", "fail: " + "accuracy regressed 0.91 → 0.78; " * 10, "x" * 500,
    "a\nmulti-line\n\nreason " * 30,
])
def test_a_description_fits_and_says_when_it_was_cut(text: str) -> None:
    shown = status_description(text)
    assert len(shown) <= STATUS_DESCRIPTION_MAX and "\n" not in shown
    flat = " ".join(text.split())
    if len(flat) <= STATUS_DESCRIPTION_MAX:
        assert shown == flat
    else:
        assert shown.endswith("…") and flat.startswith(shown[:-1])
        assert shown[-2] != " "


def test_a_long_verdict_is_cut_between_words() -> None:
    shown = status_description("fail: " + "accuracy regressed 0.91 → 0.78; " * 10)
    assert shown.endswith("0.78…") or shown.endswith("regressed…") or shown.endswith(
        "accuracy…") or shown.endswith("→…")
