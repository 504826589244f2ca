"""jx-mlops: pull requests drive machine learning."""

from __future__ import annotations

__version__ = "0.1.0"
