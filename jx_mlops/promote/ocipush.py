"""A version as an OCI artifact (mlops.yaml ``registry.oci``), pushed while it is registered.

Registration calls ``push_version`` after the serving copy is published and signed and
before the tag is made, so the tag records the manifest digest. What is pushed, in the
CNCF ModelPack layout: the model file(s) as ``weight`` layers (the hash-checked local
bytes just published, re-hashed against the registered md5/sha256 first), and as ``doc``
layers the model card, the ML-BOM (CycloneDX 1.6, written next to the serving copy and
signed like the model) with its signature bundle, and the model's signature bundle
(read back from the DVC remote and checked against the sha256 it was recorded with).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from jx_mlops import console, oci, signing
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.serving import fetch_copy, put_file
from jx_mlops.errors import DvcError, JxMlopsError, RegistryError
from jx_mlops.promote.bom import build_bom, lineage_facts, validate
from jx_mlops.promote.manifests import FORMATS
from jx_mlops.registry.registration import OciPublisher
from jx_mlops.signing import Signer

BOM_FILE = "bom.cdx.json"
CARD_FILE = "MODELCARD.md"


def oci_publisher(config: ProjectConfig) -> OciPublisher | None:
    """What registration calls to push a version, or None where mlops.yaml sets no
    ``registry.oci``."""
    return functools.partial(push_version, config) if config.oci is not None else None


def push_version(config: ProjectConfig, name: str, version: str, meta: dict[str, Any],
                 local: Path, signer: Signer | None, workdir: Path) -> dict[str, Any]:
    """Push ``name@version`` (its metadata so far, its checked copy ``local``); return the
    tag's ``artifact.oci``; ``meta`` gains ``bom`` (where the signed ML-BOM is)."""
    assert config.oci is not None
    reference = config.oci.reference(name, version)
    artifact = meta["artifact"]
    try:
        layers = _model_layers(local, artifact)
        bom = _write_bom(config, name, version, meta, signer, workdir)
        layers += [oci.Layer(_card(name, version, meta, config, workdir), oci.DOC, CARD_FILE),
                   oci.Layer(bom, oci.DOC, BOM_FILE)]
        if (meta.get("bom") or {}).get("signature"):
            layers.append(oci.Layer(workdir / f"{BOM_FILE}{signing.BUNDLE_SUFFIX}", oci.DOC,
                                    f"{BOM_FILE}{signing.BUNDLE_SUFFIX}"))
        if meta.get("signature"):
            layers.append(_model_bundle(meta["signature"], artifact, workdir))
        with console.step(f"Pushing {name}@{version} to {reference}"):
            pushed = oci.push(reference, layers, _modelpack_config(name, version, meta),
                              _annotations(name, version, meta))
    except JxMlopsError as exc:
        raise RegistryError(f"{name}@{version} not registered: {exc.message}",
                            hint=exc.hint) from None
    return pushed.to_metadata()


def _model_layers(local: Path, artifact: dict[str, Any]) -> list[oci.Layer]:
    """The model's file (or each file of its directory) as a weight layer; a single file
    is re-hashed against the md5 and sha256 the version registers, so only those bytes
    can be pushed."""
    path = PurePosixPath(str(artifact["path"]))
    if local.is_dir():  # a directory output: publish_copy checked each file's md5
        return [oci.Layer(f, oci.WEIGHT, str(path / f.relative_to(local).as_posix()))
                for f in sorted(local.rglob("*")) if f.is_file()]
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with local.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            md5.update(chunk)
            sha256.update(chunk)
    if md5.hexdigest() != artifact.get("md5") or \
            (artifact.get("sha256") and sha256.hexdigest() != artifact["sha256"]):
        raise RegistryError(f"{path}: the bytes to push are not the registered ones (md5 or "
                            "sha256 differs)")
    return [oci.Layer(local, oci.WEIGHT, path.name)]


def _write_bom(config: ProjectConfig, name: str, version: str, meta: dict[str, Any],
               signer: Signer | None, workdir: Path) -> Path:
    """The version's ML-BOM, validated, written next to the serving copy in the DVC
    remote and signed with the model's signer (bundle ``bom.cdx.json.sig`` beside it)."""
    lineage = {**meta, "model": name, "version": version, "tag": f"{name}@{version}",
               "commit": meta["source_commit"], "registered_at": int(time.time())}
    doc = build_bom(lineage_facts(config.root, lineage))
    validate(doc)
    bom = workdir / BOM_FILE
    bom.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    uri = f"{str(meta['artifact']['serving_uri']).rsplit('/', 1)[0]}/{BOM_FILE}"
    record: dict[str, Any] = {"uri": uri, "sha256": signing.sha256_file(bom)}
    try:
        if signer is not None:
            bundle = workdir / f"{BOM_FILE}{signing.BUNDLE_SUFFIX}"
            signature = signing.sign_model(bom, bundle, signer)
            put_file(bundle, uri + signing.BUNDLE_SUFFIX)
            record["signature"] = signature.to_metadata(uri + signing.BUNDLE_SUFFIX)
        put_file(bom, uri)
    except DvcError as exc:
        raise RegistryError(exc.message) from None
    meta["bom"] = record
    return bom


def _model_bundle(signature: dict[str, Any], artifact: dict[str, Any],
                  workdir: Path) -> oci.Layer:
    """The model's signature bundle as published, checked against its recorded sha256."""
    uri = str(signature["bundle"])
    try:
        bundle = fetch_copy(uri, workdir / "model-bundle")
    except DvcError as exc:
        raise RegistryError(exc.message) from None
    if signing.sha256_file(bundle) != signature.get("sha256"):
        raise RegistryError(f"{uri} is not the signature bundle just written (sha256 differs)")
    inner = PurePosixPath(str(artifact["path"])).name + signing.BUNDLE_SUFFIX
    return oci.Layer(bundle, oci.DOC, inner)


def _card(name: str, version: str, meta: dict[str, Any], config: ProjectConfig,
          workdir: Path) -> Path:
    """A short model card: what the version is, where it comes from, its metrics."""
    model = next((m for m in config.models if name.rsplit(":", 1)[-1] == m.name), None)
    artifact = meta["artifact"]
    lines = [f"# {name} {version}", ""]
    if model is not None and model.description:
        lines += [model.description, ""]
    intended = model.intended_use if model is not None and model.intended_use else None
    data = ", ".join(f"{d.get('path')} (md5 {d.get('md5')})" for d in meta.get("data") or [])
    lines += [f"- Intended use: {intended or 'not recorded'}",
              f"- Source: {meta.get('source_repo') or 'not recorded'} at commit "
              f"{meta['source_commit']}",
              f"- Model file: {artifact['path']} (md5 {artifact.get('md5')}, sha256 "
              f"{artifact.get('sha256') or 'not recorded'})",
              f"- Data: {data or 'not recorded'}",
              "", "| metrics file | metric | value |", "|---|---|---|"]
    lines += [f"| {path} | {key} | {value} |" for path, values in
              sorted((meta.get("metrics") or {}).items()) if isinstance(values, dict)
              for key, value in sorted(values.items()) if not isinstance(value, (dict, list))]
    card = workdir / CARD_FILE
    card.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return card


def _modelpack_config(name: str, version: str, meta: dict[str, Any]) -> dict[str, Any]:
    """ModelPack's config (``modelfs`` is added by the push, from the layers)."""
    suffix = PurePosixPath(str(meta["artifact"]["path"])).suffix.lower()
    return {"descriptor": {"name": name, "version": version,
                           "revision": meta["source_commit"],
                           "createdAt": datetime.now(timezone.utc).strftime(
                               "%Y-%m-%dT%H:%M:%SZ")},
            "config": {"format": FORMATS.get(suffix, suffix.lstrip(".") or "unknown")}}


def _annotations(name: str, version: str, meta: dict[str, Any]) -> dict[str, str]:
    out = {"org.opencontainers.image.version": version,
           "org.opencontainers.image.revision": str(meta["source_commit"]),
           "dev.jx-mlops.tag": f"{name}@{version}"}
    if meta.get("source_repo"):
        out["org.opencontainers.image.source"] = str(meta["source_repo"])
    return out
