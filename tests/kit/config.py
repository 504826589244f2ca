"""mlops.yaml text parsed as jx-mlops parses the file."""

from __future__ import annotations

from pathlib import Path

from jx_mlops.config.project import ProjectConfig, parse_config

MLOPS_YAML = Path("/p/mlops.yaml")


def parse(text: str) -> ProjectConfig:
    """``text`` parsed as if read from /p/mlops.yaml (the path error messages name)."""
    return parse_config(text, MLOPS_YAML)
