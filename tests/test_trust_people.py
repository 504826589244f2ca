"""Issue 20, people and markers: what a reader, a writer or a bot account can make
jx-mlops believe, played through the CLI on the local forge.

Each test is an attack that succeeded before: a hidden marker typed by a reader, an
approval by the person who asked for the promotion, a hand-made version tag.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from kit.git import git
from kit.workspace import Project

from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow


def _open_pull(project: Project, branch: str = "talk") -> LocalForge:
    git(project.path, "checkout", "-qb", branch)
    git(project.path, "commit", "-q", "--allow-empty", "-m", branch)
    git(project.path, "push", "-q", "origin", branch)
    git(project.path, "checkout", "-q", "main")
    forge = LocalForge(jx_home() / "forge")
    forge.create_pull("local/churn", title=branch, body="", head=branch, base="main")
    return forge


def test_a_readers_answered_marker_does_not_silence_a_maintainers_command(
        project: Project, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack 8: a reader posts the bot's "answered" marker naming a maintainer's
    ``/rollback staging``; ``ci chatops`` must still run it."""
    monkeypatch.chdir(project.path)
    forge = _open_pull(project)
    forge.set_permission("local/churn", "eve", "read")
    eve = LocalForge(forge.root, user="eve")
    # Attack 9 too: eve's comment carries the report marker before jx-mlops posts one.
    planted = eve.create_comment("local/churn", 1, "<!-- jx-mlops:report id=default -->\nmine")
    command = forge.create_comment("local/churn", 1, "/rollback staging\n/report")
    eve.create_comment("local/churn", 1,
                       f"<!-- jx-mlops:chatops comment={command.id} -->\ndone already")
    result = cli("ci", "chatops", "--pr", "1", "--comment", str(command.id), "--json")
    outcome = json.loads(result.out)
    assert outcome.get("skipped") is None, outcome
    assert [(c["command"], c["accepted"]) for c in outcome["commands"]] == [
        ("/rollback staging", True), ("/report", True)]
    assert "never deployed in staging" in outcome["commands"][0]["message"]
    assert outcome["commands"][1]["ok"], outcome
    comments = forge.list_comments("local/churn", 1)
    assert [c.body for c in comments if c.id == planted.id] == [
        "<!-- jx-mlops:report id=default -->\nmine"]
    assert [c.author for c in comments if c.body.startswith(
        "<!-- jx-mlops:report id=default -->\n### ")] == ["tester"]
    # Its own reply does count: the same comment again is answered already.
    again = json.loads(cli("ci", "chatops", "--pr", "1", "--comment", str(command.id),
                           "--json").out)
    assert again["skipped"] == f"comment {command.id} was already answered"
    # Attack 10: a command inside an HTML comment opened mid-line (GitHub hides it all).
    hidden = forge.create_comment("local/churn", 1,
                                  "looks fine <!-- notes\n/promote production\n-->")
    unseen = json.loads(cli("ci", "chatops", "--pr", "1", "--comment", str(hidden.id),
                            "--json").out)
    assert unseen["skipped"] == f"no jx-mlops command in comment {hidden.id}"
    assert _production_pulls(forge) == []


def _production_pulls(forge: LocalForge) -> list[object]:
    """Every pull request of the production environment repository."""
    return list(forge.list_pulls("local/environment-production", state="all"))


def test_on_github_the_requester_cannot_approve_a_promotion_the_bot_opened(
        lab, github, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Also" of issue 20: in GitHub Actions the promotion PR's author is
    github-actions[bot], so "not the PR's author" let the person who asked approve it.
    The requester is recorded in the PR (by the bot) and may not approve."""
    from kit.github import ACTIONS_BOT, ACTIONS_TOKEN, TOKEN, github_forge, lab_on_github

    lab.new_version()
    lab_on_github(lab, github)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert cli("register", "fraud", "--push").code == 0
    github.add_user(ACTIONS_BOT, ACTIONS_TOKEN, integration=True)
    for repo in ("local/fraud", "local/environment-staging", "local/environment-production"):
        github.set_permission(repo, ACTIONS_BOT, "write")
    tokens = {}
    for user in ("wendy", "olga"):
        tokens[user] = f"ghp_{user}ApproverToken000000000000000000"[:40]
        github.add_user(user, tokens[user])
        for repo in ("local/fraud", "local/environment-staging",
                     "local/environment-production"):
            github.set_permission(repo, user, "write")

    # Wendy asks, through a workflow (ChatOps, a release): the bot's token does the work.
    monkeypatch.delenv("JX_MLOPS_USER")
    for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "wendy",
                       "GITHUB_TOKEN": ACTIONS_TOKEN}.items():
        monkeypatch.setenv(key, value)

    def promote(env: str) -> dict:
        result = cli("promote", "fraud", "--version", "v0.0.1", "--to", env, "--json")
        assert result.code == 0, result.err
        return dict(json.loads(result.out))

    promote("staging")
    waiting = promote("production")
    assert waiting["waiting"] is True
    pull = github_forge(github).get_pull("local/environment-production", 1)
    assert pull.author == ACTIONS_BOT and "Requested by `wendy`." in pull.body

    def as_user(user: str) -> None:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        monkeypatch.setenv("JX_MLOPS_USER", user)
        monkeypatch.setenv("GITHUB_TOKEN", tokens[user])

    as_user("wendy")
    refused = cli("approve", "fraud", "--env", "production")
    assert refused.code == 1
    assert "wendy requested local/environment-production#1 and cannot approve it" in \
        refused.err
    github_forge(github, token=tokens["wendy"], user="wendy").create_comment(
        "local/environment-production", 1, "/approve")
    as_user("olga")
    approved = cli("approve", "fraud", "--env", "production", "--json")
    assert approved.code == 0, approved.err
    assert json.loads(approved.out)["merged"] is True
    record = yaml.safe_load(subprocess.run(
        ["git", "--git-dir", str(github.state.git.path("local/environment-production")),
         "show", "main:models/fraud.yaml"], check=True, capture_output=True, text=True).stdout)
    assert record["promotion"]["by"] == "wendy"
    assert record["promotion"]["approved_by"] == ["olga"]


def test_register_with_signing_and_no_way_to_sign_is_an_error(lab, cli) -> None:
    """"Also" of issue 20: without a DVC remote `register` silently made an unsigned
    version of a project that signs; now it refuses, unless --unsigned says why."""
    lab.new_version()
    (lab.path / ".dvc" / "config").write_text("")  # no DVC remote any more
    refused = cli("register", "fraud")
    assert refused.code == 1
    assert refused.err.splitlines()[0] == (
        "error: fraud@v0.0.1 not registered: mlops.yaml configures signing but "
        "models/fraud.pkl has no copy in a DVC remote to sign (a file tracked by git, or no "
        "default DVC remote), so it would be unsigned (fix that, or register with "
        "--unsigned REASON (recorded in the version's tag))")
    assert git(lab.path, "tag", "-l") == ""
    done = cli("register", "fraud", "--unsigned", "sandbox without a remote")
    assert done.code == 0, done.err
    message = git(lab.path, "tag", "-l", "--format=%(contents)", "fraud@v0.0.1")
    metadata = json.loads(message[message.index("{"):])
    assert metadata["unsigned"] == {"reason": "sandbox without a remote"}
    assert "signature" not in metadata


def test_a_hand_made_tag_copying_an_older_version_is_not_promoted(lab, cli) -> None:
    """"Also" of issue 20: a writer tags an unmerged commit with an older version's
    message (its md5, serving copy and signature); promote accepted it up to approvals."""
    lab.new_version()
    assert cli("register", "fraud", "--push").code == 0
    message = git(lab.path, "tag", "-l", "--format=%(contents)", "fraud@v0.0.1")
    git(lab.path, "checkout", "-qb", "unreviewed")
    lab.counter["fraud"] = 5
    lab.new_version()  # pushes to main too: undo that, the branch stays unmerged
    git(lab.path, "push", "-qf", "origin", "HEAD~1:main", "HEAD:refs/heads/unreviewed")
    git(lab.path, "tag", "-a", "fraud@v0.0.2", "-m", message)
    git(lab.path, "push", "-q", "origin", "fraud@v0.0.2")
    refused = cli("promote", "fraud", "--version", "v0.0.2", "--to", "staging")
    assert refused.code == 1
    unmerged = git(lab.path, "rev-parse", "HEAD")
    assert refused.err.splitlines() == [
        f"error: fraud@v0.0.2: its tag is on commit {unmerged[:12]}, which is not on main; "
        "only a merged commit's version is promoted (a tag on an unmerged commit is made by "
        "hand, not by a release)"]
    # The same message on a merged commit: it describes another commit.
    git(lab.path, "checkout", "-q", "main")
    git(lab.path, "reset", "-q", "--hard", "origin/main")
    git(lab.path, "commit", "-q", "--allow-empty", "-m", "docs")
    git(lab.path, "push", "-q", "origin", "main")
    git(lab.path, "tag", "-a", "fraud@v0.0.3", "-m", message)
    git(lab.path, "push", "-q", "origin", "fraud@v0.0.3")
    refused = cli("promote", "fraud", "--version", "v0.0.3", "--to", "staging")
    assert refused.code == 1 and "but its message describes commit" in refused.err
    assert lab.forge.list_pulls("local/environment-staging", state="all") == []
    # And with the commit put right in the message: the serving copy is v0.0.1's.
    head = git(lab.path, "rev-parse", "HEAD")
    first = git(lab.path, "rev-list", "-n1", "fraud@v0.0.1")
    git(lab.path, "tag", "-a", "fraud@v0.0.4", "-m", message.replace(first, head))
    git(lab.path, "push", "-q", "origin", "fraud@v0.0.4")
    refused = cli("promote", "fraud", "--version", "v0.0.4", "--to", "staging")
    assert refused.code == 1 and "not this version's own (jx-mlops/models/fraud/v0.0.4/" \
        "fraud.pkl): copied from another version?" in refused.err


def test_two_projects_sharing_environment_repositories_audit_clean(lab, cli,
                                                                  monkeypatch) -> None:
    """"Also" of issue 20: each project's audit checked the other's records with its own
    key and failed for good; a record is checked with its deploying project's key."""
    from kit.lab import make_lab

    lab.new_version()
    assert cli("register", "fraud").code == 0
    assert cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging").code == 0
    other = make_lab(lab.path.parent, jx_home(), name="churn", models=("churn",))
    monkeypatch.chdir(other.path)
    other.new_version()
    assert cli("register", "churn").code == 0
    assert cli("promote", "churn", "--version", "v0.0.1", "--to", "staging").code == 0
    for project in (lab, other):
        monkeypatch.chdir(project.path)
        result = cli("audit", "--env", "staging")
        assert result.code == 0, result.out
        assert result.out.strip() == ("audit: 2 deployment records (1 of local/churn, 1 of "
                                      "local/fraud) match the registry and their sources")
    # A record of the other project whose copy no longer matches says whose it is: the
    # copy's bytes differ from what its tag records, and it fails churn's signature.
    copy = jx_home() / "storage" / "local" / "churn" / "jx-mlops" / "models" / "churn" / \
        "v0.0.1" / "churn.pkl"
    copy.write_text("tampered")
    monkeypatch.chdir(lab.path)
    result = cli("audit", "--env", "staging", "--json")
    findings = json.loads(result.out)["findings"]
    assert result.code == 1 and [(f["model"], f["project"]) for f in findings] == [
        ("churn", "local/churn")] * 2
    assert findings[0]["problem"].startswith(f"serving copy {copy} has md5 ")
    assert findings[0]["problem"].endswith(" (replaced?)")
    assert findings[1]["problem"] == f"{copy}: churn.pkl no longer matches its signature"


def test_a_green_status_earned_against_another_base_is_not_kept(
        github_project, cli, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """"Also" of issue 20: retargeting a PR (GitHub's ``edited``) kept the status its head
    earned against the old base; `ci refresh` called it up to date. The status says its
    base, so it goes stale, and the ``edited`` run evaluates against the new one."""
    import os

    from kit.github import TOKEN
    from kit.github_events import actions_env, pull_request_event, use_env

    from jx_mlops.forge.base import CommitStatus
    from jx_mlops.forge.github.credentials import git_auth_env

    gp, server = github_project, github_project.server
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    env = {**os.environ, **git_auth_env(server.url, TOKEN)}
    git(gp.path, "switch", "-qc", "release")
    subprocess.run(["git", "-C", str(gp.path), "push", "-q", "origin", "release"],
                   check=True, env=env)
    git(gp.path, "switch", "-qc", "docs")
    (gp.path / "README.md").write_text((gp.path / "README.md").read_text() + "\nMore.\n")
    git(gp.path, "commit", "-qam", "README: more")
    subprocess.run(["git", "-C", str(gp.path), "push", "-q", "origin", "docs"], check=True,
                   env=env)
    pull = gp.forge().create_pull(gp.repo, title="Docs", body="", head="docs", base="release")
    work = gp.clone(tmp_path / "checkout", depth=1)

    def head() -> str:  # the PR's head now: `ci pr` may have pushed its results onto it
        return gp.forge().get_pull(gp.repo, pull.number).head_sha

    def check(action: str, **changes: object) -> CommitStatus:
        event = pull_request_event(server, gp.repo, pull.number, action=action,
                                   changes=changes)
        use_env(monkeypatch, actions_env(tmp_path, server, "pull_request", event, gp.repo,
                                         head(), token=TOKEN))
        result = cli("-C", work, "ci", "pr", "--json")
        assert result.code == 0, result.err
        (status,) = gp.forge().get_statuses(gp.repo, head())
        return status

    opened = check("opened")
    assert opened.state == "success" and opened.description.endswith("(base: release)")
    server.state.pulls[("local/churn", pull.number)]["base"] = "main"  # retargeted on the web
    refreshed = cli("-C", work, "ci", "refresh", "--json")
    assert refreshed.code == 0, refreshed.err
    assert json.loads(refreshed.out)["stale"] == [pull.number]
    (status,) = gp.forge().get_statuses(gp.repo, head())
    assert status.state == "pending" and "re-run the evaluation" in status.description
    base = git(gp.path, "rev-parse", "release")
    edited = check("edited", base={"ref": {"from": "release"}, "sha": {"from": base}})
    assert edited.state == "success" and edited.description.endswith("(base: main)")
