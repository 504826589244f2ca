"""What a GitOps agent deploys from an environment repository (pure: data in, text out).

Two layouts, chosen per environment in mlops.yaml (``layout``):

- ``kserve``: one KServe ``InferenceService`` (serving.kserve.io/v1beta1) per model in
  ``serving/MODEL.yaml``, its ``storageUri`` pointing at the version's named copy of the
  model in the DVC remote (``jx-mlops/models/MODEL/VERSION/model.pkl``: runtimes find a
  model by its file name). Argo CD or Flux syncs the directory.
- ``jenkins-x``: a release per model in ``helmfiles/NAMESPACE/helmfile.yaml`` (the file
  Jenkins X v3 promotes into), version = the model version, plus the namespace's entry in
  the root ``helmfile.yaml``. Other releases in those files are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from jx_mlops.config.project import EnvironmentConfig
from jx_mlops.environments.records import DeploymentRecord, dump_yaml
from jx_mlops.errors import PromotionError
from jx_mlops.oci import by_digest
from jx_mlops.yamlio import safe_load

SERVING_DIR = "serving"
ROOT_HELMFILE = "helmfile.yaml"
MANIFEST_HEADER = ("# Managed by jx-mlops (`jx-mlops promote`); hand edits are caught by "
                   "`jx-mlops audit`.\n")
# Model file extensions and the KServe model format (serving runtime) that loads them.
# (.bst is left out: XGBoost and LightGBM both write it; say which with model_format.)
FORMATS = {".pkl": "sklearn", ".pickle": "sklearn", ".joblib": "sklearn", ".onnx": "onnx",
           ".pt": "pytorch", ".pth": "pytorch", ".mar": "pytorch", ".ubj": "xgboost",
           ".h5": "tensorflow", ".keras": "tensorflow", ".pmml": "pmml"}

Changes = dict[str, bytes | None]


def serving_path(model: str) -> str:
    return f"{SERVING_DIR}/{model}.yaml"


def helmfile_path(namespace: str) -> str:
    return f"helmfiles/{namespace}/helmfile.yaml"


def model_format(record: DeploymentRecord, env: EnvironmentConfig) -> str:
    """The KServe model format: the environment's ``model_format``, else the artifact's
    file extension."""
    if env.model_format:
        return env.model_format
    suffix = PurePosixPath(record.artifact_path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    raise PromotionError(
        f"cannot tell the KServe model format of {record.artifact_path!r} (model "
        f"{record.model}); set model_format for environment {env.name} in mlops.yaml")


# A ModelPack artifact is no modelcar image (no shell, no /models): KServe serves it only
# through image volumes.
OCI_SERVING_NOTE = ("a ModelPack artifact, not a modelcar image: serve it with KServe "
                    ">= 0.20 ociModelMode: native (image volumes; CRI-O >= 1.31)")


def storage_uri(record: DeploymentRecord) -> str:
    """Where the serving runtime downloads the model: its named copy in the DVC remote
    (``jx-mlops/models/MODEL/VERSION/FILE``), or, for versions registered before copies
    existed, the DVC object itself.

    A DVC remote on a local path becomes a ``file://`` URI. A version pushed to an OCI
    registry (mlops.yaml ``registry.oci``) is named by its manifest digest instead:
    ``oci://HOST/REPO@sha256:…``, content-addressed, so a re-pushed tag changes nothing.
    """
    if record.oci.get("digest") and record.oci.get("reference"):
        return f"oci://{by_digest(str(record.oci['reference']), str(record.oci['digest']))}"
    uri = record.serving_uri or record.storage_uri or ""
    if not uri:
        raise PromotionError(f"{record.tag} has no DVC remote location; configure a default "
                             "DVC remote in the project before registering")
    if "://" in uri:
        return uri
    return PurePosixPath(uri).as_uri() if uri.startswith("/") else uri


def _labels(record: DeploymentRecord) -> dict[str, str]:
    return {"app.kubernetes.io/name": record.model,
            "app.kubernetes.io/version": record.version,
            "app.kubernetes.io/managed-by": "jx-mlops",
            "jx-mlops.dev/environment": record.environment}


def _annotations(record: DeploymentRecord) -> dict[str, str]:
    notes = {"jx-mlops.dev/version": record.version,
             "jx-mlops.dev/source": f"{record.source_repo}@{record.source_commit}",
             "jx-mlops.dev/artifact-md5": record.artifact_md5 or ""}
    if record.signature:  # a signed version: what an admission check can verify
        notes.update({"jx-mlops.dev/artifact-sha256": record.artifact_sha256 or "",
                      "jx-mlops.dev/signature-sha256": str(record.signature.get("sha256")),
                      "jx-mlops.dev/signature": str(record.signature.get("bundle"))})
    if record.oci.get("digest"):  # the model file's sha256 beside the manifest digest
        notes.update({"jx-mlops.dev/oci-digest": str(record.oci["digest"]),
                      "jx-mlops.dev/artifact-sha256": record.artifact_sha256 or "",
                      # Said where the reviewer of the environment change reads it.
                      "jx-mlops.dev/oci-serving": OCI_SERVING_NOTE})
    return notes


def predictor_name(version: str) -> str:
    """A version as a KServe predictor name (``^[a-z]([-a-z0-9]*[a-z0-9])?$``)."""
    name = re.sub(r"[^a-z0-9-]+", "-", version.lower()).strip("-")
    return name if name[:1].isalpha() else f"v-{name}"


def inference_service(record: DeploymentRecord, env: EnvironmentConfig) -> dict[str, Any]:
    """The KServe InferenceService serving ``record``'s version (on a canary step: the
    stable version as the predictor and ``record``'s as KServe v0.20's ``spec.canary``)."""
    model_spec = {"modelFormat": {"name": model_format(record, env)},
                  "storageUri": storage_uri(record)}
    spec: dict[str, Any] = {"predictor": {"model": model_spec}}
    annotations = _annotations(record)
    percent, stable = record.canary_percent, record.rollout.get("stable_version")
    if percent is not None and isinstance(stable, str):
        # Canaries need the Standard (raw) deployment mode and named predictors; each
        # predictor labels its pods with its own version (what the metrics carry).
        annotations["serving.kserve.io/deploymentMode"] = "Standard"
        spec = {"predictor": {
                    "name": predictor_name(stable),
                    "labels": {"app.kubernetes.io/version": stable},
                    "model": {**model_spec, "storageUri": str(record.rollout.get("stable_uri"))}},
                "canary": [{"trafficPercent": percent, "predictor": {
                    "name": predictor_name(record.version),
                    "labels": {"app.kubernetes.io/version": record.version},
                    "model": {"name": "kserve-container", **model_spec}}}]}
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": record.model,
            "namespace": env.namespace,
            "labels": _labels(record),
            "annotations": annotations,
        },
        "spec": spec,
    }


def helm_release(record: DeploymentRecord, env: EnvironmentConfig) -> dict[str, Any]:
    """The helmfile release of ``record`` (chart version = model version without the v)."""
    return {
        "chart": f"{env.chart_repository}/{record.model}",
        "version": record.version.removeprefix("v"),
        "name": record.model,
        "values": [{"jxMlops": {"version": record.version, "storageUri": storage_uri(record),
                                "md5": record.artifact_md5 or "",
                                "format": model_format(record, env),
                                **_helm_canary(record)}}],
    }


def _helm_canary(record: DeploymentRecord) -> dict[str, Any]:
    """A canary step in the chart's values: the stable version beside the new one."""
    if record.canary_percent is None:
        return {}
    return {"canary": {"trafficPercent": record.canary_percent,
                       "stableVersion": record.rollout.get("stable_version"),
                       "stableStorageUri": record.rollout.get("stable_uri")}}


def _load_mapping(data: bytes | None, path: str) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        loaded = safe_load(data)
    except Exception as exc:  # yaml.YAMLError and friends: the file is not ours to fix
        raise PromotionError(f"{path} in the environment repository is not valid YAML "
                             f"({str(exc).splitlines()[0]}); fix it by hand first") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise PromotionError(f"{path} in the environment repository is not a mapping")
    return loaded


def updated_helmfile(data: bytes | None, record: DeploymentRecord,
                     env: EnvironmentConfig) -> bytes:
    """The namespace helmfile with ``record``'s release set (or removed when disabled)."""
    path = helmfile_path(env.namespace)
    helmfile = _load_mapping(data, path) or {"namespace": env.namespace}
    releases = helmfile.get("releases") or []
    if not isinstance(releases, list):
        raise PromotionError(f"{path}: releases is not a list")
    kept = [r for r in releases if not (isinstance(r, dict) and r.get("name") == record.model)]
    if record.serving:
        position = next((i for i, r in enumerate(releases)
                         if isinstance(r, dict) and r.get("name") == record.model), len(kept))
        kept.insert(position, helm_release(record, env))
    helmfile["releases"] = kept
    return dump_yaml(helmfile).encode("utf-8")


def updated_root_helmfile(data: bytes | None, namespace: str) -> bytes | None:
    """The root helmfile with the namespace's helmfile listed; None when already there."""
    root = _load_mapping(data, ROOT_HELMFILE)
    entries = root.get("helmfiles") or []
    wanted = helmfile_path(namespace)
    if any(isinstance(e, dict) and e.get("path") == wanted for e in entries):
        return None
    root["helmfiles"] = [*entries, {"path": wanted}]
    return dump_yaml(root).encode("utf-8")


def serving_changes(record: DeploymentRecord, env: EnvironmentConfig,
                    current: Mapping[str, bytes | None]) -> Changes:
    """The files (path -> new content, None = delete) that serve ``record`` in ``env``.

    ``current`` holds the present contents of :func:`serving_inputs`'s paths.
    """
    if env.layout == "jenkins-x":
        changes: Changes = {helmfile_path(env.namespace): updated_helmfile(
            current.get(helmfile_path(env.namespace)), record, env)}
        root = updated_root_helmfile(current.get(ROOT_HELMFILE), env.namespace)
        if root is not None:
            changes[ROOT_HELMFILE] = root
        return changes
    if not record.serving:
        return {serving_path(record.model): None}
    manifest = MANIFEST_HEADER + dump_yaml(inference_service(record, env))
    return {serving_path(record.model): manifest.encode("utf-8")}


def serving_inputs(model: str, env: EnvironmentConfig) -> list[str]:
    """The existing files :func:`serving_changes` needs to read."""
    if env.layout == "jenkins-x":
        return [helmfile_path(env.namespace), ROOT_HELMFILE]
    return [serving_path(model)]


def served_version(model: str, env: EnvironmentConfig,
                   files: Mapping[str, bytes | None]) -> tuple[str | None, str | None]:
    """(version, storage URI) the serving files deploy for ``model``; (None, None) if none.

    What ``audit`` compares with the deployment record.
    """
    if env.layout == "jenkins-x":
        path = helmfile_path(env.namespace)
        for release in _load_mapping(files.get(path), path).get("releases") or []:
            if isinstance(release, dict) and release.get("name") == model:
                values = [v for v in release.get("values") or [] if isinstance(v, dict)]
                ours: dict[str, Any] = next(
                    (v["jxMlops"] for v in values if "jxMlops" in v), {})
                return f"v{release.get('version')}", ours.get("storageUri")
        return None, None
    path = serving_path(model)
    manifest = _load_mapping(files.get(path), path)
    if not manifest:
        return None, None
    labels = manifest.get("metadata", {}).get("labels", {})
    spec = manifest.get("spec", {})
    canary = spec.get("canary") or [{}]  # a canary step: the record's version is the canary
    model_spec = (canary[0] if isinstance(canary[0], dict) and canary[0] else spec).get(
        "predictor", {}).get("model", {})
    return labels.get("app.kubernetes.io/version"), model_spec.get("storageUri")
