"""mlops.yaml validation: every error names the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.config import parse

from jx_mlops.compare.policy import MetricPolicy
from jx_mlops.config.project import load_config, parse_config
from jx_mlops.errors import ConfigError

VALID = """\
version: 1
project: churn
forge: {kind: local, repo: acme/churn}
models:
  churn:
    artifact: models/model.pkl
    metrics: [metrics.json]
    policy:
      accuracy: {direction: higher, tolerance: 0.01, min: 0.7}
      loss: {direction: lower, rel_tolerance: 0.05}
environments:
  - {name: staging, repo: acme/environment-staging}
  - {name: production, repo: acme/environment-production, strategy: manual}
"""


def test_valid_config_is_typed() -> None:
    config = parse_config(VALID, Path("/p/mlops.yaml"))
    assert config.name == "churn"
    assert config.forge.repo == "acme/churn"
    model = config.model("churn")
    assert model.metrics == ("metrics.json",)
    assert model.params == ()  # empty: the params files dvc.yaml declares at each revision
    assert model.predictions is None
    assert model.policy_for("metrics.json", "accuracy") == MetricPolicy("higher", 0.01, 0.0, 0.7)
    assert model.policy_for("metrics.json", "unknown") == MetricPolicy()
    assert [e.strategy for e in config.environments] == ["auto", "manual"]
    assert config.root == Path("/p")


@pytest.mark.parametrize(("change", "message"), [
    (("direction: higher, tolerance: 0.01, min: 0.7", "direction: up"),
     "mlops.yaml: models.churn.policy.accuracy.direction: expected 'higher' or 'lower', "
     "got 'up'"),
    (("tolerance: 0.01, min", "tolerance: -1, min"),
     "mlops.yaml: models.churn.policy.accuracy.tolerance: expected a number >= 0, got -1"),
    (("repo: acme/churn}", "repo: churn}"),
     "mlops.yaml: forge.repo: expected a repository as OWNER/NAME, got 'churn'"),
    (("artifact: models/model.pkl", "artifact: ''"),
     "mlops.yaml: models.churn.artifact: expected a path to the DVC-tracked model, got ''"),
    (("strategy: manual", "strategy: sometimes"),
     "mlops.yaml: environments[1].strategy: expected 'auto' or 'manual' or 'never', "
     "got 'sometimes'"),
    (("project: churn", "projcet: churn"),
     "mlops.yaml: projcet: unknown key (expected one of: version, project, forge, models, "
     "environments, registry, evaluation, signing, ci, compute)"),
    (("name: production", "name: staging"),
     "mlops.yaml: environments: duplicate name 'staging'"),
    (("  churn:\n", "  Churn_Model:\n"),
     "mlops.yaml: models.Churn_Model: model name must be lowercase letters, digits and "
     "dashes, at most 63 (it names Kubernetes resources), got 'Churn_Model'"),
    (("metrics: [metrics.json]", "metrics: []"),
     "mlops.yaml: models.churn.metrics: expected a path or a non-empty list of paths, got []"),
    (("min: 0.7", "min: 0.7, max: 0.5"),
     "mlops.yaml: models.churn.policy.accuracy.min: expected a value <= max (0.5), got 0.7"),
    (("version: 1", "version: 2"),
     "mlops.yaml: version: expected 1 (the only mlops.yaml version), got 2"),
])
def test_invalid_config_names_file_key_and_expectation(change: tuple[str, str],
                                                       message: str) -> None:
    old, new = change
    assert old in VALID
    with pytest.raises(ConfigError) as info:
        parse(VALID.replace(old, new))
    assert info.value.user_message() == message


def test_malformed_yaml_gives_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^mlops.yaml: invalid YAML at line 3, column \d+"):
        parse("version: 1\nforge: {kind: local\nmodels: [\n")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"mlops\.yaml: \(top level\): expected a mapping"):
        parse("- just\n- a list\n")


def test_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.user_message() == (
        f"mlops.yaml not found in {tmp_path.resolve()} (in an existing DVC project run "
        "`jx-mlops init`; for a new one, `jx-mlops create`)")


def test_unknown_model_and_environment_list_known_ones() -> None:
    config = parse_config(VALID, Path("/p/mlops.yaml"))
    with pytest.raises(ConfigError, match="no model named 'x' \\(models: churn\\)"):
        config.model("x")
    with pytest.raises(ConfigError, match="environments: staging, production"):
        config.environment("qa")


def test_cli_reports_config_errors_in_one_line(cli, tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text(VALID.replace("direction: higher, tolerance: 0.01",
                                                       "direction: sideways, tolerance: 0.01"))
    result = cli("report", "--format", "json")
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "error: mlops.yaml: models.churn.policy.accuracy.direction: expected 'higher' or "
        "'lower', got 'sideways'"]
    assert "Traceback" not in result.err


@pytest.mark.parametrize(("block", "message"), [
    ("evaluation: evaluate", "mlops.yaml: evaluation: expected a mapping, got 'evaluate'"),
    ("evaluation: {trusted: [evaluate]}",
     "mlops.yaml: evaluation.trusted: expected the name of a dvc.yaml stage, got ['evaluate']"),
    ("evaluation: {trusted: evaluate, mode: lenient}",
     "mlops.yaml: evaluation.mode: expected 'enforced' or 'advisory', got 'lenient'"),
    ("evaluation: {trusted: evaluate, stage: x}",
     "mlops.yaml: evaluation.stage: unknown key (expected one of: trusted, mode, "
     "on_mismatch, holdout, holdout_remote, holdout_target, holdout_features)"),
    ("evaluation: {trusted: evaluate, on_mismatch: warn}",
     "mlops.yaml: evaluation.on_mismatch: expected 'flag' or 'fail', got 'warn'"),
    ("evaluation: {on_mismatch: fail}",
     "mlops.yaml: evaluation.trusted: expected a stage (on_mismatch applies to trusted "
     "evaluation), got nothing"),
    ("ci: {run_cache: yes}",
     "mlops.yaml: ci.run_cache: expected 'skip' or 'pull', got True"),
    ("ci: {run_cache: pull, push: true}",
     "mlops.yaml: ci.push: unknown key (expected one of: run_cache)"),
])
def test_invalid_evaluation_block_is_one_line(block: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(VALID + block + "\n")
    assert info.value.user_message() == message


def test_evaluation_block_names_the_trusted_stage() -> None:
    assert parse(VALID).evaluation.trusted is None
    config = parse(VALID + "evaluation: {trusted: evaluate, mode: advisory}\n")
    assert (config.evaluation.trusted, config.evaluation.mode) == ("evaluate", "advisory")
    assert parse(VALID + "evaluation: {trusted: evaluate}\n").evaluation.mode == "enforced"
    assert parse(VALID + "evaluation: {trusted: evaluate, on_mismatch: fail}\n"
                 ).evaluation.on_mismatch == "fail"


def test_run_cache_is_skipped_unless_ci_says_pull() -> None:
    assert parse(VALID).ci.run_cache == "skip"
    assert parse(VALID + "ci: {run_cache: pull}\n").ci.run_cache == "pull"
