"""The only module that talks to the OpenSSF ``model-signing`` library.

A signature is a Sigstore bundle (a DSSE envelope over an in-toto statement listing the
sha256 of every file of the model), written beside the model copy it signs, exactly as
``model_signing sign key|sigstore`` writes it, so ``model_signing verify`` accepts it.

Two ways to sign:

- ``key``: an elliptic-curve private key (PEM). ``JX_MLOPS_SIGNING_KEY`` holds the PEM
  itself or a path to it; else the private key ``create``/``init`` made on this machine
  (``$JX_MLOPS_HOME/signing/FINGERPRINT.pem``) for the project's committed public key.
- ``sigstore``: keyless, in GitHub Actions with an OIDC token (``id-token: write``): the
  certificate names the workflow, recorded as the signature's ``identity``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jx_mlops.errors import JxMlopsError

Method = Literal["key", "sigstore"]
KEY_ENV = "JX_MLOPS_SIGNING_KEY"
OIDC_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"  # set by GitHub Actions with id-token: write
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
BUNDLE_SUFFIX = ".sig"
_MISMATCH = re.compile(r"Hash mismatch for \\?'([^'\\]+)\\?'")
_EXTRA_MISSING = re.compile(r"(Extra|Missing) files (?:found )?in model \\?'[^']*\\?': ([^'\"\]]+)")
# Fulcio certificate extension: the OIDC issuer that vouched for the identity.
_ISSUER_OIDS = ("1.3.6.1.4.1.57264.1.8", "1.3.6.1.4.1.57264.1.1")


class SigningError(JxMlopsError):
    """A model cannot be signed (no usable key, unreadable key, library failure)."""


class SignatureMismatch(JxMlopsError):
    """A model copy does not match its signature, or the signature is not trusted."""

    def __init__(self, message: str, *, files: tuple[str, ...] = (), hint: str | None = None
                 ) -> None:
        super().__init__(message, hint=hint)
        self.files = files


@dataclass(frozen=True)
class Signer:
    """How a model is signed: a PEM private key, or keyless Sigstore (OIDC)."""

    method: Method
    private_key: bytes = b""
    source: str = ""  # where the key came from, for messages


@dataclass(frozen=True)
class Signature:
    """What signing produced: the bundle and the digests the registry records."""

    method: Method
    bundle_sha256: str
    artifact_sha256: str  # the file's sha256; for a directory, the statement's subject
    files: tuple[tuple[str, str], ...]  # (name, sha256) of every signed file
    public_key_sha256: str | None = None
    identity: str | None = None
    issuer: str | None = None

    def to_metadata(self, bundle_uri: str) -> dict[str, Any]:
        return {"bundle": bundle_uri, "sha256": self.bundle_sha256, "method": self.method,
                "public_key_sha256": self.public_key_sha256, "identity": self.identity,
                "issuer": self.issuer}


@dataclass(frozen=True)
class Trust:
    """What a verifier accepts: the project's public key, and/or a keyless identity."""

    public_key: Path | None = None
    identity: str | None = None
    issuer: str = GITHUB_ISSUER


# -- keys ---------------------------------------------------------------------------------


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new P-256 key pair as (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return private, _public_pem(key.public_key())


def _public_pem(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    pem: bytes = public_key.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem


def fingerprint(public_pem: bytes) -> str:
    """The key's sha256, as model-signing puts it in a bundle's key hint."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(public_pem)
    except ValueError as exc:
        raise SigningError(f"not a PEM public key: {exc}") from None
    return hashlib.sha256(_public_pem(key)).hexdigest()


def private_fingerprint(private_pem: bytes, source: str) -> str:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(private_pem, None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{source}: not an unencrypted PEM private key "
                           f"({str(exc).splitlines()[0]})") from None
    return hashlib.sha256(_public_pem(key.public_key())).hexdigest()


def key_directory(home: Path) -> Path:
    return home / "signing"


def save_private_key(home: Path, private_pem: bytes) -> Path:
    """Keep a private key under ``home`` (mode 0600), named by its public key's fingerprint."""
    path = key_directory(home) / f"{private_fingerprint(private_pem, 'new key')}.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    return path


def _env_key(value: str) -> Signer:
    if value.lstrip().startswith("-----BEGIN"):
        return Signer("key", value.encode("utf-8"), f"${KEY_ENV}")
    try:
        return Signer("key", Path(value).expanduser().read_bytes(), f"${KEY_ENV} ({value})")
    except OSError as exc:
        raise SigningError(f"${KEY_ENV}: cannot read key file {value}: "
                           f"{exc.strerror or exc}") from None


def find_signer(home: Path, public_key: Path | None, *, keyless: bool = False
                ) -> Signer | None:
    """The signer to use here: ``$JX_MLOPS_SIGNING_KEY``, else (``keyless``: the project
    names an identity) Sigstore in GitHub Actions with an OIDC token, else the local
    private key for ``public_key``; None when there is none."""
    value = os.environ.get(KEY_ENV, "")
    if value.strip():
        return _env_key(value)
    if keyless and os.environ.get(OIDC_ENV):
        return Signer("sigstore", source="GitHub Actions OIDC")
    if public_key is None or not public_key.is_file():
        return None
    local = key_directory(home) / f"{fingerprint(public_key.read_bytes())}.pem"
    return Signer("key", local.read_bytes(), str(local)) if local.is_file() else None


# -- signing and verifying ----------------------------------------------------------------


def bundle_path_for(model: Path) -> Path:
    """Where a model copy's bundle lives: beside it, ``NAME.sig`` (outside a directory
    model, so it never counts as one of its files)."""
    return model.with_name(model.name + BUNDLE_SUFFIX)


def sign_model(model: Path, bundle: Path, signer: Signer) -> Signature:
    """Sign ``model`` (a file or a directory) into ``bundle``."""
    import tempfile

    from model_signing import signing

    config = signing.Config()  # type: ignore[no-untyped-call]
    try:
        if signer.method == "key":
            with tempfile.TemporaryDirectory(prefix="jx-mlops-key-") as tmp:
                key_file = Path(tmp) / "key.pem"
                key_file.write_bytes(signer.private_key)
                key_file.chmod(0o600)
                private_fingerprint(signer.private_key, signer.source)
                config.use_elliptic_key_signer(private_key=key_file)
        else:
            config.use_sigstore_signer(use_ambient_credentials=True)
        config.sign(model, bundle)
    except SigningError:
        raise
    except Exception as exc:  # the library raises ValueError, OSError, sigstore errors...
        raise SigningError(f"cannot sign {model} with {signer.source or signer.method}: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                           ) from None
    return read_signature(bundle)


def read_signature(bundle: Path) -> Signature:
    """The facts a bundle states: signed files and digests, key hint or certificate."""
    raw = bundle.read_bytes()
    try:
        data = json.loads(raw)
        envelope = data["dsseEnvelope"]
        statement = json.loads(base64.b64decode(envelope["payload"]))
        material = data.get("verificationMaterial") or {}
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureMismatch(f"{bundle}: not a model-signing bundle ({exc})") from None
    files = tuple(sorted((str(r["name"]), str(r["digest"]))
                         for r in statement["predicate"]["resources"]))
    subject = str(statement["subject"][0]["digest"]["sha256"])
    hint = (material.get("publicKey") or {}).get("hint")
    identity, issuer = _certificate_identity(material)
    return Signature("key" if hint else "sigstore", hashlib.sha256(raw).hexdigest(),
                     files[0][1] if len(files) == 1 else subject, files,
                     public_key_sha256=hint, identity=identity, issuer=issuer)


def _certificate_identity(material: dict[str, Any]) -> tuple[str | None, str | None]:
    """The identity (SAN) and OIDC issuer of a keyless bundle's signing certificate."""
    cert = (material.get("certificate") or {}).get("rawBytes")
    if not cert:
        chain = (material.get("x509CertificateChain") or {}).get("certificates") or []
        cert = chain[0].get("rawBytes") if chain else None
    if not cert:
        return None, None
    from cryptography import x509

    parsed = x509.load_der_x509_certificate(base64.b64decode(cert))
    try:
        san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.UniformResourceIdentifier),
                 *san.get_values_for_type(x509.RFC822Name)]
    except x509.ExtensionNotFound:
        names = []
    issuer = None
    for ext in parsed.extensions:
        if ext.oid.dotted_string in _ISSUER_OIDS:
            issuer = _der_text(getattr(ext.value, "value", b""))
            break
    return (names[0] if names else None), issuer


def _der_text(value: object) -> str | None:
    """A Fulcio extension's text: DER UTF8String/IA5String (OID .8) or raw bytes (.1)."""
    if not isinstance(value, bytes) or not value:
        return None
    if value[0] in (0x0C, 0x16) and len(value) > 1 and value[1] < 0x80:
        value = value[2:2 + value[1]]
    return value.decode("utf-8", "replace")


def verify_model(model: Path, bundle: Path, trust: Trust, *, shown: str | None = None
                 ) -> Signature:
    """Check ``model`` against ``bundle`` under ``trust``; SignatureMismatch naming the
    files that changed (or why the bundle is not trusted) when it does not hold."""
    from model_signing import verifying

    where = shown or str(model)
    if not bundle.is_file():
        raise SignatureMismatch(f"{where}: signature bundle {bundle.name} is missing")
    facts = read_signature(bundle)
    config = verifying.Config()  # type: ignore[no-untyped-call]
    if facts.method == "key":
        if trust.public_key is None or not trust.public_key.is_file():
            raise SignatureMismatch(f"{where}: signed with a key, but the project names no "
                                    "public key (mlops.yaml signing.public_key)")
        config.use_elliptic_key_verifier(public_key=trust.public_key)
    else:
        if not trust.identity:
            raise SignatureMismatch(f"{where}: signed keyless by {facts.identity}, but "
                                    "mlops.yaml names no signing.identity to trust")
        config.use_sigstore_verifier(identity=trust.identity, oidc_issuer=trust.issuer)
    try:
        config.verify(model, bundle)
    except Exception as exc:  # ValueError (mismatch, key), sigstore verification errors
        raise _mismatch(where, model.name, str(exc)) from None
    return facts


def _mismatch(where: str, name: str, text: str) -> SignatureMismatch:
    """One line naming each file that changed, appeared or vanished."""
    files = tuple(name if f == "." else f for f in _MISMATCH.findall(text))
    for kind, listed in _EXTRA_MISSING.findall(text):
        files += tuple(f"{f.strip()} ({'added' if kind == 'Extra' else 'missing'})"
                       for f in listed.split(","))
    if files:
        return SignatureMismatch(f"{where}: {', '.join(files)} no longer match"
                                 f"{'es' if len(files) == 1 else ''} its signature",
                                 files=files)
    first = text.splitlines()[0] if text else "verification failed"
    return SignatureMismatch(f"{where}: signature does not verify ({first})")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
