"""Reading a keyless (Sigstore) signature bundle: its identity, and the trust it needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jx_mlops.signing import (
    SignatureMismatch,
    Trust,
    read_signature,
    verify_model,
)


def keyless_bundle(path: Path, identity: str, issuer: str) -> None:
    """A bundle shaped as Sigstore's keyless ones are (the certificate is self-made here:
    offline, no Fulcio), to read the identity and issuer jx-mlops records."""
    import base64
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([])
    now = datetime.datetime.now(datetime.timezone.utc)
    raw_issuer = issuer.encode()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(minutes=10))
            .add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(identity)]), critical=True)
            .add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"),
                bytes([0x0C, len(raw_issuer)]) + raw_issuer), critical=False)
            .sign(key, hashes.SHA256()))
    statement = {"subject": [{"name": "model.pkl", "digest": {"sha256": "ab" * 32}}],
                 "predicate": {"resources": [{"name": "model.pkl", "algorithm": "sha256",
                                              "digest": "cd" * 32}]}}
    path.write_text(json.dumps({
        "verificationMaterial": {"certificate": {"rawBytes": base64.b64encode(
            cert.public_bytes(serialization.Encoding.DER)).decode()}},
        "dsseEnvelope": {"payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                         "payloadType": "application/vnd.in-toto+json", "signatures": []}}))


def test_a_keyless_bundle_records_its_identity_and_needs_one_trusted(tmp_path: Path) -> None:
    identity = "https://github.com/acme/churn/.github/workflows/mlops-release.yml@refs/heads/main"
    bundle = tmp_path / "model.pkl.sig"
    keyless_bundle(bundle, identity, "https://token.actions.githubusercontent.com")
    facts = read_signature(bundle)
    assert (facts.method, facts.identity, facts.issuer, facts.artifact_sha256) == \
        ("sigstore", identity, "https://token.actions.githubusercontent.com", "cd" * 32)
    (tmp_path / "model.pkl").write_bytes(b"weights")
    with pytest.raises(SignatureMismatch) as caught:
        verify_model(tmp_path / "model.pkl", bundle, Trust(public_key=tmp_path / "k.pub"))
    assert caught.value.message.endswith(f"signed keyless by {identity}, but mlops.yaml "
                                         "names no signing.identity to trust")
