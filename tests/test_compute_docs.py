"""docs/compute.md's Kubernetes manifests against the KubeRay and Kueue CRD schemas
(tests/schemas/kuberay, tests/schemas/kueue), strictly: an unknown field is an error, as
kubeconform --strict has it (the API server would drop it silently)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = {
    ("ray.io/v1", "RayCluster"): "kuberay/raycluster-v1.json",
    ("kueue.x-k8s.io/v1beta2", "LocalQueue"): "kueue/localqueue-v1beta2.json",
    ("kueue.x-k8s.io/v1beta2", "ClusterQueue"): "kueue/clusterqueue-v1beta2.json",
    ("kueue.x-k8s.io/v1beta2", "ResourceFlavor"): "kueue/resourceflavor-v1beta2.json",
}


def _closed(node: Any) -> Any:
    """Unknown fields rejected wherever the schema lists properties and does not keep
    unknown fields (``x-kubernetes-preserve-unknown-fields``)."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node \
                and not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)
    return node


def validator(api: str, kind: str) -> jsonschema.Draft7Validator:
    stored = json.loads((ROOT / "tests" / "schemas" / SCHEMAS[(api, kind)]).read_text())
    schema = _closed(copy.deepcopy(stored["openAPIV3Schema"]))
    schema["properties"]["apiVersion"] = {"const": api}
    schema["properties"]["kind"] = {"const": kind}
    schema["properties"]["metadata"] = {
        "type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}
    schema["required"] = ["apiVersion", "kind", "metadata"]
    return jsonschema.Draft7Validator(schema)


def problems(doc: dict[str, Any]) -> list[str]:
    check = validator(doc.get("apiVersion", ""), doc.get("kind", ""))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:120]}"
            for e in check.iter_errors(doc)]


def manifests() -> list[dict[str, Any]]:
    text = (ROOT / "docs" / "compute.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return [doc for block in blocks for doc in yaml.safe_load_all(block)
            if isinstance(doc, dict) and "apiVersion" in doc]


def test_docs_manifests_are_valid_and_queued() -> None:
    docs = manifests()
    assert sorted(d["kind"] for d in docs) == ["ClusterQueue", "LocalQueue", "RayCluster",
                                               "ResourceFlavor"]
    for doc in docs:
        assert problems(doc) == [], doc["kind"]
    (cluster,) = [d for d in docs if d["kind"] == "RayCluster"]
    (queue,) = [d for d in docs if d["kind"] == "LocalQueue"]
    # Kueue admits the cluster through a LocalQueue of its own namespace.
    assert cluster["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == \
        queue["metadata"]["name"]
    assert cluster["metadata"]["namespace"] == queue["metadata"]["namespace"]
    (cluster_queue,) = [d for d in docs if d["kind"] == "ClusterQueue"]
    assert queue["spec"]["clusterQueue"] == cluster_queue["metadata"]["name"]
    # The address in the page's config is this cluster's head service.
    assert f"http://{cluster['metadata']['name']}-head-svc.{queue['metadata']['namespace']}" \
        ".svc:8265" in (ROOT / "docs" / "compute.md").read_text()


@pytest.mark.parametrize(("path", "value", "found"), [
    (("spec", "headGroupSpec", "rayStartParam"), {}, "rayStartParam"),
    (("spec", "workerGroupSpecs", 0, "replicas"), "two", "'two' is not of type 'integer'"),
    (("spec", "headGroupSpec", "rayStartParams", "num-cpus"), 0, "0 is not of type 'string'"),
])
def test_schema_catches_mistakes(path: tuple[Any, ...], value: Any, found: str) -> None:
    (cluster,) = [d for d in manifests() if d["kind"] == "RayCluster"]
    node = cluster
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert any(found in line for line in problems(cluster)), problems(cluster)
