"""The model registry: versions and stages as GTO tags, read and written as GTO does.

``grammar`` (tag names), ``state`` (which events are in effect), ``registry`` (versions
and stage tags in a git repository), ``artifacts`` (models declared in mlops.yaml and
dvc.yaml), ``versions`` (registering a project's model with its lineage). The names most
callers need are re-exported here.
"""

from __future__ import annotations

from jx_mlops.registry.registry import (
    TAG,
    Bump,
    ModelVersion,
    bump_version,
    find_version,
    full_name,
    get_version,
    list_versions,
    next_version,
    parse_version,
    read_state,
    register_version,
    tag_name,
    version_key,
    versions_of,
    write_stage_tag,
)

__all__ = ["TAG", "Bump", "ModelVersion", "bump_version", "find_version", "full_name",
           "get_version", "list_versions", "next_version", "parse_version", "read_state",
           "register_version", "tag_name", "version_key", "versions_of", "write_stage_tag"]
