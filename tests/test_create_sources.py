"""`create` from a directory or a git URL: trust, refs, variables, and nothing written on error.

A tiny quickstart (one DVC stage that writes a metrics file) keeps these tests fast; the
bundled quickstarts are exercised end to end in test_quickstart_catalogue.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git
from kit.quickstart_sources import (
    DEFINITION,
    assert_nothing_written,
    make_catalogue_repo,
    make_tiny,
)


def test_directory_quickstart_with_tasks_needs_trust(cli, tmp_path: Path) -> None:
    source = make_tiny(tmp_path / "qs")
    target = tmp_path / "proj"
    result = cli("create", "proj", "--quickstart", source, "--dir", target)
    assert result.code == 1
    assert result.err.strip() == (
        f"error: quickstart tiny from {source} would run code on this machine: its tasks "
        "(python make_data.py) and its pipeline (the baseline `dvc repro`); pass --trust if "
        "you trust its source")
    assert_nothing_written(tmp_path, target)


@pytest.mark.slow
def test_untrusted_without_tasks_can_render_without_training(cli, tmp_path: Path) -> None:
    source = make_tiny(tmp_path / "qs", DEFINITION.replace(
        "tasks:\n  - python make_data.py\ntrack: [data.txt]\n", ""))
    result = cli("create", "proj", "--quickstart", source, "--dir", tmp_path / "a")
    assert result.code == 1 and "--trust if you trust its source, or --no-train" in result.err
    result = cli("-q", "create", "proj", "--quickstart", source, "--dir", tmp_path / "b",
                 "--no-train")
    assert result.code == 0, result.err
    assert (tmp_path / "b" / "README.md").read_text() == "# proj\nhello from tiny\n"
    assert not (tmp_path / "b" / "metrics.json").exists()


@pytest.mark.slow
def test_trusted_directory_quickstart_runs_tasks_and_pipeline(cli, tmp_path: Path) -> None:
    source = make_tiny(tmp_path / "qs")
    target = tmp_path / "proj"
    result = cli("-q", "create", "proj", "--quickstart", source, "--dir", target, "--trust",
                 "--set", "greeting=hi there")
    assert result.code == 0, result.err
    assert (target / "README.md").read_text() == "# proj\nhi there from tiny\n"
    assert json.loads((target / "metrics.json").read_text()) == {"score": 0.5}
    assert "data.txt.dvc" in git(target, "ls-files").splitlines()
    message = git(target, "log", "-1", "--format=%B")
    assert message.startswith("Create project from quickstart tiny")
    assert f"Quickstart source: {source}" in message


@pytest.mark.slow
def test_git_quickstart_at_a_ref_with_its_shared_layer(cli, tmp_path: Path) -> None:
    repo = make_catalogue_repo(tmp_path / "catalogue")
    url = f"{repo.as_uri()}#tiny"
    target = tmp_path / "proj"
    result = cli("-q", "create", "proj", "--quickstart", url, "--vcs-ref", "v1", "--trust",
                 "--dir", target)
    assert result.code == 0, result.err
    assert (target / "README.md").read_text() == "# proj\nhello from tiny\n"  # v1, not v2
    assert (target / "NOTICE.txt").read_text() == "shared file\n"
    tagged = git(repo, "rev-parse", "v1^{commit}")
    assert f"Quickstart source: {url} at {tagged}" in git(target, "log", "-1", "--format=%B")


def test_git_quickstart_errors_write_nothing(cli, tmp_path: Path) -> None:
    repo = make_catalogue_repo(tmp_path / "catalogue")
    target = tmp_path / "proj"
    cases = [
        ([repo.as_uri()], f"error: {repo.as_uri()} is not a quickstart: no quickstart.yaml "
                          "in the repository root (add #SUBDIR to pick one inside)"),
        ([f"{repo.as_uri()}#nope"], f"error: {repo.as_uri()} is not a quickstart: no "
                                    "quickstart.yaml in directory 'nope'"),
        ([f"{repo.as_uri()}#../x"], "#../x must be a relative path inside the repository"),
        ([f"{repo.as_uri()}#tiny", "--vcs-ref", "v9"], "cannot fetch quickstart "
                                                       f"{repo.as_uri()} at v9: git checkout"),
        ([(tmp_path / "missing").as_uri()], "cannot fetch quickstart"),
        (["sklearn-classifier", "--vcs-ref", "v1"],
         "--vcs-ref v1: quickstart 'sklearn-classifier' is not a git URL"),
        ([f"{repo.as_uri()}#tiny", "--trust", "--set", "colour=red"],
         "quickstart tiny has no variable 'colour'"),
        ([f"{repo.as_uri()}#tiny", "--trust", "--forge", "local", "--set", "owner=x"],
         "--set owner: give it as --owner"),
        ([f"{repo.as_uri()}#tiny", "--trust", "--owner", "Acme Corp"],
         "owner='Acme Corp': does not match [a-z]+"),
        ([str(tmp_path / "nowhere")], f"quickstart directory {tmp_path / 'nowhere'} does "
                                      "not exist"),
    ]
    for args, message in cases:
        result = cli("create", "proj", "--dir", target, "--quickstart", *args)
        assert result.code == 1, args
        assert message in result.err, (args, result.err)
        assert result.err.count("\n") == 1 and "Traceback" not in result.err
        assert_nothing_written(tmp_path, target)


def test_missing_packages_are_named_before_anything_is_written(cli, tmp_path: Path) -> None:
    source = make_tiny(tmp_path / "qs", DEFINITION.replace(
        "requires: [pyyaml]", "requires: [pyyaml, surely-not-installed-jx-pkg>=1]"))
    target = tmp_path / "proj"
    result = cli("create", "proj", "--quickstart", source, "--dir", target, "--trust")
    assert result.code == 1
    assert ("error: quickstart tiny needs surely-not-installed-jx-pkg>=1 in the Python that "
            "runs its pipeline") in result.err
    # The project's requirements.txt does not exist yet: the command says what to install.
    assert result.err.strip().endswith(": `pip install 'surely-not-installed-jx-pkg>=1'`")
    (source / "template" / "requirements.txt").write_text("surely-not-installed-jx-pkg>=1\n")
    again = cli("create", "proj", "--quickstart", source, "--dir", target, "--trust")
    assert again.err.strip().endswith(
        f": `pip install -r {source.resolve() / 'template' / 'requirements.txt'}`")
    assert_nothing_written(tmp_path, target)


def test_quickstart_list_shows_packages(cli) -> None:
    listed = json.loads(cli("quickstart", "list", "--json").out)
    by_name = {q["name"]: q for q in listed}
    assert "fairlearn>=0.10" in by_name["sklearn-classifier"]["requires"]
    assert by_name["sklearn-classifier"]["missing"] == []
    assert [v["name"] for v in by_name["sklearn-regressor"]["variables"]] == [
        "project_name", "model_name", "owner", "forge_kind"]
    table = cli("quickstart", "list").out
    assert "lightgbm-classifier" in table and "ready" in table
