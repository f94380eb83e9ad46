"""Checks on the PEM a caller hands us for ACM import, so a bad certificate,
key or chain is refused with a precise reason before anything reaches AWS,
rather than failing half way through a deployment with ACM's terse errors.

Messages name the field and the problem, never the PEM text: a caller's
private key must not end up in logs, job records or HTTP responses.
"""

from __future__ import annotations

import base64
import bisect
import math
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import NameOID

from provisioning.errors import MAX_EXCERPT, Problem, excerpt

# ACM's documented import limit for the private key.
MAX_KEY_BYTES = 5120
ACM_KEYS = (
    "RSA 1024",
    "RSA 2048",
    "RSA 3072",
    "RSA 4096",
    "ECDSA P-256",
    "ECDSA P-384",
    "ECDSA P-521",
)
# CloudFront serves only these of the keys ACM will import.
CLOUDFRONT_KEYS = ("RSA 1024", "RSA 2048", "RSA 3072", "ECDSA P-256")

_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
# Every BEGIN and END line, overlapping ones included: a lookahead matches at each position.
_MARKER = re.compile(r"(?=-----(BEGIN|END) ([A-Z0-9 ]+)-----)")
# Real chains hold one to three intermediates; finding their order costs a
# signature check per pair, which a long chain would turn into minutes.
MAX_CHAIN_CERTIFICATES = 10
_DER_SEQUENCE = 0x30
# What cryptography raises when it reads a loaded certificate's parts, which
# it parses lazily, so damage can show after loading succeeded.
_UNREADABLE = (
    ValueError,
    UnsupportedAlgorithm,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


@dataclass(frozen=True)
class CertificateFacts:
    """What a caller needs to match the certificate against the requested
    domains and to report on it; deliberately free of key material."""

    dns_names: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    days_left: int
    key_description: str
    issuer: str
    serial: str


@dataclass(frozen=True)
class _Block:
    label: str  # shortened past MAX_EXCERPT, as messages show it
    encrypted: bool
    der: bytes | None  # None when the body is not base64 of a DER structure


def check_pem_item(
    where: str,
    cert_pem: str,
    key_pem: str,
    chain_pem: str,
    *,
    for_cloudfront: bool,
    now: datetime,
) -> tuple[CertificateFacts | None, list[Problem]]:
    """Every problem with one pemList item, so a caller fixes them in one round
    trip. ``now`` must be timezone-aware; facts are None only when the leaf
    certificate can't be read."""
    cert_at, key_at, chain_at = f"{where}.CertPem", f"{where}.PrivateKeyPem", f"{where}.ChainPem"
    problems: list[Problem] = []
    leaves = _certificates(cert_at, cert_pem, "the leaf certificate", problems)
    if len(leaves) > 1:
        problems.append(
            Problem(
                cert_at,
                f"holds {len(leaves)} certificates; it takes the leaf certificate only, "
                "the intermediates go in ChainPem",
            )
        )
    private_key = _private_key(key_at, key_pem, problems)
    intermediates = _certificates(chain_at, chain_pem, "the intermediate certificates", problems)
    chain = [(n, c) for n, c in enumerate(intermediates, 1) if c]
    if len(intermediates) > MAX_CHAIN_CERTIFICATES:
        problems.append(
            Problem(
                chain_at,
                f"holds {len(intermediates):,} certificates; at most "
                f"{MAX_CHAIN_CERTIFICATES} intermediates are accepted",
            )
        )
        chain = []
    leaf = leaves[0] if leaves else None
    if leaf is None:
        return None, problems
    try:
        facts = _facts(leaf, now)
    except _UNREADABLE:
        problems.append(Problem(cert_at, "is damaged: its names or public key can't be read"))
        return None, problems
    if now < facts.not_before:
        problems.append(Problem(cert_at, f"is not valid until {_when(facts.not_before)}"))
    if now > facts.not_after:
        problems.append(Problem(cert_at, f"expired on {_when(facts.not_after)}"))
    problems.extend(_key_kind_problems(cert_at, facts.key_description, for_cloudfront))
    if private_key is not None and _spki(private_key.public_key()) != _spki(leaf.public_key()):
        problems.append(Problem(key_at, "does not match the public key in CertPem"))
    elif isinstance(private_key, rsa.RSAPrivateKey) and not _consistent(private_key):
        problems.append(Problem(key_at, "is damaged: its private numbers don't fit its public key"))
    problems.extend(_chain_problems(chain_at, leaf, chain))
    return facts, problems


def _pem_texts(text: str) -> list[tuple[str, str]]:
    """The label and text of each PEM block: what finditer would give for
    ``-----BEGIN (L)-----(.*?)-----END \\1-----`` (DOTALL), found in
    near-linear time, where that pattern rescans the rest of the text from
    every BEGIN that has no END."""
    begins: list[tuple[int, str, int]] = []
    ends: dict[str, list[tuple[int, int]]] = {}
    for match in _MARKER.finditer(text):
        kind, label = match.groups()
        start, after = match.start(), match.start() + len(kind) + len(label) + 11
        if kind == "BEGIN":
            begins.append((start, label, after))
        else:
            ends.setdefault(label, []).append((start, after))
    found, resume = [], 0
    for start, label, after in begins:
        if start < resume:
            continue  # inside the block just found
        closing = ends.get(label, [])
        nearest = bisect.bisect_left(closing, (after, 0))
        if nearest < len(closing):
            end, resume = closing[nearest]
            found.append((label, text[after:end]))
    return found


def _blocks(text: str) -> list[_Block]:
    """PEM blocks parsed by hand rather than by cryptography's loaders so that a
    placeholder body or an encrypted key can be named as such."""
    blocks = []
    for label, content in _pem_texts(text):
        lines = content.split("\n")
        headers = " ".join(line for line in lines if ":" in line)
        body = "".join("".join(line for line in lines if ":" not in line).split())
        try:
            der: bytes | None = base64.b64decode(body, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            der = None
        if not der or der[0] != _DER_SEQUENCE:
            der = None
        shown = label if len(label) <= MAX_EXCERPT else f"{label[:MAX_EXCERPT]}…"
        blocks.append(_Block(shown, "ENCRYPTED" in headers, der))
    return blocks


def _field_blocks(at: str, text: str, expected: str, problems: list[Problem]) -> list[_Block]:
    if not text.strip():
        problems.append(Problem(at, f"is empty; it must hold {expected} in PEM form"))
        return []
    if "\\n" in text:
        # Doubly escaped JSON would otherwise look like a damaged body.
        problems.append(Problem(at, "holds the characters \\n where line breaks belong"))
        return []
    blocks = _blocks(text)
    if not blocks:
        problems.append(
            Problem(at, f"holds no PEM block (-----BEGIN ...-----); it must hold {expected}")
        )
    return blocks


def _certificates(
    at: str, text: str, expected: str, problems: list[Problem]
) -> list[x509.Certificate | None]:
    """One entry per PEM block, None where the block is not a certificate, so
    positions in messages match what the caller wrote."""
    blocks = _field_blocks(at, text, expected, problems)
    certificates: list[x509.Certificate | None] = []
    for n, block in enumerate(blocks, 1):
        which = f"certificate {n} " if len(blocks) > 1 else ""
        cert = None
        if block.label != "CERTIFICATE":
            problems.append(Problem(at, f"{which}is a {block.label} block, not a CERTIFICATE"))
        elif block.der is None:
            problems.append(Problem(at, f"{which}holds a placeholder, not a certificate"))
        else:
            try:
                cert = x509.load_der_x509_certificate(block.der)
            except ValueError:
                problems.append(
                    Problem(at, f"{which}is damaged and can't be read as a certificate")
                )
        certificates.append(cert)
    return certificates


def _private_key(at: str, text: str, problems: list[Problem]) -> PrivateKeyTypes | None:
    size = len(text.encode(errors="surrogatepass"))
    if size > MAX_KEY_BYTES:
        # Not read further: the arithmetic on a huge key's numbers takes hours.
        problems.append(
            Problem(at, f"is {size:,} bytes; ACM accepts at most {MAX_KEY_BYTES:,} bytes")
        )
        return None
    blocks = _field_blocks(at, text, "one private key", problems)
    if len(blocks) > 1:
        problems.append(Problem(at, f"holds {len(blocks)} PEM blocks; it takes one private key"))
    if len(blocks) != 1:
        return None
    block = blocks[0]
    if block.label == "ENCRYPTED PRIVATE KEY" or block.encrypted:
        problems.append(Problem(at, "is encrypted; ACM needs the private key unencrypted"))
    elif block.label not in _KEY_LABELS:
        problems.append(
            Problem(
                at,
                f"is a {block.label} block; it must be a PRIVATE KEY (PKCS#8), "
                "RSA PRIVATE KEY (PKCS#1) or EC PRIVATE KEY (SEC1)",
            )
        )
    elif block.der is None:
        problems.append(Problem(at, "holds a placeholder, not a private key"))
    else:
        try:
            # The full RSA key check costs ~50 ms a key (5 s for 100 items);
            # _consistent() does its arithmetic part in microseconds.
            return serialization.load_der_private_key(
                block.der, password=None, unsafe_skip_rsa_key_validation=True
            )
        except (ValueError, TypeError, UnsupportedAlgorithm):
            problems.append(Problem(at, "is damaged and can't be read as a private key"))
    return None


def _key_kind_problems(at: str, kind: str, for_cloudfront: bool) -> list[Problem]:
    allowed = CLOUDFRONT_KEYS if for_cloudfront else ACM_KEYS
    if kind in allowed:
        return []
    why = "ACM imports but CloudFront can't use" if kind in ACM_KEYS else "ACM can't import"
    return [Problem(at, f"its key is {kind}, which {why}; allowed: {', '.join(allowed)}")]


def _chain_problems(
    at: str, leaf: x509.Certificate, chain: list[tuple[int, x509.Certificate]]
) -> list[Problem]:
    """CloudFront wants the intermediates only, each signing the one before,
    starting with the leaf's issuer; this finds that path through what the
    caller gave and reports everything that is off it."""
    if not chain:
        return []
    path, current, remaining = [], leaf, list(chain)
    while found := next(((n, c) for n, c in remaining if _issued_by(current, c)), None):
        path.append(found[0])
        remaining.remove(found)
        current = found[1]
    if not path:
        issuer = leaf.issuer.rfc4514_string()
        return [
            Problem(
                at,
                "holds no certificate that issued the leaf; it must start with the "
                f"certificate of the leaf's issuer, {excerpt(issuer, quoted=False)}",
            )
        ]
    problems = []
    roots = {n for n, c in chain if _issued_by(c, c)}
    for n, cert in chain:
        if n in roots:
            problems.append(
                Problem(
                    at,
                    f"certificate {n} is a self-signed root; remove it, CloudFront "
                    "wants the intermediate certificates only",
                )
            )
        elif cert == leaf:
            problems.append(Problem(at, f"certificate {n} is the leaf itself; remove it"))
        elif n not in path:
            problems.append(
                Problem(
                    at,
                    f"certificate {n} is unrelated: it signed neither the leaf nor any of "
                    "the leaf's issuers; remove it",
                )
            )
    order = [n for n in path if n not in roots]
    if order != sorted(order):
        problems.append(
            Problem(
                at,
                f"is out of order: certificate {order[0]} issued the leaf so it comes first; "
                f"each must sign the one before it, so use the order {', '.join(map(str, order))}",
            )
        )
    return problems


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _facts(leaf: x509.Certificate, now: datetime) -> CertificateFacts:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = tuple(
            str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        )
    return CertificateFacts(
        dns_names=names,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        days_left=(leaf.not_valid_after_utc - now).days,
        key_description=_describe(leaf.public_key()),
        issuer=leaf.issuer.rfc4514_string(),
        serial=f"{leaf.serial_number:x}",
    )


def _describe(key: PublicKeyTypes) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {_CURVES.get(key.curve.name, key.curve.name)}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


def _consistent(key: rsa.RSAPrivateKey) -> bool:
    """The arithmetic of OpenSSL's RSA key check without its primality
    tests, which cost ~50 ms a key: the private numbers must belong to the
    public ones, or every signature made with the key would be wrong."""
    numbers = key.private_numbers()
    p, q, d = numbers.p, numbers.q, numbers.d
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    if min(p, q) < 2:
        return False  # and no division by zero below
    lcm = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    return (
        p * q == n
        and d * e % lcm == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and numbers.iqmp * q % p == 1
    )


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
