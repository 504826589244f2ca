"""`jx-mlops create --forge github`: a project published on (the loopback) GitHub."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kit.git import git
from kit.github import TOKEN, github_forge
from kit.github_server import GitHubServer

pytestmark = pytest.mark.slow  # create trains a quickstart (a real dvc repro)


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

    # main is protected: every merge (an admin's too) needs the evaluation to pass.
    assert "not protected" not in result.out + result.err
    rule = github.state.repos["acme/churn"].protection["main"]
    assert rule["required_status_checks"] == {"strict": False,
                                              "contexts": ["jx-mlops/evaluation"]}
    assert rule["enforce_admins"] is True
    git(project, "switch", "-qc", "tweak")
    (project / "README.md").write_text("tweaked\n")
    git(project, "commit", "-qam", "Tweak the README")
    assert cli("-C", project, "forge", "pr", "create").code == 0
    forge = github_forge(github)
    head = forge.get_pull("acme/churn", 1).head_sha
    for state, says in ((None, "expected"), ("failure", "failing"), ("pending", "pending")):
        if state:
            forge.set_status("acme/churn", head, state=state, context="jx-mlops/evaluation")
        refused = cli("-C", project, "forge", "pr", "merge", "1")
        assert refused.code == 1
        assert refused.err == (
            "error: acme/churn#1 cannot be merged: GitHub: Required status check "
            f'"jx-mlops/evaluation" is {says}. (main is protected on GitHub, the evaluation '
            "must pass; an admin may lift the rule)\n")
    forge.set_status("acme/churn", head, state="success", context="jx-mlops/evaluation")
    assert cli("-C", project, "forge", "pr", "merge", "1").code == 0
    assert github.state.pulls[("acme/churn", 1)]["merged_at"]

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


def test_create_on_github_says_when_main_cannot_be_protected(
        github: GitHubServer, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GitHub Free has no branch protection on private repositories: a 403 for anyone.
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.fail("PUT /repos/{owner}/{repo}/branches/{branch}/protection", 403,
                "Upgrade to GitHub Pro or make this repository public to enable this feature.")
    result = cli("create", "churn", "--quickstart", "sklearn-classifier", "--forge", "github",
                 "--owner", "acme", "--forge-url", github.url, "--dvc-remote",
                 tmp_path / "remote", "--no-train", "--dir", tmp_path / "churn")
    assert result.code == 0, result.err
    assert (
        "warning: main of acme/churn is not protected: GitHub refused to protect main (PUT "
        "/repos/acme/churn/branches/main/protection) on acme/churn (403 Upgrade to GitHub Pro "
        "or make this repository public to enable this feature.): the token needs admin "
        "rights on the repository (administration: write); ask an admin to require status "
        "check jx-mlops/evaluation ✓ Publishing") in " ".join(result.err.split())
    assert github.state.repos["acme/churn"].protection == {}


def test_github_protection_needs_admin_rights(github: GitHubServer) -> None:
    """A token whose user may push but is not an admin of the repository gets GitHub's 403,
    which protect_default_branch returns as the reason, not as a failure."""
    from jx_mlops.forge.protection import protect_default_branch

    admin = github_forge(github)
    admin.create_repo("acme/models", auto_init=True)
    github.add_user("dev", "ghp_developerWithWriteAccessOnly000000")
    github.set_permission("acme/models", "dev", "write")
    dev = github_forge(github, token="ghp_developerWithWriteAccessOnly000000", user="dev")
    why_not = protect_default_branch(dev, "acme/models", "main", ("jx-mlops/evaluation",))
    assert why_not == (
        "GitHub refused to protect main (PUT /repos/acme/models/branches/main/protection) on "
        "acme/models (403 Must have admin rights to Repository.): the token needs admin "
        "rights on the repository (administration: write)")
    assert github.state.repos["acme/models"].protection == {}
    assert protect_default_branch(admin, "acme/models", "main", ("jx-mlops/evaluation",)) \
        is None
    assert github.state.repos["acme/models"].protection["main"]["enforce_admins"] is True
