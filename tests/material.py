"""Throwaway certificates for tests and benchmarks.

Real PEM from a private CA (a root and one or more intermediates) lets the
import path be exercised end to end without a public CA; none of this material
is ever trusted by a browser, so nothing here is secret.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# "pkcs1" gives "RSA PRIVATE KEY" for RSA and, being OpenSSL's traditional
# format, "EC PRIVATE KEY" (SEC1) for EC keys.
_FORMATS = {
    "pkcs8": serialization.PrivateFormat.PKCS8,
    "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,
}
_CURVES = {"ec-p256": ec.SECP256R1, "ec-p384": ec.SECP384R1, "ec-p521": ec.SECP521R1}
PASSPHRASE = b"sandbox"


@dataclass(frozen=True)
class Issued:
    """One pemList item's worth of PEM; the chain holds intermediates only, in
    order, as CloudFront wants it."""

    cert_pem: str
    key_pem: str = field(repr=False)
    chain_pem: str


@dataclass(frozen=True)
class CA:
    root: x509.Certificate
    intermediates: tuple[x509.Certificate, ...]  # the one that issues leaves first
    issuing_key: CertificateIssuerPrivateKeyTypes = field(repr=False)

    @property
    def root_pem(self) -> str:
        return pem(self.root)

    @property
    def chain_pem(self) -> str:
        return "".join(pem(c) for c in self.intermediates)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def private_key(kind: str) -> CertificateIssuerPrivateKeyTypes:
    """``kind`` is rsa<bits> (rsa2048...), ec-p256/ec-p384/ec-p521, dsa, ed25519 or ed448 —
    including kinds ACM or CloudFront refuse, since tests need those too."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind in _CURVES:
        return ec.generate_private_key(_CURVES[kind]())
    if kind == "dsa":
        return dsa.generate_private_key(key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(f"unknown key kind {kind!r}")


def _certificate(
    subject: str,
    public_key: CertificatePublicKeyTypes,
    issuer: x509.Certificate | None,
    signing_key: CertificateIssuerPrivateKeyTypes,
    not_before: datetime,
    not_after: datetime,
    names: list[str] | None = None,
) -> x509.Certificate:
    """A CA certificate when ``names`` is None, otherwise a TLS server leaf."""
    is_ca = names is None
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not is_ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if names is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@functools.cache
def private_ca(name: str = "Sandbox", *, intermediates: int = 1, key: str = "rsa2048") -> CA:
    """Cached per process because key generation dominates test time; ``key``
    (RSA or EC) is used for the root and every intermediate."""
    now = datetime.now(UTC)
    not_before, not_after = now - timedelta(days=1), now + timedelta(days=365 * 20)
    signing_key = private_key(key)
    root = parent = _certificate(
        f"{name} Root CA", signing_key.public_key(), None, signing_key, not_before, not_after
    )
    chain: list[x509.Certificate] = []
    for depth in range(1, intermediates + 1):
        child_key = private_key(key)
        parent = _certificate(
            f"{name} Intermediate CA {depth}",
            child_key.public_key(),
            parent,
            signing_key,
            not_before,
            not_after,
        )
        chain.insert(0, parent)
        signing_key = child_key
    return CA(root=root, intermediates=tuple(chain), issuing_key=signing_key)


def issue(
    names: list[str],
    *,
    key: str = "rsa2048",
    key_format: str = "pkcs8",
    encrypted: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    ca: CA | None = None,
) -> Issued:
    """A leaf for ``names`` (the first is also the subject CN), valid from an
    hour ago for 90 days unless told otherwise. ``encrypted`` protects the key
    with PASSPHRASE, which gives "ENCRYPTED PRIVATE KEY" for PKCS#8 and a
    Proc-Type: 4,ENCRYPTED header for PKCS#1/SEC1."""
    ca = ca or private_ca()
    now = datetime.now(UTC)
    leaf_key = private_key(key)
    leaf = _certificate(
        names[0],
        leaf_key.public_key(),
        ca.intermediates[0],
        ca.issuing_key,
        not_before or now - timedelta(hours=1),
        not_after or now + timedelta(days=90),
        names,
    )
    encryption = (
        serialization.BestAvailableEncryption(PASSPHRASE)
        if encrypted
        else serialization.NoEncryption()
    )
    key_pem = leaf_key.private_bytes(serialization.Encoding.PEM, _FORMATS[key_format], encryption)
    return Issued(cert_pem=pem(leaf), key_pem=key_pem.decode(), chain_pem=ca.chain_pem)


def second_ca() -> CA:
    """A CA other than ``private_ca()``'s, root and intermediates their own:
    a certificate it issues comes with another chain."""
    return private_ca("Second Sandbox")
