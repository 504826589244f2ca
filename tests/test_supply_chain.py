"""`bom` and `techfile` on the session's trained quickstart: a registered version's
CycloneDX 1.6 ML-BOM carries the facts `lineage` shows and validates against the schema
cyclonedx-python-lib ships; the technical file fills at least 90% of the Annex IV
headings it counts (pure parts: tests/unit/promote/test_bom.py, test_techfile.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from kit.workspace import Project

pytestmark = pytest.mark.slow


def test_bom_of_a_registered_version_validates_and_matches_its_lineage(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(project.path)
    assert cli("register", "churn").code == 0
    lineage = json.loads(cli("lineage", "churn@v0.0.1", "--json").out)

    out = tmp_path / "bom.cdx.json"
    made = cli("bom", "churn@v0.0.1", "--output", out)
    assert made.code == 0, made.err
    assert f"Wrote {out}" in made.err
    # requirements.txt has ranges only: said on stderr, never a silent pass
    assert "dependencies are the ranges of requirements.txt, not a lock" in made.err
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    model = doc["metadata"]["component"]
    assert {h["alg"]: h["content"] for h in model["hashes"]} == {
        "SHA-256": lineage["artifact"]["sha256"], "MD5": lineage["artifact"]["md5"]}
    [data] = [c for c in doc["components"] if c["type"] == "data"]
    assert (data["name"], data["hashes"][0]["content"]) == \
        ("data/raw.csv", lineage["data"][0]["md5"])
    [code] = [c for c in doc["components"] if c["type"] == "application"]
    assert code["version"] == lineage["commit"]
    libs = {c["name"] for c in doc["components"] if c["type"] == "library"}
    assert {"scikit-learn", "fairlearn", "dvc"} <= libs
    perf = model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert {"type": "accuracy", "value": str(lineage["metrics"]["metrics.json"]["accuracy"])} \
        in perf
    assert any(m.get("slice") == "group A" for m in perf)
    assert "human review" in model["modelCard"]["considerations"]["useCases"][0]
    [fair] = model["modelCard"]["considerations"]["fairnessAssessments"]
    assert fair["groupAtRisk"] == "the groups A, B of the sensitive attribute 'group'"
    assert cli("bom", "churn@v0.0.1").out == text  # stdout: the same bytes

    md = cli("bom", "churn@v0.0.1", "--format", "md")
    assert md.code == 0 and md.out.startswith("# ML-BOM: churn v0.0.1\n")
    assert f"| data/raw.csv | `{lineage['data'][0]['md5']}` |" in md.out

    missing = cli("bom", "churn@v9.9.9")
    assert missing.code == 1
    assert missing.err.strip().splitlines()[-1] == \
        "error: churn@v9.9.9 is not registered (latest: v0.0.1)"
    assert cli("bom", "churn@v0.0.1", "--output", tmp_path / "no" / "bom.json").code == 1
    assert "a directory; give a file name" in cli("bom", "churn@v0.0.1", "--output",
                                                  tmp_path).err

    tech = tmp_path / "techfile.md"
    wrote = cli("techfile", "churn@v0.0.1", "--output", tech)
    assert wrote.code == 0, wrote.err
    assert "17 of 17 Annex IV headings filled from repository facts" in " ".join(
        wrote.err.split())
    text = tech.read_text()
    assert "**Headings filled from repository facts: 17 of 17 (100%).**" in text
    assert f"- data/raw.csv: DVC md5 {lineage['data'][0]['md5']}" in text
    assert "- production: manual promotion, 1 approval(s)" in text
    # create's verify: block is the post-market monitoring plan
    assert "## 9 Post-market performance evaluation and monitoring plan\n\n- staging: " \
        "checked against the Prometheus JX_MLOPS_PROMETHEUS_URL names within 1800 s after " \
        "each promotion " \
        "(availability, error-ratio, latency-p95, score-drift); on failure: rollback" in text
    same = cli("techfile", "churn@v0.0.1", "--since", "v0.0.1")
    assert same.code == 1 and "--since v0.0.1: the version itself" in same.err
