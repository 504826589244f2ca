"""The forge registry (forge/kinds.py): what each kind says of itself, and the choices
config, argparse, init, create and `ci publish` read from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.config.project import parse_config
from jx_mlops.errors import ConfigError, ForgeError
from jx_mlops.forge.base import ForgeConfig
from jx_mlops.forge.kinds import (
    DEFAULT_FORGE,
    FORGES,
    git_credentials,
    kind_named,
    kind_of_provider,
    kind_of_remote,
    open_forge,
)

TOKEN = "ghp_jxMlopsUnitT0kenAbCdEfGhIjKlMnOpQr"


def test_every_kind_is_registered_under_its_own_name() -> None:
    assert list(FORGES) == ["local", "github"]
    for name, kind in FORGES.items():
        assert name == kind.NAME and kind.TITLE and kind.SUMMARY
        assert (kind.DEFAULT_OWNER is None) == kind.HOSTED  # a hosted forge asks for one
    assert ForgeConfig().kind == DEFAULT_FORGE == "local"


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ForgeError, match=r"forge kind 'gitlab' is not available in this "
                                         r"version \(local, github\)"):
        kind_named("gitlab")


def test_mlops_yaml_chooses_among_the_registered_kinds() -> None:
    text = "version: 1\nforge: {kind: %s, repo: acme/churn}\nmodels: {m: {}}\n"
    assert parse_config(text % "github", Path("mlops.yaml")).forge.kind == "github"
    with pytest.raises(ConfigError, match=r"forge\.kind") as caught:
        parse_config(text % "gitlab", Path("mlops.yaml"))
    assert "'local'" in caught.value.message and "'github'" in caught.value.message


@pytest.mark.parametrize(("url", "found"), [
    ("https://github.com/acme/churn.git", ("github", "acme/churn")),
    ("git@github.com:acme/churn.git", ("github", "acme/churn")),
    ("https://github.com/acme/churn/", ("github", "acme/churn")),
    ("file:///home/me/forge/repos/acme/churn.git", None),
    ("https://gitlab.com/acme/churn.git", None),
    ("", None),
])
def test_init_finds_the_forge_of_a_remote_url(url: str, found: tuple[str, str] | None
                                              ) -> None:
    assert kind_of_remote(url) == found


def test_a_ci_provider_belongs_to_at_most_one_forge() -> None:
    assert kind_of_provider("github-actions") is FORGES["github"]
    assert kind_of_provider("jenkins-x") is None  # Lighthouse runs on many forges
    assert kind_of_provider("none") is None
    providers = [p for kind in FORGES.values() for p in kind.CI_PROVIDERS]
    assert len(providers) == len(set(providers))


def test_signing_and_fork_heads_are_the_forge_s_own() -> None:
    assert FORGES["local"].keyless_identity("acme/churn") is None
    assert FORGES["github"].keyless_identity("acme/churn") == (
        "https://github.com/acme/churn/.github/workflows/mlops-release.yml@refs/heads/main")
    assert FORGES["local"].PULL_HEAD_REF is None
    assert FORGES["github"].PULL_HEAD_REF == "refs/pull/{number}/head"


def test_git_credentials_never_insist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    github = ForgeConfig("github", "acme/churn")
    assert git_credentials(ForgeConfig("local", "acme/churn")) == {}
    assert git_credentials(github) == {}
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    env = git_credentials(github)
    assert env[f"GIT_CONFIG_KEY_{int(env['GIT_CONFIG_COUNT']) - 1}"] == \
        "http.https://github.com/.extraheader"
    assert git_credentials(ForgeConfig("github", "acme/churn", "https://ghe.example.com")
                           )["GIT_CONFIG_KEY_0"] == "http.https://ghe.example.com/.extraheader"


def test_open_forge_needs_a_configured_forge_and_a_token(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"add forge: \{kind: local, repo: OWNER/NAME\}"):
        open_forge(ForgeConfig())
    with pytest.raises(ForgeError, match="the github forge needs a token"):
        open_forge(ForgeConfig("github", "acme/churn"))
    assert open_forge().kind == open_forge(ForgeConfig("local", "acme/churn")).kind == "local"
