"""`jx-mlops create --forge github`: a project published on (the loopback) GitHub."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import git
from github_fixtures import TOKEN
from github_server import GitHubServer


def test_create_on_github(github: GitHubServer, cli, monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    result = cli("create", "churn", "--quickstart", "sklearn-classifier", "--forge", "github",
                 "--owner", "acme", "--forge-url", github.url, "--dvc-remote",
                 tmp_path / "remote", "--no-train", "--dir", tmp_path / "churn")
    assert result.code == 0, result.err
    assert "environment repository acme/environment-staging created" in result.out
    assert sorted(github.state.repos) == ["acme/churn", "acme/environment-production",
                                          "acme/environment-staging"]
    project = tmp_path / "churn"
    config = yaml.safe_load((project / "mlops.yaml").read_text())
    assert config["forge"] == {"kind": "github", "url": github.url, "repo": "acme/churn"}
    assert git(project, "remote", "get-url", "origin") == f"{github.url}/acme/churn.git"
    assert git(github.state.git.path("acme/churn"), "rev-parse", "main") == git(
        project, "rev-parse", "HEAD")
    assert TOKEN not in (project / ".git" / "config").read_text()
    tracked = git(project, "ls-files").splitlines()
    assert ".github/workflows/mlops-pr.yml" in tracked
    assert ".lighthouse/jenkins-x/pullrequest.yaml" in tracked

    again = cli("create", "churn", "--quickstart", "sklearn-classifier", "--forge", "github",
                "--owner", "acme", "--forge-url", github.url, "--dvc-remote", "s3://b/p",
                "--dir", tmp_path / "again")
    assert again.err.strip() == "error: repository acme/churn already exists on the github forge"


def test_create_on_github_needs_an_owner_a_remote_and_a_token(cli, tmp_path: Path) -> None:
    base = ("create", "churn", "--quickstart", "sklearn-classifier", "--forge", "github")
    assert cli(*base).err.strip() == (
        "error: --forge github needs --owner: the GitHub user or organization that will own "
        "the repositories")
    assert "needs --dvc-remote URL" in cli(*base, "--owner", "acme").err
    result = cli(*base, "--owner", "acme", "--dvc-remote", "s3://bucket/churn")
    assert result.err.strip().startswith("error: the github forge needs a token: set "
                                         "GITHUB_TOKEN or GH_TOKEN")
    assert not (tmp_path / "churn").exists()
