"""The project's signing key pair on the local forge: made by ``create`` and ``init``.

The private key stays on this machine (``$JX_MLOPS_HOME/signing/FINGERPRINT.pem``); the
public key is committed in the project as ``signing.pub`` and named in mlops.yaml, so
every verifier (promote, audit, lineage, ``model_signing verify``) trusts the same key.
"""

from __future__ import annotations

from pathlib import Path

from jx_mlops import signing
from jx_mlops.fsutil import jx_home

PUBLIC_KEY_FILE = "signing.pub"
SIGNING_SECTION = f"\n# Model versions are signed (model-signing); verifiers trust this key.\n" \
                  f"signing:\n  public_key: {PUBLIC_KEY_FILE}\n"


def planned_key_pair(root: Path) -> tuple[bytes, bytes | None]:
    """(public PEM, private PEM to save) for ``root``: its committed key when this machine
    holds the private key (a re-run of init), else a new pair."""
    existing = root / PUBLIC_KEY_FILE
    if existing.is_file():
        public = existing.read_bytes()
        try:
            held = signing.key_directory(jx_home()) / f"{signing.fingerprint(public)}.pem"
        except signing.SigningError:
            held = None
        if held is not None and held.is_file():
            return public, None
    private, public = signing.generate_key_pair()
    return public, private


def write_key_pair(root: Path, public: bytes, private: bytes | None) -> None:
    """Write ``signing.pub`` into ``root`` and keep the private key under JX_MLOPS_HOME."""
    if private is not None:
        signing.save_private_key(jx_home(), private)
    (root / PUBLIC_KEY_FILE).write_bytes(public)


def add_signing(root: Path, config_file: Path) -> None:
    """``create``: a new key pair, and mlops.yaml's ``signing:`` section naming it."""
    public, private = planned_key_pair(root)
    write_key_pair(root, public, private)
    text = config_file.read_text(encoding="utf-8")
    if "\nsigning:" not in f"\n{text}":
        config_file.write_text(text.rstrip("\n") + "\n" + SIGNING_SECTION, encoding="utf-8")


def add_keyless_signing(config_file: Path, identity: str) -> None:
    """``create --forge github``: versions are signed keyless by the release workflow, so
    verifiers trust ``identity`` (that workflow's, on the default branch)."""
    text = config_file.read_text(encoding="utf-8")
    if "\nsigning:" not in f"\n{text}":
        config_file.write_text(
            text.rstrip("\n") + "\n\n# Model versions are signed keyless (Sigstore) by the "
            f"release workflow.\nsigning:\n  identity: {identity}\n", encoding="utf-8")
