"""Promotion through environment repositories, through the CLI, on a real local forge."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from kit.git import git
from kit.lab import Lab, kserve_schema, make_lab

from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # promotion stories through the CLI on a real local forge


def register(cli, lab: Lab, *args: str) -> dict:
    result = cli("register", lab.models[0], "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def promote(cli, *args: str) -> dict:
    result = cli("promote", *args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_auto_promotion_merges_a_pull_request_with_record_card_and_manifest(cli, lab) -> None:
    lab.new_version()
    register(cli, lab)
    result = promote(cli, "fraud", "--version", "v0.0.1", "--to", "staging")
    assert (result["merged"], result["pull_request"], result["waiting"]) == (True, 1, False)

    pull = lab.forge.get_pull("local/environment-staging", 1)
    assert pull.title == "chore: promote fraud to v0.0.1 in staging"
    assert pull.head == "promote/staging/fraud-v0.0.1" and pull.state == "merged"
    assert set(pull.labels) == {"env/staging", "model/fraud"}
    assert "Nothing deployed yet" in pull.body and "| accuracy | — | 0.81 |" in pull.body

    record = lab.record("staging", "fraud")
    assert (record["version"], record["state"], record["promotion"]["pull_request"]) == \
        ("v0.0.1", "serving", 1)
    assert record["source"]["tag"] == "fraud@v0.0.1" and record["source"]["tag_object"]
    assert record["metrics"]["metrics-fraud.json"]["accuracy"] == 0.81
    assert record["data"] == [{"path": "data/raw.csv", "md5": record["data"][0]["md5"],
                               "size": 8, "nfiles": None}]

    manifest = yaml.safe_load(lab.env_file("staging", "serving/fraud.yaml"))
    jsonschema.Draft202012Validator(kserve_schema()).validate(manifest)
    model = manifest["spec"]["predictor"]["model"]
    assert model["modelFormat"] == {"name": "sklearn"}
    # The named copy of the model the runtime loads, not the DVC object (named by its md5).
    assert model["storageUri"] == "file://" + record["artifact"]["serving_uri"]
    assert record["artifact"]["serving_uri"].endswith("/jx-mlops/models/fraud/v0.0.1/fraud.pkl")
    assert Path(record["artifact"]["serving_uri"]).read_text() == "fraud 1"
    assert manifest["metadata"]["labels"]["app.kubernetes.io/version"] == "v0.0.1"

    card = lab.env_file("staging", "models/fraud.md")
    assert card.startswith("# Model card: fraud v0.0.1")
    assert "Scoring fraud risk of card payments" in card and "data/raw.csv" in card
    # The branch was deleted after the merge, as GitHub's auto-delete does.
    assert lab.env_git("staging", "branch", "--list", "promote/*") == ""


def test_schema_validator_is_strict() -> None:
    schemas = Path(__file__).parent / "schemas" / "serving.kserve.io"
    validator = jsonschema.Draft202012Validator(kserve_schema())
    validator.validate(json.loads((schemas / "inferenceservice_v1beta1.valid.json").read_text()))
    invalid = json.loads((schemas / "inferenceservice_v1beta1.invalid.json").read_text())
    assert list(validator.iter_errors(invalid))


def test_promoting_twice_changes_nothing(cli, lab) -> None:
    lab.new_version()
    register(cli, lab)
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "staging")
    head = lab.env_git("staging", "rev-parse", "main")
    again = promote(cli, "fraud", "--version", "latest", "--to", "staging")
    assert again["already_deployed"] is True and again["pull_request"] is None
    assert lab.env_git("staging", "rev-parse", "main") == head
    assert len(lab.forge.list_pulls("local/environment-staging", state="all")) == 1


def test_manual_environment_waits_for_an_approval_by_another_writer(cli, lab, monkeypatch
                                                                     ) -> None:
    lab.new_version()
    register(cli, lab)
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "staging")
    waiting = promote(cli, "fraud", "--version", "v0.0.1", "--to", "production")
    assert (waiting["merged"], waiting["waiting"]) == (False, True)
    assert "do-not-merge/hold" in waiting["labels"]
    # signature, previous environment, evaluation (not merged from a PR: nothing to
    # respect), approvals
    assert [g["status"] for g in waiting["gates"]] == ["pass", "pass", "pass", "pending"]
    again = promote(cli, "fraud", "--version", "v0.0.1", "--to", "production")
    assert again["pull_request"] == waiting["pull_request"]  # reused, not a second PR

    refused = cli("approve", "fraud", "--env", "production")
    assert refused.code == 1
    assert "tester requested local/environment-production#1 and cannot approve it" in refused.err
    lab.forge.set_permission("local/environment-production", "mallory", "read")
    monkeypatch.setenv("JX_MLOPS_USER", "mallory")
    refused = cli("approve", "fraud", "--env", "production")
    assert refused.code == 1 and "needs write permission (has read)" in refused.err

    monkeypatch.setenv("JX_MLOPS_USER", "alice")
    approved = cli("approve", "fraud", "--env", "production", "--json")
    assert approved.code == 0, approved.err
    assert json.loads(approved.out)["merged"] is True
    pull = lab.forge.get_pull("local/environment-production", 1)
    assert pull.state == "merged" and "do-not-merge/hold" not in pull.labels
    record = lab.record("production", "fraud")
    assert record["promotion"]["by"] == "tester"  # who asked; alice approved
    assert record["promotion"]["approved_by"] == ["alice"]
    statuses = lab.forge.get_statuses("local/environment-production", pull.head_sha)
    assert [(s.context, s.state) for s in statuses] == [("jx-mlops/gates", "success")]


def test_approval_comment_counts_when_the_promotion_is_re_run(cli, lab, monkeypatch) -> None:
    lab.new_version()
    register(cli, lab)
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "staging")
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "production")
    forge = lab.forge
    forge.set_permission("local/environment-production", "reader", "read")
    for user, body in (("tester", "/approve"), ("reader", "/approve"),
                       ("bob", "looks good\n/approve"), ("bob", "/approve cancel")):
        monkeypatch.setenv("JX_MLOPS_USER", user)
        forge.create_comment("local/environment-production", 1, body)
    monkeypatch.setenv("JX_MLOPS_USER", "tester")
    still = promote(cli, "fraud", "--version", "v0.0.1", "--to", "production")
    assert still["waiting"] is True  # author, reader and a withdrawn approval do not count
    monkeypatch.setenv("JX_MLOPS_USER", "carol")
    forge.create_comment("local/environment-production", 1, "/approve")
    monkeypatch.setenv("JX_MLOPS_USER", "tester")
    done = promote(cli, "fraud", "--version", "v0.0.1", "--to", "production")
    assert done["merged"] is True
    assert lab.record("production", "fraud")["promotion"]["approved_by"] == ["carol"]


def test_production_requires_the_version_in_staging_first(cli, lab) -> None:
    lab.new_version()
    register(cli, lab)
    result = cli("promote", "fraud", "--version", "v0.0.1", "--to", "production")
    assert result.code == 1
    assert result.err.strip().startswith(
        "error: promotion of fraud v0.0.1 in production blocked by gates: previous "
        "environment: v0.0.1 never ran in staging (nothing runs in staging); promote it "
        "there first")
    assert lab.forge.list_pulls("local/environment-production", state="all") == []


def test_strategy_never_refuses(cli, lab) -> None:
    text = (lab.path / "mlops.yaml").read_text().replace("strategy: manual", "strategy: never")
    (lab.path / "mlops.yaml").write_text(text)
    lab.new_version()
    register(cli, lab)
    result = cli("promote", "fraud", "--version", "v0.0.1", "--to", "production")
    assert result.code == 1 and "has strategy 'never'" in result.err


def test_unknown_version_and_environment_are_one_line_errors(cli, lab) -> None:
    result = cli("promote", "fraud", "--version", "v9.0.0", "--to", "staging")
    assert (result.code, result.err.strip().splitlines()[-1]) == (
        1, "error: fraud@v9.0.0 is not registered (latest: none registered)")
    result = cli("promote", "fraud", "--version", "v0.0.1", "--to", "qa")
    assert result.code == 1
    assert result.err.strip() == ("error: mlops.yaml: no environment named 'qa' "
                                  "(environments: staging, production)")


def test_a_model_name_belongs_to_one_project_per_environment(cli, lab, hermetic,
                                                             monkeypatch) -> None:
    lab.new_version()
    register(cli, lab)
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "staging")
    other = make_lab(hermetic / "other", jx_home(), name="fraud-copy", models=("fraud",))
    monkeypatch.chdir(other.path)
    other.new_version()
    register(cli, other)
    result = cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    assert result.code == 1
    assert result.err.strip().endswith(
        "error: models/fraud.yaml in staging belongs to fraud of local/fraud; model names "
        "must be unique within an environment")


def test_approval_can_be_withdrawn_and_status_filters_an_environment(cli, lab,
                                                                     monkeypatch) -> None:
    lab.new_version()
    register(cli, lab)
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "staging")
    lab.forge.set_permission("local/environment-production", None, "read")
    lab.forge.set_permission("local/environment-production", "tester", "write")
    promote(cli, "fraud", "--version", "v0.0.1", "--to", "production")
    monkeypatch.setenv("JX_MLOPS_USER", "alice")
    refused = cli("approve", "fraud", "--env", "production")
    assert "alice cannot approve local/environment-production#1: needs write permission " \
           "(has read)" in refused.err
    withdrawn = cli("approve", "fraud", "--env", "production", "--cancel", "--json")
    assert withdrawn.code == 1  # withdrawing needs write permission too
    lab.forge.set_permission("local/environment-production", "alice", "write")
    cancelled = json.loads(cli("approve", "fraud", "--env", "production", "--cancel",
                               "--json").out)
    assert cancelled["waiting"] is True
    comments = lab.forge.list_comments("local/environment-production", 1)
    assert [(c.author, c.body) for c in comments] == [("alice", "/approve cancel")]
    status = json.loads(cli("status", "--env", "production", "--json").out)
    assert [(s["environment"], s["version"]) for s in status] == [("production", None)]


def test_register_version_on_a_commit_that_has_one_refuses_and_names_it(cli, lab) -> None:
    lab.new_version()
    register(cli, lab)
    again = cli("register", "fraud", "--version", "v0.0.5")
    assert again.code == 1
    assert "commit" in again.err and "is already registered as fraud@v0.0.1" in again.err
    assert "fraud@v0.0.5" not in lab.forge_git_tags() and \
        "fraud@v0.0.5" not in git(lab.path, "tag", "-l").split()
    same = register(cli, lab, "--version", "v0.0.1")
    assert same["version"] == "v0.0.1"
