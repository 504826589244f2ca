"""Models init finds in a DVC project, and the names they get."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FoundModel:
    """A model the project produces: where it comes from and what it is called."""

    name: str
    path: str
    description: str = ""
    labels: tuple[str, ...] = ()
    source: str = "artifacts"  # artifacts | stage output | --model
    # The registry (GTO) name, when it is not the one jx-mlops derives from ``name``.
    registry_name: str = ""


def model_name(text: str) -> str:
    """A DNS-1123 label from an artifact name or a path (``Text_Classifier`` ->
    ``text-classifier``)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    return name or "model"
