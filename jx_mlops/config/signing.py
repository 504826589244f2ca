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
from typing import Any

from jx_mlops.errors import ConfigError
from jx_mlops.signing import GITHUB_ISSUER, Trust
from jx_mlops.yamlio import cut

_RELATIVE = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[^\s]+$")
_URL = re.compile(r"^https://\S+$")
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


def _fail(file: str, where: str, expected: str, value: Any) -> ConfigError:
    got = "nothing" if value is None else cut(value)
    return ConfigError(f"{file}: {where}: expected {expected}, got {got}")


def _text(data: dict[str, Any], key: str, pattern: re.Pattern[str], expected: str,
          file: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise _fail(file, f"signing.{key}", expected, value)
    return value


def read_signing(value: Any, file: str) -> SigningConfig | None:
    """``signing:`` of mlops.yaml (None when absent); ConfigError naming the key."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(file, "signing", "a mapping with public_key and/or identity", value)
    unknown = sorted(str(k) for k in value if k not in _KEYS)
    if unknown:
        raise ConfigError(f"{file}: signing.{unknown[0]}: unknown key (expected one of: "
                          f"{', '.join(_KEYS)})")
    config = SigningConfig(
        public_key=_text(value, "public_key", _RELATIVE, "a path inside the project", file),
        identity=_text(value, "identity", re.compile(r"^\S+$"), "a certificate identity",
                       file),
        issuer=_text(value, "issuer", _URL, "an https:// OIDC issuer", file) or GITHUB_ISSUER)
    if config.public_key is None and config.identity is None:
        raise _fail(file, "signing", "public_key and/or identity", value)
    return config


def read_signature_gate(value: Any, file: str, where: str) -> str | None:
    """``gates.signature`` of an environment: required, optional, or None (the default)."""
    if value is None or value in ("required", "optional"):
        return value if value is None else str(value)
    raise _fail(file, f"{where}.gates.signature", "required or optional", value)
