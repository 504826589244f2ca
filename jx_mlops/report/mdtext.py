"""Project text made inert in GitHub markdown (pure): every renderer of a comment, a pull
request body or a model card passes names, values and paths through these."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def escape(text: str) -> str:
    """Make ``text`` inert in GitHub markdown: no HTML, no formatting, no @mentions."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("@", "&#64;").replace("\r", " ").replace("\n", " ")
    return text


def code(text: str) -> str:
    """``text`` as an inline code span: literal on GitHub, so only backticks need care."""
    text = text.replace("`", "'").replace("\r", " ").replace("\n", " ")
    return f"`{text}`"
