"""`jx-mlops bom MODEL@VERSION`: a CycloneDX 1.6 ML-BOM of a registered version.

Every fact comes from what `lineage` reads (the registration tag's metadata, or the
commit for a version GTO made) plus the project's mlops.yaml and the dependency files at
the version's commit: the model component (artifact hashes, params, signature) with its
model card (quantitative analysis from the version's metrics, per-group values as slices,
fairness assessments from the fairness limits, use cases from ``intended_use``), the
datasets as ``data`` components with their DVC hashes, the training code at its commit,
and the Python dependencies of ``pylock.toml`` (exact versions) or ``requirements*.txt``
(specifiers; a range gives a package URL without a version).

cyclonedx-python-lib builds the BOM; it does not model ``modelCard`` or
``component.data`` (stubs since CycloneDX 1.5 there), so those are added to its JSON, and
the result is checked against the 1.6 schema the library ships (strict: no unknown keys).
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jx_mlops.errors import JxMlopsError

SPEC = "1.6"
# Dependency files read at the version's commit, in the project's directory; a lock
# (exact versions) wins over requirements (ranges) for a package named in both.
LOCKS = ("pylock.toml",)
REQUIREMENTS = ("requirements.txt", "requirements.lock", "requirements-lock.txt")
DATA_CARD = "reports/data_card.json"  # the quickstarts' prepare stage writes it, in git
_GROUP = re.compile(r"^by_group\.(?P<metric>.+)\.(?P<group>[^.]+)$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Dependency:
    """A Python package the version's code declares: ``version`` when pinned exactly."""

    name: str
    version: str | None
    specifier: str
    source: str  # the file it was read from


@dataclass(frozen=True)
class BomFacts:
    """What a BOM is made of: the ``lineage --json`` of the version, and the rest."""

    lineage: Mapping[str, Any]
    intended_use: str = ""
    description: str = ""
    # (environment, metric, limit): the fairness limits of mlops.yaml's environments.
    fairness_limits: Sequence[tuple[str, str, float]] = ()
    dependencies: Sequence[Dependency] = ()
    sensitive_attribute: str = ""  # the data card's, when the commit has one
    notes: list[str] = field(default_factory=list)  # what the BOM cannot say, and why


def parse_dependencies(files: Mapping[str, bytes]) -> list[Dependency]:
    """The packages of ``files`` (name -> bytes); a lock's exact versions win."""
    from packaging.requirements import InvalidRequirement, Requirement

    found: dict[str, Dependency] = {}
    for path, data in files.items():
        if Path(path).name in LOCKS:
            for pkg in _lock_packages(path, data):
                if isinstance(pkg, dict) and isinstance(pkg.get("name"), str):
                    version = str(pkg["version"]) if pkg.get("version") else None
                    found[_canonical(pkg["name"])] = Dependency(
                        pkg["name"], version, f"=={version}" if version else "", path)
            continue
        for line in data.decode("utf-8", "replace").splitlines():
            text = line.split(" #", 1)[0].strip()
            if not text or text.startswith(("#", "-")):
                continue  # comments and pip options (-r, -e, --index-url)
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            key = _canonical(req.name)
            if key in found and found[key].version:
                continue
            specs = list(req.specifier)
            pinned = specs[0].version if len(specs) == 1 and specs[0].operator in (
                "==", "===") and "*" not in specs[0].version else None
            found[key] = Dependency(req.name, pinned, str(req.specifier), path)
    return [found[k] for k in sorted(found)]


def _lock_packages(path: str, data: bytes) -> list[Any]:
    """The ``packages`` array of a PEP 751 lock (Python 3.11+ reads TOML)."""
    if sys.version_info < (3, 11):
        raise JxMlopsError(f"{path}: reading a pylock.toml needs Python 3.11 or later")
    import importlib

    tomllib = importlib.import_module("tomllib")  # the package supports Python 3.10
    try:
        lock = tomllib.loads(data.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError as exc:
        raise JxMlopsError(f"{path}: not TOML ({exc})") from exc
    packages = lock.get("packages", [])
    return packages if isinstance(packages, list) else []


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def performance_metrics(metrics: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each numeric metric as a CycloneDX performanceMetric (value as a string, as the
    schema wants); ``by_group.METRIC.GROUP`` keys become METRIC on the slice GROUP."""
    out: list[dict[str, str]] = []
    for path in sorted(metrics):
        for key, value in sorted(metrics[path].items()):
            if not _number(value):
                continue
            group = _GROUP.match(key)
            entry = {"type": group["metric"] if group else key, "value": str(value)}
            if group:
                entry["slice"] = f"group {group['group']}"
            out.append(entry)
    return out


def _fairness(facts: BomFacts) -> list[dict[str, str]]:
    from jx_mlops.promote.gates import lookup_metric

    metrics = facts.lineage.get("metrics") or {}
    groups = sorted({m["group"] for values in metrics.values() for k in values
                     if (m := _GROUP.match(k))})
    attribute = f"the sensitive attribute {facts.sensitive_attribute!r}" \
        if facts.sensitive_attribute else "the sensitive attribute"
    at_risk = (f"the groups {', '.join(groups)} of {attribute}") if groups \
        else f"the groups of {attribute} (not named in the metrics)"
    out = []
    for env, metric, limit in facts.fairness_limits:
        found, value = lookup_metric(metrics, metric)
        if not found or not _number(value):
            verdict = "not reported by this version"
        else:
            verdict = f"{value}, {'within' if abs(value) <= limit else 'over'} the limit"
        out.append({"groupAtRisk": at_risk,
                    "harms": f"{metric} (a gap between groups): {verdict}",
                    "mitigationStrategy": f"promotion to {env} is refused when "
                                          f"|{metric}| > {limit:g} (mlops.yaml gates)"})
    return out


def build_bom(facts: BomFacts) -> dict[str, Any]:
    """The CycloneDX 1.6 document (a dict) of one version; deterministic: the serial
    number derives from the tag and the timestamp is the registration time."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.bom_ref import BomRef
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    from jx_mlops import __version__

    lin = facts.lineage
    source = lin.get("source_repo") or "unknown"
    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL,
                                       f"jx-mlops:{source}:{lin['model']}@{lin['version']}"))
    bom.metadata.timestamp = datetime.fromtimestamp(int(lin.get("registered_at") or 0),
                                                    timezone.utc)
    bom.metadata.properties.add(Property(name="jx-mlops:tool", value=f"jx-mlops {__version__}"))
    artifact = lin.get("artifact") or {}
    hashes = [HashType(alg=HashAlgorithm.SHA_256, content=artifact["sha256"])] \
        if artifact.get("sha256") else []
    if _MD5.match(str(artifact.get("md5") or "")):
        hashes.append(HashType(alg=HashAlgorithm.MD5, content=artifact["md5"]))
    props = [Property(name="jx-mlops:tag", value=lin["tag"]),
             Property(name="jx-mlops:commit", value=lin["commit"])]
    props += [Property(name=f"jx-mlops:{k}", value=str(artifact[k]))
              for k in ("path", "serving_uri", "size") if artifact.get(k) is not None]
    sig = lin.get("signature") or {}
    props += [Property(name=f"jx-mlops:signature:{k}", value=str(sig[k]))
              for k in ("method", "bundle", "sha256", "public_key_sha256", "identity")
              if sig.get(k)]
    props += [Property(name=f"jx-mlops:param:{path}:{k}", value=json.dumps(v))
              for path, values in sorted((lin.get("params") or {}).items())
              for k, v in sorted(values.items())]
    for key in ("params_sha256", "dvc_lock_sha256", "run_url", "source_pull"):
        if lin.get(key) is not None:
            props.append(Property(name=f"jx-mlops:{key}", value=str(lin[key])))
    model = Component(type=ComponentType.MACHINE_LEARNING_MODEL, name=lin["model"],
                      version=lin["version"], bom_ref=BomRef("model"), hashes=hashes,
                      description=facts.description or None, properties=props)
    bom.metadata.component = model
    datasets = []
    for i, d in enumerate(lin.get("data") or []):
        md5 = str(d.get("md5") or "")
        dprops = [Property(name="jx-mlops:dvc-md5", value=md5)] if md5 else []
        dprops += [Property(name=f"jx-mlops:{k}", value=str(d[k]))
                   for k in ("size", "nfiles") if d.get(k) is not None]
        plain = md5.removesuffix(".dir")  # a directory's DVC hash is its listing's md5
        data = Component(type=ComponentType.DATA, name=d["path"], bom_ref=BomRef(f"data-{i}"),
                         hashes=[HashType(alg=HashAlgorithm.MD5, content=plain)]
                         if _MD5.match(plain) else [], properties=dprops)
        bom.components.add(data)
        datasets.append(data)
    code = Component(type=ComponentType.APPLICATION, name=source, version=lin["commit"],
                     bom_ref=BomRef("training-code"), description="the training code "
                     "(dvc.yaml pipeline) at the registered commit",
                     properties=[Property(name="jx-mlops:project_path",
                                          value=lin.get("project_path") or ".")])
    bom.components.add(code)
    libs = []
    for dep in facts.dependencies:
        purl = PackageURL(type="pypi", name=_canonical(dep.name), version=dep.version)
        lib = Component(type=ComponentType.LIBRARY, name=dep.name, version=dep.version,
                        purl=purl, bom_ref=BomRef(str(purl)),
                        properties=[Property(name="jx-mlops:declared-in", value=dep.source)]
                        + ([Property(name="jx-mlops:specifier", value=dep.specifier)]
                           if dep.specifier and not dep.version else []))
        bom.components.add(lib)
        libs.append(lib)
    bom.register_dependency(model, [*datasets, code])
    bom.register_dependency(code, libs)
    doc: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    doc["metadata"]["component"]["modelCard"] = _model_card(facts, len(datasets))
    for c in doc.get("components", []):
        if c["type"] == "data":
            c["data"] = [{"type": "dataset", "name": c["name"],
                          "contents": {"url": _data_url(artifact, c["name"])}}]
    return doc


def _data_url(artifact: Mapping[str, Any], path: str) -> str:
    storage = str(artifact.get("storage") or "")
    return f"{storage.rstrip('/')}#{path}" if storage else path


def _model_card(facts: BomFacts, datasets: int) -> dict[str, Any]:
    card: dict[str, Any] = {}
    if datasets:
        card["modelParameters"] = {"datasets": [{"ref": f"data-{i}"} for i in range(datasets)]}
    perf = performance_metrics(facts.lineage.get("metrics") or {})
    if perf:
        card["quantitativeAnalysis"] = {"performanceMetrics": perf}
    considerations: dict[str, Any] = {}
    if facts.intended_use:
        considerations["useCases"] = [facts.intended_use]
    fairness = _fairness(facts)
    if fairness:
        considerations["fairnessAssessments"] = fairness
    if considerations:
        card["considerations"] = considerations
    return card


def validate(doc: Mapping[str, Any]) -> None:
    """Raise unless ``doc`` is valid against the CycloneDX 1.6 JSON schema (strict)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    if error is not None:
        raise JxMlopsError(f"the ML-BOM is not valid CycloneDX {SPEC}: {error}")


def bom_facts(start: Path, reference: str) -> BomFacts:
    """The facts of ``MODEL@VERSION`` from the directory ``start``: the lineage, and, in a
    project, mlops.yaml's intended use and fairness limits; the dependency files are
    read at the version's commit (never the work tree)."""
    from jx_mlops.config.project import find_project_root
    from jx_mlops.promote.lineage import lineage_of

    return lineage_facts(find_project_root(start), lineage_of(start, reference).to_json())


def lineage_facts(root: Path, lineage: dict[str, Any]) -> BomFacts:
    """The facts of the version ``lineage`` describes (as ``lineage --json`` has it, or
    as registration assembles it before the tag exists) in the project at ``root``."""
    from jx_mlops.config.project import CONFIG_FILE, load_config
    from jx_mlops.git.repo import GitRepo
    from jx_mlops.yamlio import json_loads

    intended, description, limits = "", "", []
    notes = [f"{k}: unknown ({why})" for k, why in (lineage.get("unknown") or {}).items()]
    if (root / CONFIG_FILE).is_file():
        config = load_config(root)
        model = next((m for m in config.models if m.name == lineage["model"].rsplit(":")[-1]),
                     None)
        if model is not None:
            intended, description = model.intended_use, model.description
        limits = [(env.name, f.metric, f.limit) for env in config.environments
                  for f in env.fairness]
    if not intended:
        notes.append("no intended use is recorded (mlops.yaml models.NAME.intended_use): "
                     "the model card has no use cases")
    if not limits:
        notes.append("no fairness limits are set (mlops.yaml environments[].gates.fairness): "
                     "the model card has no fairness assessment")
    repo = GitRepo.open(root)
    try:
        prefix = (lineage.get("project_path") or "").strip("/")
        files = {}
        for name in (*LOCKS, *REQUIREMENTS):
            path = f"{prefix}/{name}" if prefix else name
            data = repo.read_blob(lineage["commit"], path)
            if data is not None:
                files[path] = data
        card_raw = repo.read_blob(lineage["commit"],
                                  f"{prefix}/{DATA_CARD}" if prefix else DATA_CARD)
    finally:
        repo.close()
    card = json_loads(card_raw) if card_raw else {}
    attribute = card.get("sensitive_attribute") if isinstance(card, dict) else None
    if not files:
        notes.append("no pylock.toml or requirements*.txt at the version's commit: "
                     "no dependencies listed")
    elif not any(Path(p).name in LOCKS for p in files):
        notes.append(f"dependencies are the ranges of {', '.join(sorted(files))}, not a lock: "
                     "a range gives a package URL without a version")
    return BomFacts(lineage, intended, description, limits, parse_dependencies(files),
                    attribute if isinstance(attribute, str) else "", notes)
