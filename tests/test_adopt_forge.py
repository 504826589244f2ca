"""Adopting onto the local forge: `git init && dvc init`, one stage, `jx-mlops init --repo
local/NAME`, and then the loop a created project has (retrain PR, `ci pr`, merge,
`ci release`, staging), plus `forge repo create` and what publishing refuses.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from kit.dvc import dvc
from kit.git import git
from kit.github import TOKEN
from kit.github_server import GitHubServer
from kit.hermetic import apply_env, hermetic_env

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow

TRAIN = """\
import json, os
import yaml
params = yaml.safe_load(open("params.yaml"))["train"]
os.makedirs("models", exist_ok=True)
open("models/model.pkl", "w").write(repr(params))
json.dump({"accuracy": round(0.8 + params["lr"] / 10, 4)}, open("metrics.json", "w"))
"""


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's repository: `git init` (on master), `dvc init`, one stage run and committed
    (built once: every test copies it)."""
    base = tmp_path_factory.mktemp("adopt")
    root = base / "myproj"
    root.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, hermetic_env(base))
        git(root, "init", "-q", "-b", "master")
        dvc(root, "init", "-q")
        (root / "train.py").write_text(TRAIN)
        (root / "params.yaml").write_text("train:\n  lr: 0.1\n  epochs: 3\n")
        dvc(root, "stage", "add", "-q", "-n", "train", "-d", "train.py", "-p", "train.lr",
            "-o", "models/model.pkl", "-M", "metrics.json", "python train.py")
        dvc(root, "repro", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "train a model")
    return root


@pytest.fixture
def repo(dvc_repo: Path, hermetic: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = hermetic / "myproj"
    shutil.copytree(dvc_repo, root, symlinks=True)
    monkeypatch.chdir(root)
    return root


def test_init_repo_publishes_and_the_loop_runs_to_staging(repo: Path, cli) -> None:
    result = cli("init", "--repo", "local/myproj")
    assert result.code == 0, result.err
    assert "created local/myproj: pushed master to file://" in result.out
    forge = LocalForge(jx_home() / "forge")
    assert forge.get_repo("local/myproj").default_branch == "master"
    assert {r.full_name for r in forge.list_repos()} == {
        "local/myproj", "local/environment-staging", "local/environment-production"}
    assert git(repo, "remote", "get-url", "origin") == forge.get_repo("local/myproj").clone_url
    assert git(repo, "log", "-1", "--format=%s") == "Adopt with jx-mlops: mlops.yaml and CI files"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "master") == git(repo, "rev-parse", "origin/master")
    config = yaml.safe_load((repo / "mlops.yaml").read_text())
    assert [e["name"] for e in config["environments"]] == ["staging", "production"]
    # A second run changes nothing and says the repository was found.
    again = cli("init", "--repo", "local/myproj")
    assert again.code == 0 and "found local/myproj" in again.out
    assert git(repo, "log", "-1", "--format=%s") == "Adopt with jx-mlops: mlops.yaml and CI files"

    assert cli("retrain", "--set", "train.lr=0.3").code == 0
    checked = cli("ci", "pr", "--pr", "1", "--json")
    assert checked.code == 0, checked.err
    check = json.loads(checked.out)
    assert check["verdict"] == "pass"
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "master"  # where it started
    assert cli("forge", "pr", "merge", "1").code == 0
    released = json.loads(cli("ci", "release", "--json").out)
    assert [r["tag"] for r in released["registrations"]] == ["model@v0.0.1"]
    assert released["promotions"][0]["merged"] is True
    status = json.loads(cli("status", "--json").out)
    assert [(s["environment"], s["version"]) for s in status] == [
        ("staging", "v0.0.1"), ("production", None)]

    # Behind the forge (PR #1 merged there), init --repo again is a no-op, not a refusal.
    again = cli("init", "--repo", "local/myproj")
    assert again.code == 0 and "found local/myproj" in again.out, again.err

    # A PR whose training fails: the step shows ✗, and `ci pr` says where it leaves you.
    git(repo, "pull", "-q")
    git(repo, "switch", "-qc", "broken")
    (repo / "train.py").write_text('raise SystemExit("no data today")\n')
    git(repo, "commit", "-qam", "break training")
    assert cli("forge", "pr", "create", "--title", "broken").code == 0
    git(repo, "switch", "-q", "master")
    failed = cli("ci", "pr", "--pr", "2")
    assert failed.code == 1
    assert "✗ Reproducing the pipeline (dvc repro)" in failed.err
    assert "✓ Reproducing" not in failed.err
    assert ("warning: left on broken, the head of PR #2, to look at the failure; `git "
            "checkout --force master && dvc checkout` goes back (dropping what the failed "
            "run changed)") in " ".join(failed.err.split())
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "broken"
    assert git(repo, "status", "--porcelain") == "D metrics.json"  # dvc repro removed it
    git(repo, "checkout", "-q", "--force", "master")  # the way back the warning gives
    dvc(repo, "checkout", "-q")
    assert git(repo, "status", "--porcelain") == ""

    # A PR whose dvc.yaml or dvc.lock does not parse: the error names the file and the
    # parser's words (it was "dvc pull failed: 2", the last line of DVC's code excerpt).
    for number, (name, text) in enumerate((
            ("dvc.lock", "schema: '2.0'\nstages:\n  train: [\n"),
            ("dvc.yaml", "stages:\n  train:\n    cmd: python train.py\n    deps: [a\n")), 3):
        git(repo, "switch", "-qc", f"bad-{name.replace('.', '-')}", "master")
        (repo / name).write_text(text)
        git(repo, "commit", "-qam", f"a hand-edited {name}")
        assert cli("forge", "pr", "create", "--title", f"bad {name}").code == 0
        failed = cli("ci", "pr", "--pr", str(number))
        assert failed.code == 1
        assert failed.err.strip().splitlines()[-1].startswith(
            f"error: dvc pull failed in {repo.resolve()}: {name} is invalid: While parsing")


def test_forge_repo_create_publishes_a_project_init_left_local(repo: Path, cli) -> None:
    assert cli("init", "--no-ci").code == 0
    # No forge yet: the command says how to name one.
    result = cli("forge", "repo", "create")
    assert result.code == 1 and "this command needs a forge" in result.err
    text = (repo / "mlops.yaml").read_text().replace(
        "\nmodels:", "\nforge:\n  kind: local\n  repo: local/mine\n\nmodels:", 1)
    (repo / "mlops.yaml").write_text(text)
    result = cli("forge", "repo", "create")
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "error: mlops.yaml is not committed: CI reads the committed one (`git add mlops.yaml "
        "&& git commit`, then publish)"]
    git(repo, "add", "mlops.yaml", "signing.pub")
    git(repo, "commit", "-qm", "adopt")
    made = json.loads(cli("forge", "repo", "create", "--json").out)
    assert (made["repo"], made["branch"], made["created"]) == ("local/mine", "master", True)
    assert made["committed"]  # the DVC remote it added under JX_MLOPS_HOME
    assert git(repo, "status", "--porcelain") == ""
    assert cli("retrain", "--set", "train.lr=0.2").code == 0
    # An empty repository by name, as `gh repo create` makes one.
    other = json.loads(cli("forge", "repo", "create", "local/scratch", "--json").out)
    assert other["full_name"] == "local/scratch"


def test_init_on_github_says_which_command_publishes_and_that_command_does(
        repo: Path, cli, github: GitHubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a token init cannot reach GitHub: a note names `forge repo create`, which
    then creates the repository on (the loopback) GitHub, pushes master and sets origin."""
    result = cli("init", "--forge", "github", "--repo", "acme/myproj")
    assert result.code == 0, result.err
    assert "then run `jx-mlops forge repo create`" in " ".join(result.out.split())
    text = (repo / "mlops.yaml").read_text()
    assert "  kind: github\n" in text
    (repo / "mlops.yaml").write_text(text.replace("  kind: github\n",
                                                  f"  kind: github\n  url: {github.url}\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "adopt with jx-mlops")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    made = cli("forge", "repo", "create", "--json")
    assert made.code == 0, made.err
    data = json.loads(made.out)
    assert (data["repo"], data["branch"], data["created"]) == ("acme/myproj", "master", True)
    assert sorted(github.state.repos) == ["acme/environment-production",
                                          "acme/environment-staging", "acme/myproj"]
    assert git(repo, "remote", "get-url", "origin") == f"{github.url}/acme/myproj.git"
    assert git(github.state.git.path("acme/myproj"), "rev-parse", "master") == git(
        repo, "rev-parse", "HEAD")
    assert any("no default DVC remote" in note for note in data["notes"])
    assert cli("retrain", "--set", "train.lr=0.2").code == 0
    pull = github.state.pulls[("acme/myproj", 1)]
    assert (pull["head"], pull["base"]) == ("retrain/lr-0.2", "master")  # GitHub's default
