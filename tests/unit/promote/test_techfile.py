"""The technical file's headings and its denominator (end to end on the quickstart:
tests/test_supply_chain.py)."""

from __future__ import annotations

from jx_mlops.promote.techfile import TechFacts, headings, render, score, to_json

LINEAGE = {
    "model": "churn", "version": "v0.2.0", "tag": "churn@v0.2.0", "commit": "b" * 40,
    "source_repo": "acme/churn",
    "artifact": {"path": "models/model.pkl", "md5": "2" * 32, "sha256": "8e" * 32,
                 "size": 10, "serving_uri": "s3://b/churn/v0.2.0/model.pkl"},
    "signature": {"method": "key", "bundle": "s3://b/model.pkl.sig", "sha256": "1" * 64,
                  "status": "verified"},
    "metrics": {"metrics.json": {"accuracy": 0.75}},
    "params": {"params.yaml": {"train.seed": 8}},
    "data": [{"path": "data/raw.csv", "md5": "a" * 32, "size": 5}],
}
SINCE = {**LINEAGE, "version": "v0.1.0", "commit": "a" * 40,
         "artifact": {**LINEAGE["artifact"], "md5": "1" * 32},
         "metrics": {"metrics.json": {"accuracy": 0.72}},
         "params": {"params.yaml": {"train.seed": 7}},
         "data": [{"path": "data/raw.csv", "md5": "c" * 32, "size": 5}]}


def test_the_denominator_leaves_out_the_six_headings_no_repository_holds() -> None:
    items = headings(TechFacts(LINEAGE, None, ("v0.1.0", "v0.2.0"), SINCE,
                               stages={"train": "python train.py"}))
    assert len(items) == 23
    assert [h.key for h in items if not h.counted] == ["1(e)", "1(f)", "1(g)", "1(h)", "7", "8"]
    filled, total = score(items)
    assert total == 17
    # without mlops.yaml: no intended use, environments, policy, gates or monitoring
    missing = sorted(h.key for h in items if h.counted and not h.filled)
    assert missing == ["1(a)", "1(b)", "1(c)", "2(e)", "3", "4", "5", "9"]
    assert filled == 17 - len(missing)


def test_changes_since_name_data_params_metrics_and_model() -> None:
    text = render(TechFacts(LINEAGE, None, ("v0.1.0", "v0.2.0"), SINCE))
    assert f"- data data/raw.csv: md5 {'c' * 32} -> {'a' * 32}" in text
    assert "- param params.yaml: train.seed 7 -> 8" in text
    assert "- metric metrics.json: accuracy 0.72 -> 0.75" in text
    assert f"- model file md5 {'1' * 32} -> {'2' * 32}" in text
    assert "**Headings filled from repository facts: 8 of 17 (47%).**" in text
    assert "## 9 Post-market performance evaluation and monitoring plan\n\n_not recorded_" \
        in text
    assert "## 8 EU declaration of conformity\n\n_kept outside the repository" in text


def test_the_json_names_each_heading_and_the_denominator() -> None:
    data = to_json(TechFacts(LINEAGE, None, ("v0.2.0",), stages={"train": "python t.py"}))
    assert (data["tag"], data["filled"], data["counted"]) == ("churn@v0.2.0", 8, 17)
    by_key = {h["key"]: h for h in data["headings"]}
    assert by_key["2(a)"] == {"key": "2(a)", "title": "Development methods and steps",
                              "counted": True, "filled": True,
                              "facts": ["stage train: python t.py"]}
    assert by_key["7"]["counted"] is False and by_key["9"]["filled"] is False


def test_human_oversight_names_each_promotion_its_approvers_and_holds() -> None:
    from jx_mlops.promote.techfile import decisions

    lineage = {**LINEAGE, "deployments": [
        {"environment": "production", "action": "promote", "by": "ana",
         "since": "2026-12-01T10:00:00Z", "pull_request": 4, "approved_by": ["bo"],
         "forced": False, "holds": [{"version": "v0.2.0", "by": "cy", "at": "2026-12-02",
                                     "reason": "drift"},
                                    {"version": "v0.1.0", "by": "cy", "at": "2026-11-02",
                                     "reason": "old"}]},
        {"environment": "staging", "action": "promote", "by": "ci", "since": "2026-11-30",
         "pull_request": None, "approved_by": [], "forced": True, "holds": []}]}
    assert decisions(lineage) == [
        "production: promote of v0.2.0 by ana at 2026-12-01T10:00:00Z through pull request "
        "#4, approved by bo",
        "production: v0.2.0 on hold since 2026-12-02 by cy: drift",
        "staging: promote of v0.2.0 by ci at 2026-11-30, no approval recorded, forced past "
        "a gate"]
    assert decisions(LINEAGE) == ["v0.2.0 runs in no environment: no promotion decision "
                                   "recorded yet"]
