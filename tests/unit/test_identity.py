"""The actor: JX_MLOPS_USER, else the GitHub Actions login, else git's user name."""

from __future__ import annotations

from pathlib import Path

from kit.git import git

from jx_mlops.identity import actor

ADA = "Ada Lovelace"


def test_the_actor_is_jx_mlops_user_else_the_actions_login_else_gits_name(
        hermetic: Path) -> None:
    git(hermetic, "config", "--global", "user.name", ADA)
    assert actor({"JX_MLOPS_USER": "grace", "GITHUB_ACTIONS": "true",
                  "GITHUB_ACTOR": "octocat"}) == "grace"
    # In GitHub Actions the login of whoever triggered the run (a ChatOps commenter):
    # permissions and approvals compare logins, and a workflow's git name is a bot's.
    assert actor({"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat"}) == "octocat"
    assert actor({"GITHUB_ACTOR": "octocat"}) == ADA  # not in Actions: a stray variable
    assert actor({"JX_MLOPS_USER": "  "}) == ADA
