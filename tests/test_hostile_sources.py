"""Quickstarts that link out of themselves, a damaged local forge, repeated ChatOps commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git
from kit.quickstart_sources import assert_nothing_written, make_catalogue_repo, make_tiny
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home


def _secrets(tmp_path: Path) -> Path:
    outside = tmp_path / "dot-ssh"
    outside.mkdir()
    (outside / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    return outside


def test_directory_quickstart_whose_template_links_out_is_refused(cli, tmp_path: Path) -> None:
    source = make_tiny(tmp_path / "qs")
    outside = _secrets(tmp_path)
    for name, text in (("mlops.yaml.tmpl", "x"), ("README.md.tmpl", "x")):
        (outside / name).write_text(text)
    template = source / "template"
    for child in template.iterdir():
        child.unlink()
    template.rmdir()
    template.symlink_to(outside)
    target = tmp_path / "proj"
    result = cli("create", "proj", "--quickstart", source, "--dir", target, "--no-train")
    assert result.code == 1
    assert "template leads outside the quickstart" in result.err
    assert result.err.count("\n") == 1
    assert_nothing_written(tmp_path, target)


def test_git_quickstart_whose_shared_layer_links_out_is_refused(cli, tmp_path: Path) -> None:
    outside = _secrets(tmp_path)
    repo = make_catalogue_repo(tmp_path / "catalogue")
    git(repo, "rm", "-rq", "_shared")
    (repo / "_shared").mkdir()
    (repo / "_shared" / "template").symlink_to(outside)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shared layer from elsewhere")
    target = tmp_path / "proj"
    result = cli("create", "proj", "--quickstart", f"{repo.as_uri()}#tiny", "--trust",
                 "--dir", target)
    assert result.code == 1
    assert "leads outside the quickstart" in result.err
    assert_nothing_written(tmp_path, target)


def test_git_quickstart_subdirectory_that_links_out_is_refused(cli, tmp_path: Path) -> None:
    make_tiny(tmp_path / "elsewhere")
    repo = make_catalogue_repo(tmp_path / "catalogue")
    (repo / "away").symlink_to(tmp_path / "elsewhere")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a quickstart from elsewhere")
    target = tmp_path / "proj"
    result = cli("create", "proj", "--quickstart", f"{repo.as_uri()}#away", "--dir", target)
    assert result.code == 1
    assert "#away is a symbolic link out of the repository" in result.err
    assert_nothing_written(tmp_path, target)


def test_quickstart_definition_bomb_is_one_line(cli, tmp_path: Path) -> None:
    source = make_tiny(tmp_path / "qs")
    (source / "quickstart.yaml").write_text(
        "name: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"k{i}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
                  for i in range(8)))
    result = cli("create", "proj", "--quickstart", source, "--dir", tmp_path / "proj")
    assert result.code == 1
    assert "quickstart.yaml: invalid YAML: aliases expand the document" in result.err


# -- forge fsck ---------------------------------------------------------------------------


def test_fsck_finds_and_repairs_damaged_records(cli, tmp_path: Path) -> None:
    forge = LocalForge(jx_home() / "forge")
    forge.create_repo("local/demo", auto_init=True)
    bare = forge.root / "repos" / "local" / "demo.git"
    git(bare, "branch", "feature", "main")
    forge.create_pull("local/demo", title="one", body="", head="feature", base="main")
    forge.create_comment("local/demo", 1, "hello")
    git(bare, "branch", "other", "main")
    forge.create_pull("local/demo", title="two", body="", head="other", base="main")
    meta = forge.root / "repos" / "local" / "demo.forge"
    assert cli("forge", "fsck").out.strip() == "local forge records: all consistent"

    (meta / "state.json").write_text('{"next_pull": 1, "next_comm')  # a truncated write
    (meta / "pulls" / "2.json").write_text("{")
    (meta / "open" / "1").unlink()
    listed = cli("forge", "pr", "list", "--repo", "local/demo")
    assert listed.code == 1
    assert listed.err.startswith(f"error: local-forge record {meta / 'pulls' / '2.json'}: ")
    assert "run `jx-mlops forge fsck`" in listed.err

    check = cli("forge", "fsck", "--json")
    assert check.code == 1
    problems = {Path(f["path"]).name: f["problem"] for f in json.loads(check.out)}
    assert problems.keys() == {"state.json", "2.json", "open"}
    assert problems["open"] == "open pull requests missing from the index: #1"
    assert (meta / "pulls" / "2.json").read_text() == "{"  # a check changes nothing

    assert cli("forge", "fsck", "--repair").code == 0
    assert cli("forge", "fsck").code == 0
    state = json.loads((meta / "state.json").read_text())
    assert (state["next_pull"], state["next_comment"]) == (2, 2)
    assert (meta / "pulls" / ".2.json.corrupt").read_text() == "{"
    assert [p.number for p in forge.list_pulls("local/demo")] == [1]
    assert forge.list_comments("local/demo", 1)[0].body == "hello"


@pytest.mark.slow
def test_ten_reports_in_one_comment_answer_once(project: Project, cli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.path)
    git(project.path, "checkout", "-qb", "talk")
    git(project.path, "commit", "-q", "--allow-empty", "-m", "talk")
    git(project.path, "push", "-q", "origin", "talk")
    git(project.path, "checkout", "-q", "main")
    forge = LocalForge(jx_home() / "forge")
    forge.create_pull("local/churn", title="Talk", body="", head="talk", base="main")
    forge.create_comment("local/churn", 1, "/report\n" * 10)
    result = cli("ci", "chatops", "--pr", "1", "--json")
    assert result.code == 0, result.err
    assert [c["command"] for c in json.loads(result.out)["commands"]] == ["/report"]
