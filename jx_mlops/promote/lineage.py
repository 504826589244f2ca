"""`jx-mlops lineage MODEL@V`: where a version comes from and where it runs.

The provenance is the registry tag's metadata (commit, params, data and model hashes,
metrics, CI run); the deployments are the environments' records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jx_mlops.config import ProjectConfig
from jx_mlops.forge.base import Forge
from jx_mlops.promote.status import StatusEntry, collect_status
from jx_mlops.registry import ModelVersion


@dataclass(frozen=True)
class Lineage:
    """A registered version and the environments where it is deployed now."""

    version: ModelVersion
    deployments: tuple[StatusEntry, ...]

    def to_json(self) -> dict[str, Any]:
        v, meta = self.version, self.version.metadata
        return {
            "model": v.model, "version": v.version, "tag": v.tag, "commit": v.commit,
            "tag_object": v.tag_object, "registered_at": v.registered_at,
            "registered_by": v.registered_by,
            "source_repo": meta.get("source_repo"), "source_pull": meta.get("source_pull"),
            "run_url": meta.get("run_url"), "project_path": meta.get("project_path", ""),
            "artifact": meta.get("artifact"), "metrics": meta.get("metrics", {}),
            "params": meta.get("params", {}), "params_sha256": meta.get("params_sha256"),
            "dvc_lock_sha256": meta.get("dvc_lock_sha256"), "data": meta.get("data", []),
            "deployments": [d.to_json() for d in self.deployments],
        }


def collect_lineage(config: ProjectConfig, forge: Forge, version: ModelVersion) -> Lineage:
    """``version``'s provenance plus the environments running it."""
    name = version.name
    entries = collect_status(config, forge) if config.environments else []
    here = tuple(e for e in entries if e.model == name and e.version == version.version)
    return Lineage(version, here)
