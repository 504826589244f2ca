"""The ``signing:`` section of mlops.yaml: whom a verifier trusts for model signatures.

```yaml
signing:
  public_key: signing.pub      # key-based: the committed public key (create/init write it)
  identity: https://github.com/OWNER/REPO/.github/workflows/jx-mlops.yml@refs/heads/main
  issuer: https://token.actions.githubusercontent.com   # keyless: who vouches for it
```

Per environment, ``gates: {signature: required | optional}`` says whether an unsigned
version may be deployed there; by default it is required in every environment after the
first. A signature that does not verify fails the gate either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from jx_mlops.config.node import ConfigNode
from jx_mlops.signing import GITHUB_ISSUER, Trust

_RELATIVE = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\s]+$")
_URL = re.compile(r"^https://\S+$")
_IDENTITY = re.compile(r"^\S+$")
_KEYS = ("public_key", "identity", "issuer")


@dataclass(frozen=True)
class SigningConfig:
    """Who signs the project's models, as a verifier needs to know it."""

    public_key: str | None = None  # a path relative to the project
    identity: str | None = None  # keyless: the certificate identity (SAN)
    issuer: str = GITHUB_ISSUER

    def trust(self, root: Path) -> Trust:
        key = root / self.public_key if self.public_key else None
        return Trust(public_key=key, identity=self.identity, issuer=self.issuer)


def read_signing(node: ConfigNode) -> SigningConfig | None:
    """``signing:`` of mlops.yaml (None when absent); ConfigError naming the key."""
    if node.value is None:
        return None
    node.mapping(_KEYS, what="a mapping with public_key and/or identity")
    config = SigningConfig(
        public_key=node.child("public_key").optional(
            lambda n: n.string(_RELATIVE, "a path inside the project")),
        identity=node.child("identity").optional(
            lambda n: n.string(_IDENTITY, "a certificate identity")),
        issuer=node.child("issuer").optional(
            lambda n: n.string(_URL, "an https:// OIDC issuer"), GITHUB_ISSUER))
    if config.public_key is None and config.identity is None:
        raise node.fail("public_key and/or identity")
    return config


def read_signature_gate(node: ConfigNode) -> str | None:
    """``gates.signature`` of an environment: required, optional, or None (the default)."""
    return cast("str | None", node.optional(
        lambda n: n.choice("required", "optional", what="required or optional")))
