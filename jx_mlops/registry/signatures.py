"""Signed model versions: sign the serving copy at registration, verify it at every hop.

At registration the published copy (``jx-mlops/models/MODEL/VERSION/FILE`` in the DVC
remote) is signed and its bundle written beside it (``FILE.sig``); the tag metadata
records the artifact's sha256 (next to DVC's md5) and the bundle's location and sha256.
``promote``, ``audit`` and ``lineage`` verify that exact copy against that bundle.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jx_mlops import console, signing
from jx_mlops.config.project import ProjectConfig
from jx_mlops.dvc.serving import fetch_copy, put_file
from jx_mlops.errors import DvcError, RegistryError
from jx_mlops.fsutil import jx_home
from jx_mlops.signing import SignatureMismatch, Signer, SigningError, Trust

# unverified: signed, but nothing here says whom to trust (a registry without mlops.yaml)
CheckStatus = Literal["verified", "failed", "unsigned", "unverified"]


@dataclass(frozen=True)
class SignatureCheck:
    """What verifying one version's published copy found."""

    status: CheckStatus
    detail: str
    files: tuple[str, ...] = ()  # the files that no longer match

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def project_trust(config: ProjectConfig) -> Trust:
    """Whom the project trusts: mlops.yaml ``signing:`` (nobody when absent)."""
    return config.signing.trust(config.root) if config.signing else Trust()


def project_signer(config: ProjectConfig) -> Signer | None:
    """The signer registrations use here, checked before anything is published: a key
    must be the one whose public half the project commits."""
    trust = project_trust(config)
    try:
        signer = signing.find_signer(jx_home(), trust.public_key,
                                     keyless=trust.identity is not None)
    except SigningError as exc:
        raise RegistryError(exc.message) from None
    if signer is None and trust.identity is not None and trust.public_key is None:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            raise RegistryError("mlops.yaml signing.identity asks for keyless signing, but "
                                "the job has no OIDC token",
                                hint="give the release job `permissions: id-token: write`")
        return None  # outside CI: keyless signing is the release workflow's job
    if signer is None and trust.public_key is not None:
        raise RegistryError(
            f"mlops.yaml signing.public_key is {config.signing and config.signing.public_key}"
            " but this machine holds no private key for it",
            hint=f"set {signing.KEY_ENV} to the PEM private key (or a path to it)")
    if signer is not None and signer.method == "key" and trust.public_key is not None:
        _check_key_pair(signer, trust.public_key)
    return signer


def _check_key_pair(signer: Signer, public_key: Path) -> None:
    try:
        ours = signing.fingerprint(public_key.read_bytes())
        theirs = signing.private_fingerprint(signer.private_key, signer.source)
    except (OSError, SigningError) as exc:
        raise RegistryError(f"{public_key}: {getattr(exc, 'message', exc)}") from None
    if ours != theirs:
        raise RegistryError(f"{signer.source} is not the private key of {public_key.name} "
                            "(mlops.yaml signing.public_key): promotion could not verify it")


def sign_copy(model: str, version: str, artifact: dict[str, Any], signer: Signer,
              local: Path) -> dict[str, Any]:
    """Sign ``local``, the verified bytes just published at ``artifact['serving_uri']``
    (never the remote's copy as it is now: a writer of the remote may have replaced it),
    and write the bundle beside that copy; returns the tag metadata's ``signature`` (and
    sets ``artifact['sha256']``)."""
    bundle_uri = str(artifact["serving_uri"]) + signing.BUNDLE_SUFFIX
    with console.step(f"Signing {model}@{version} ({signer.method})"), \
            tempfile.TemporaryDirectory(prefix="jx-mlops-sign-") as tmp:
        try:
            bundle = Path(tmp) / (local.name + signing.BUNDLE_SUFFIX)
            signature = signing.sign_model(local, bundle, signer)
            put_file(bundle, bundle_uri)
        except (SigningError, DvcError) as exc:
            raise RegistryError(f"{model}@{version} not registered: {exc.message}") from None
    artifact["sha256"] = signature.artifact_sha256
    return signature.to_metadata(bundle_uri)


def verify_copy(uri: str | None, signature: dict[str, Any] | None, trust: Trust
                ) -> SignatureCheck:
    """Verify the published copy at ``uri`` against the bundle ``signature`` records."""
    if not signature or not signature.get("bundle"):
        return SignatureCheck("unsigned", "registered without a signature")
    if not uri:
        return SignatureCheck("failed", "signed, but no published copy is recorded")
    with tempfile.TemporaryDirectory(prefix="jx-mlops-verify-") as tmp:
        try:
            local = fetch_copy(uri, Path(tmp) / "copy")
            bundle = fetch_copy(str(signature["bundle"]), Path(tmp) / "bundle")
            if not bundle.is_file():
                return SignatureCheck("failed", f"signature bundle {signature['bundle']} "
                                                "is missing")
            if signing.sha256_file(bundle) != signature.get("sha256"):
                return SignatureCheck("failed", f"signature bundle {signature['bundle']} is "
                                                "not the one registered (sha256 differs)")
            facts = signing.verify_model(local, bundle, trust, shown=uri)
        except SignatureMismatch as exc:
            return SignatureCheck("failed", exc.message, exc.files)
        except (DvcError, SigningError) as exc:
            return SignatureCheck("failed", exc.message)
    who = f"identity {facts.identity}" if facts.identity else \
        f"key {(facts.public_key_sha256 or '?')[:12]}"
    return SignatureCheck("verified", f"{uri} matches its signature ({who})")
