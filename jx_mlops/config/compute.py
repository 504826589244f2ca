"""The ``compute:`` block of mlops.yaml (see :mod:`jx_mlops.compute.spec`), read through
``ConfigNode``; ``JX_MLOPS_COMPUTE_ADDRESS`` overrides the address (a CI secret, one value
per cluster)."""

from __future__ import annotations

import os
import re

from jx_mlops.compute.spec import ADDRESS_VARIABLE, ComputeConfig, Resources
from jx_mlops.config.node import ConfigNode
from jx_mlops.errors import ConfigError

_KEYS = ("backend", "address", "stages", "resources", "timeout", "requirements")
_ADDRESS = re.compile(r"^https?://[^\s/]+(/\S*)?$")
# A DVC stage name: its dvc.yaml key, ``name@item`` of a foreach, ``dir/dvc.yaml:name``.
_STAGE = re.compile(r"^[\w./-]+(:[\w-]+)?(@[\w.-]+)?$")
_ADDRESS_WORDS = ("an http(s):// URL of the Ray Jobs API (the dashboard port, 8265 by "
                  "default), such as http://127.0.0.1:8265")


def read_compute(node: ConfigNode) -> ComputeConfig:
    """``compute:`` (defaults when absent); ConfigError naming the file and the key."""
    if node.value is None:
        return ComputeConfig()
    node.mapping(_KEYS)
    backend = node.child("backend").optional(lambda n: n.choice("local", "ray"), "local")
    stages = node.child("stages").optional(
        lambda n: n.strings(_STAGE, "a list of DVC stage names", "a DVC stage name"), ())
    address = node.child("address").optional(
        lambda n: n.string(_ADDRESS, _ADDRESS_WORDS), "")
    override = os.environ.get(ADDRESS_VARIABLE, "").strip()
    if override:
        if not _ADDRESS.match(override):
            raise ConfigError(f"{ADDRESS_VARIABLE}: expected {_ADDRESS_WORDS}, "
                              f"got {override!r}")
        address = override
    if backend == "ray" and not address:
        raise node.child("address").fail(
            f"{_ADDRESS_WORDS} (or {ADDRESS_VARIABLE} set) with backend: ray")
    if backend == "ray" and not stages:
        raise node.child("stages").fail("the DVC stages to run on Ray, such as [train]")
    requirements = node.child("requirements").optional(
        lambda n: None if n.value == "none" else n.string(what="a pip requirements file "
                                                           "of the project, or none"),
        "requirements.txt")
    return ComputeConfig(backend=backend, address=address.rstrip("/"), stages=stages,
                         resources=_read_resources(node.child("resources")),
                         timeout_s=node.child("timeout").optional(ConfigNode.duration,
                                                                  6 * 3600),
                         requirements=requirements)


def _read_resources(node: ConfigNode) -> Resources:
    if node.value is None:
        return Resources()
    node.mapping(("num_cpus", "num_gpus", "memory_gb"))
    cpus = node.child("num_cpus").optional(ConfigNode.non_negative, 1.0)
    gpus = node.child("num_gpus").optional(ConfigNode.non_negative, 0.0)
    memory = node.child("memory_gb").optional(ConfigNode.non_negative, 0.0)
    return Resources(num_cpus=cpus, num_gpus=gpus, memory_gb=memory)
