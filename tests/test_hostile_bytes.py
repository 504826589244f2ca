"""Attacks on the bytes of the trust chain (issue 20), played through the CLI on the local
forge: a writer of the DVC remote who cannot write git, and a pull request's author whose
files and code end up where trusted steps read. Every planted pickle writes a marker file
when loaded; no test may see one.

1. a pickle planted at the next version's serving path;
2. the remote's content-addressed object of the model overwritten;
3. a model committed to git and dropped from dvc.lock, re-scored by `/report`;
4. hooks, an fsmonitor and a smudge filter written into `.git` by the PR's code;
5. a dvc.lock "md5" that is a path to a secret of the CI machine;
7. a DVC run-cache entry planted for a visible retrain PR.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from kit.dvc import dvc
from kit.git import git
from kit.github import TOKEN, GitHubProject
from kit.hostile import locked_md5, marker_pickle, md5, object_file, overwrite, storage
from kit.workspace import Project

from jx_mlops.forge.github.credentials import git_auth_env
from jx_mlops.forge.local.forge import LocalForge

pytestmark = pytest.mark.slow
REPO = "local/churn"
MODEL = "models/model.pkl"


def _tags(project: Project) -> list[str]:
    bare = project.home / "forge" / "repos" / "local" / "churn.git"
    return git(bare, "tag", "-l").splitlines()


def _staging_records(project: Project) -> str:
    bare = project.home / "forge" / "repos" / "local" / "environment-staging.git"
    return git(bare, "ls-tree", "-r", "--name-only", "main")


def test_a_pickle_planted_at_the_serving_path_is_refused_not_signed(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 1: the next version's serving path is predictable; a writer of the remote
    puts a pickle there before the release."""
    monkeypatch.chdir(project.path)
    marker = tmp_path / "unpickled"
    planted = storage(project.home) / "jx-mlops/models/churn/v0.0.1/model.pkl"
    overwrite(planted, marker_pickle(marker))
    real = locked_md5(project.path, MODEL)

    released = cli("ci", "release")
    assert released.code == 1
    line = released.err.strip().splitlines()[-1]  # after the steps it did
    assert line.startswith("error: churn@v0.0.1 not registered: jx-mlops/models/churn/"
                           "v0.0.1/model.pkl is already in the DVC remote with md5 "
                           f"{md5(planted.read_bytes())}, sha256 ")
    assert f"but the version's bytes have md5 {real}, sha256 " in line
    assert line.endswith(": refusing to publish or sign it (who wrote it? remove it once "
                         "checked)")
    # Nothing was signed, tagged or deployed; the pickle was never loaded.
    assert not planted.with_name("model.pkl.sig").exists()
    assert "churn@v0.0.1" not in _tags(project)
    assert "models/churn.yaml" not in _staging_records(project)
    assert not marker.exists()


def test_an_altered_remote_object_is_never_published_and_audit_names_it(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 2: the writer overwrites the remote's object of the model dvc.lock names;
    the release (a fresh runner: nothing in the local cache) copies from there."""
    monkeypatch.chdir(project.path)
    marker = tmp_path / "unpickled"
    real = locked_md5(project.path, MODEL)
    remote_object = object_file(storage(project.home), real)
    good = remote_object.read_bytes()
    (project.path / ".dvc" / "cache" / "files" / "md5" / real[:2] / real[2:]).unlink()
    overwrite(remote_object, marker_pickle(marker))

    released = cli("ci", "release")
    assert released.code == 1
    assert released.err.strip().splitlines()[-1] == (
        f"error: churn@v0.0.1 not registered: the DVC remote: DVC object {real} does not "
        f"match its hash (its bytes have md5 {md5(remote_object.read_bytes())}): altered "
        "or corrupt, not used")
    assert "churn@v0.0.1" not in _tags(project)
    assert not (storage(project.home) / "jx-mlops").exists()

    # Put back, the release goes through and audit is clean; then one byte of the remote
    # object changes (the next release would copy from it): audit names it.
    overwrite(remote_object, good)
    assert cli("ci", "release").code == 0
    assert cli("audit").code == 0
    overwrite(remote_object, bytes([good[0] ^ 1]) + good[1:])
    audit = cli("audit", "--json")
    assert audit.code == 1
    assert [f["problem"] for f in json.loads(audit.out)["findings"]] == [
        f"DVC remote object {remote_object} has md5 {md5(remote_object.read_bytes())}, but "
        f"churn@v0.0.1 records {real} (replaced?)"]
    assert not marker.exists()


def _evaluation_comment(forge: LocalForge) -> str:
    return next(c.body for c in forge.list_comments(REPO, 1)
                if c.body.startswith("<!-- jx-mlops:report"))


def _pickle_in_git(path: Path, branch: str, marker: Path,
                   env: dict[str, str] | None = None) -> None:
    """A branch whose model is a pickle committed to git, dropped from dvc.lock (what a
    fork can do: it cannot write the DVC remote), pushed with ``env``."""
    git(path, "checkout", "-q", "-b", branch)
    overwrite(path / MODEL, marker_pickle(marker))
    lock_file = path / "dvc.lock"
    lock = yaml.safe_load(lock_file.read_text())
    train = lock["stages"]["train"]
    train["outs"] = [o for o in train["outs"] if o["path"] != MODEL]
    lock_file.write_text(yaml.safe_dump(lock, sort_keys=False))
    git(path, "add", "-f", MODEL, "dvc.lock")
    git(path, "commit", "-q", "-m", "A faster model")
    subprocess.run(["git", "-C", str(path), "push", "-q", "origin", branch],
                   check=True, env={**os.environ, **(env or {})})
    git(path, "checkout", "-q", "main")


def test_report_never_scores_a_model_committed_to_git(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 3: `/report` re-scores with main's evaluate stage, which took the PR's model
    from git when dvc.lock did not name it, and unpickled it in the ChatOps job."""
    monkeypatch.chdir(project.path)
    marker = tmp_path / "unpickled"
    _pickle_in_git(project.path, "faster", marker)
    forge = LocalForge(project.home / "forge")
    forge.create_pull(REPO, title="A faster model", body="", head="faster", base="main")
    forge.create_comment(REPO, 1, "/report")

    result = cli("ci", "chatops", "--pr", "1", "--json")
    assert result.code == 0, result.err
    assert not marker.exists()
    body = _evaluation_comment(forge)
    assert "❌ **Trusted evaluation failed:**" in body
    assert ("the PR's models/model.pkl (the base's stage reads it) is not a DVC output of "
            "its dvc.lock; trusted evaluation takes what it scores only by hash from the "
            "DVC cache or remote, never from git") in body.replace("\\", "")


def test_report_refuses_a_forks_head(github_project: GitHubProject, cli,
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 3, from a fork: its head is no branch of the repository, only the PR ref
    GitHub keeps; `/report` does not load its model in the ChatOps job at all."""
    gp = github_project
    marker = tmp_path / "unpickled"
    auth = git_auth_env(gp.server.url, TOKEN)
    _pickle_in_git(gp.path, "fork-feature", marker, auth)
    forge = gp.forge()
    forge.create_pull(gp.repo, title="A faster model", body="", head="fork-feature",
                      base="main")
    subprocess.run(["git", "-C", str(gp.path), "push", "-q", "origin", ":fork-feature"],
                   check=True, env={**os.environ, **auth})  # only refs/pull/1/head is left
    forge.create_comment(gp.repo, 1, "/report")
    checkout = gp.clone(tmp_path / "chatops")  # mlops-chatops.yml checks out main
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    result = cli("-C", checkout, "ci", "chatops", "--pr", "1", "--json")
    assert result.code == 1, result.err
    (outcome,) = json.loads(result.out)["commands"]
    head = forge.get_pull(gp.repo, 1).head_sha
    assert outcome["message"] == (
        f"not refreshed: the head of #1 ({head[:12]}) is not a branch of local/churn (a "
        "fork's): /report never loads a fork's model in this job; re-run the PR's workflow "
        "(`ci publish` scores its ONNX export)")
    assert not marker.exists()


def test_report_reads_no_file_a_dvc_lock_hash_points_at(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 5: a dvc.lock "md5" of ``xx/<absolute path>`` made `/report` read a file of
    the CI machine (a registry token) and post its keys and values in the comment."""
    monkeypatch.chdir(project.path)
    secret = Path.home() / ".docker" / "config.json"
    secret.parent.mkdir(parents=True)
    secret.write_text(json.dumps({"auths": {"registry.example": {"auth": "c2VjcmV0VG9rZW4"}}}))
    git(project.path, "checkout", "-q", "-b", "leaky")
    git(project.path, "rm", "-q", "fairness.json")
    lock_file = project.path / "dvc.lock"
    lock = yaml.safe_load(lock_file.read_text())
    outs = lock["stages"]["evaluate"]["outs"]
    index = next(i for i, out in enumerate(outs) if out["path"] == "fairness.json")
    outs[index]["md5"] = f"xx{secret}"
    lock_file.write_text(yaml.safe_dump(lock, sort_keys=False))
    git(project.path, "commit", "-qam", "Lighter results")
    git(project.path, "push", "-q", "origin", "leaky")
    git(project.path, "checkout", "-q", "main")
    forge = LocalForge(project.home / "forge")
    forge.create_pull(REPO, title="Lighter results", body="", head="leaky", base="main")
    forge.create_comment(REPO, 1, "/report")

    result = cli("ci", "chatops", "--pr", "1", "--json")
    assert result.code == 0, result.err
    comments = [c.body for c in forge.list_comments(REPO, 1)]
    assert not any("c2VjcmV0VG9rZW4" in c or "registry.example" in c for c in comments)
    # The head's dvc.lock is refused with one line naming the file and the key; the
    # verdict fails on it.
    outcome = json.loads(result.out)["commands"][0]
    assert outcome["message"].startswith("evaluation comment refreshed: fail: ")
    short = git(project.path, "rev-parse", "--short=7", "origin/leaky")
    shown = repr(f"xx{secret}")[:80]  # values in messages are cut at 80 characters
    assert (f"dvc.lock at PR #1 ({short}): stages.evaluate.outs[{index}].md5: expected an "
            f"md5 (32 lowercase hex digits, '.dir' after a directory's), got {shown}"
            ) in _evaluation_comment(forge).replace("\\", "").replace("&#39;", "'")


PLANT = '''

def _plant(marker: str) -> None:
    """What a same-repository PR's code can leave in the clone CI checked it out in."""
    import subprocess

    git_dir = Path(".git")
    for name in ("post-checkout", "pre-commit", "post-commit", "pre-push", "post-merge",
                 "reference-transaction"):
        hook = git_dir / "hooks" / name
        hook.write_text(f"#!/bin/sh\\necho {name} >> {marker}\\n")
        hook.chmod(0o755)
    monitor = git_dir / "monitor.sh"
    monitor.write_text(f"#!/bin/sh\\necho fsmonitor >> {marker}\\n")
    monitor.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(monitor.resolve())], check=True)
    # Main's evaluate.py, as any checkout writes it, would be this filter's output.
    subprocess.run(["git", "config", "filter.evil.smudge",
                    f"sh -c 'echo smudge >> {marker}; cat'"], check=True)
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text("src/evaluate.py filter=evil\\n")


_plant(MARKER)
'''


def test_hooks_and_config_a_pr_writes_into_git_never_run(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 4: a PR's stage writes `.git/hooks/post-checkout` (and an fsmonitor, a
    smudge filter): the trusted work tree's checkout ran it, and could rewrite main's
    evaluate.py there; the hook stays for the next PR checked from the same clone."""
    monkeypatch.chdir(project.path)
    marker = tmp_path / "hooks-ran"
    main_metrics = json.loads(git(project.path, "show", "main:metrics.json"))
    git(project.path, "checkout", "-q", "-b", "tidy-evaluation")
    evaluate = project.path / "src" / "evaluate.py"
    evaluate.write_text(evaluate.read_text() + PLANT.replace("MARKER", repr(str(marker))))
    git(project.path, "commit", "-qam", "Tidy the evaluation")
    assert cli("forge", "pr", "create").code == 0
    git(project.path, "checkout", "-q", "main")

    result = cli("ci", "pr", "--pr", "1", "--json")
    planted = (project.path / ".git" / "hooks" / "post-checkout").exists()
    ran = marker.read_text() if marker.exists() else ""
    assert result.code == 0, result.err
    assert planted and ran == ""  # checked before the test's own git runs any of them
    check = json.loads(result.out)
    assert check["trusted"]["scored"] is True
    judged = {m["name"]: m["head"] for m in check["metrics"] if m["path"] == "metrics.json"}
    assert judged == {k: main_metrics[k] for k in judged}  # main's evaluation of main's model


def _plant_run_cache(project: Project, branch: str, work: Path, evil: bytes) -> str:
    """What a writer of the DVC remote can do for a visible PR: a run-cache entry for its
    train stage (the PR's inputs) naming a model of their own, pushed with its object."""
    subprocess.run(["git", "clone", "-q", "--branch", branch,
                    str(project.home / "forge" / "repos" / "local" / "churn.git"), str(work)],
                   check=True)
    (work / ".dvc" / "config.local").write_text(
        f"['remote \"storage\"']\n    url = {storage(project.home)}\n")
    dvc(work, "pull", "-q", "data/prepared")
    overwrite(work / MODEL, evil)
    dvc(work, "commit", "-q", "-f", "train")
    dvc(work, "push", "-q", "--run-cache")
    return md5(evil)


def test_a_run_cache_entry_planted_in_the_remote_is_not_restored(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack 7: `ci pr` pulled the remote's run cache and restored the PR's train stage
    from an entry a writer of the remote planted: their pickle ran in the PR's job and in
    trusted evaluation, and the dvc.lock committed back named their model."""
    monkeypatch.chdir(project.path)
    marker = tmp_path / "unpickled"
    assert cli("retrain", "--set", "train.n_estimators=60").code == 0
    branch = LocalForge(project.home / "forge").get_pull(REPO, 1).head
    evil = _plant_run_cache(project, branch, tmp_path / "attacker", marker_pickle(marker))

    result = cli("ci", "pr", "--pr", "1", "--json")
    assert result.code == 0, result.err
    assert not marker.exists()
    check = json.loads(result.out)
    assert check["trusted"]["scored"] is True
    lock = yaml.safe_load(git(project.path, "show", f"{check['head_sha']}:dvc.lock"))
    (model,) = [o for o in lock["stages"]["train"]["outs"] if o["path"] == MODEL]
    assert model["md5"] != evil
    assert "n_estimators: 60" in git(project.path, "show", f"{check['head_sha']}:params.yaml")
