"""mlops.yaml signing: every error names the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.config.project import parse_config
from jx_mlops.errors import ConfigError


@pytest.mark.parametrize(("section", "message"), [
    ("signing: {public_key: /etc/key.pub}",
     "mlops.yaml: signing.public_key: expected a path inside the project, got '/etc/key.pub'"),
    ("signing: {public_key: k.pub, keyless: true}",
     "mlops.yaml: signing.keyless: unknown key (expected one of: public_key, identity, "
     "issuer)"),
    ("signing: {issuer: http://example.com}",
     "mlops.yaml: signing.issuer: expected an https:// OIDC issuer, got 'http://example.com'"),
    ("environments:\n  - {name: prod, repo: a/b, gates: {signature: maybe}}",
     "mlops.yaml: environments[0].gates.signature: expected required or optional, got 'maybe'"),
])
def test_signing_config_errors_name_the_key(section: str, message: str) -> None:
    text = f"models:\n  m: {{artifact: m.pkl}}\n{section}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("mlops.yaml"))
    assert caught.value.message == message
