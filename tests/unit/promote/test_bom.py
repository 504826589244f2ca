"""The ML-BOM's pure parts: dependencies, metrics as performance metrics, the CycloneDX
1.6 document against the schema cyclonedx-python-lib ships (end to end:
tests/test_supply_chain.py)."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from jx_mlops.errors import JxMlopsError
from jx_mlops.promote.bom import (
    BomFacts,
    build_bom,
    parse_dependencies,
    performance_metrics,
    validate,
)
from jx_mlops.views.supply import bom_markdown

LINEAGE = {
    "model": "churn", "version": "v1.2.0", "tag": "churn@v1.2.0",
    "commit": "0123456789abcdef0123456789abcdef01234567", "registered_at": 1796687747,
    "source_repo": "acme/churn", "project_path": "", "run_url": None, "source_pull": 7,
    "artifact": {"path": "models/model.pkl", "md5": "bc1b832724fb43110dc751e341146d5c",
                 "sha256": "8e" * 32, "size": 61446, "storage": "s3://bucket/churn"},
    "signature": {"method": "key", "sha256": "13" * 32, "bundle": "s3://b/model.pkl.sig"},
    "metrics": {"metrics.json": {"accuracy": 0.724, "note": "text is skipped"},
                "fairness.json": {"by_group.selection_rate.A": 0.64,
                                  "by_group.selection_rate.B": 0.61,
                                  "demographic_parity_difference": 0.034457}},
    "params": {"params.yaml": {"train.seed": 7}},
    "data": [{"path": "data/raw.csv", "md5": "2b04128aaf85880cc35d4fcb87baac85",
              "size": 104673, "nfiles": None},
             {"path": "data/images", "md5": "0cc175b9c0f1b6a831c399e269772661.dir",
              "size": 9, "nfiles": 3}],
}
FACTS = BomFacts(LINEAGE, "Ranking credit applications for human review.", "A classifier",
                 [("production", "demographic_parity_difference", 0.08)],
                 parse_dependencies({"requirements.txt": b"scikit-learn>=1.4\nnumpy==2.1.0\n"}),
                 "group")


def test_the_bom_is_valid_cyclonedx_1_6_with_the_version_facts() -> None:
    doc = build_bom(FACTS)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc)) is None
    assert build_bom(FACTS) == doc  # deterministic: serial and timestamp from the tag
    model = doc["metadata"]["component"]
    assert (model["type"], model["name"], model["version"]) == \
        ("machine-learning-model", "churn", "v1.2.0")
    assert {h["alg"]: h["content"] for h in model["hashes"]} == \
        {"SHA-256": "8e" * 32, "MD5": "bc1b832724fb43110dc751e341146d5c"}
    card = model["modelCard"]
    assert card["considerations"]["useCases"] == [FACTS.intended_use]
    [fair] = card["considerations"]["fairnessAssessments"]
    assert "0.034457, within the limit" in fair["harms"]
    assert fair["groupAtRisk"] == "the groups A, B of the sensitive attribute 'group'"
    assert card["modelParameters"]["datasets"] == [{"ref": "data-0"}, {"ref": "data-1"}]
    data = {c["name"]: c for c in doc["components"] if c["type"] == "data"}
    assert data["data/raw.csv"]["hashes"] == [{"alg": "MD5",
                                               "content": "2b04128aaf85880cc35d4fcb87baac85"}]
    assert {"name": "jx-mlops:dvc-md5", "value": "0cc175b9c0f1b6a831c399e269772661.dir"} \
        in data["data/images"]["properties"]
    libs = {c["name"]: c for c in doc["components"] if c["type"] == "library"}
    assert libs["numpy"]["purl"] == "pkg:pypi/numpy@2.1.0"
    assert libs["scikit-learn"]["purl"] == "pkg:pypi/scikit-learn"  # a range: no version
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps["model"] == ["data-0", "data-1", "training-code"]
    assert sorted(deps["training-code"]) == ["pkg:pypi/numpy@2.1.0", "pkg:pypi/scikit-learn"]


def test_an_invalid_document_is_refused_naming_the_schema_error() -> None:
    doc = build_bom(FACTS)
    doc["metadata"]["component"]["modelCard"]["quantitativeAnalysis"][
        "performanceMetrics"][0]["value"] = 0.7  # the schema wants a string
    with pytest.raises(JxMlopsError, match=r"not valid CycloneDX 1\.6: .*is not of type"):
        validate(doc)


def test_per_group_metrics_become_slices_and_values_strings() -> None:
    perf = performance_metrics(LINEAGE["metrics"])
    assert {"type": "selection_rate", "value": "0.64", "slice": "group A"} in perf
    assert {"type": "accuracy", "value": "0.724"} in perf
    assert all(isinstance(m["value"], str) for m in perf) and len(perf) == 4


def test_a_lock_pins_what_requirements_leave_as_ranges() -> None:
    deps = parse_dependencies({
        "requirements.txt": b"# comment\n-r other.txt\nPandas>=2.0 ; python_version>'3'\n"
                            b"torch==2.13.0+cpu\nnot a requirement ???\n",
        "pylock.toml": b'lock-version = "1.0"\n[[packages]]\nname = "pandas"\n'
                       b'version = "2.2.3"\n'})
    assert [(d.name, d.version, d.source) for d in deps] == [
        ("pandas", "2.2.3", "pylock.toml"), ("torch", "2.13.0+cpu", "requirements.txt")]


def test_the_markdown_shows_the_same_facts_and_what_is_missing() -> None:
    text = bom_markdown(build_bom(FACTS), ["no lock: ranges only"])
    assert text.startswith("# ML-BOM: churn v1.2.0\n")
    assert "| selection_rate | group A | 0.64 |" in text
    assert "| data/raw.csv | `2b04128aaf85880cc35d4fcb87baac85` | 104673 |" in text
    assert "| scikit-learn | >=1.4 | requirements.txt |" in text
    assert text.endswith("- no lock: ranges only\n")
    bare = bom_markdown(build_bom(BomFacts({**LINEAGE, "metrics": {}, "data": []})), [])
    assert "## Intended use\n\nNot recorded." in bare
    assert "No fairness limit is set." in bare
