from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from provisioning.errors import Problem
from provisioning.request.pem import MAX_KEY_BYTES, CertificateFacts, check_pem_item
from tests.material import CA, Issued, issue, pem, private_ca

# Certificates carry whole seconds, so a whole-second "now" keeps comparisons exact.
NOW = datetime.now(UTC).replace(microsecond=0)
NAMES = ("shop.example.com", "www.shop.example.com")
CERT_AT, KEY_AT, CHAIN_AT = "pemList[3].CertPem", "pemList[3].PrivateKeyPem", "pemList[3].ChainPem"

# Verbatim from the published import examples.
PLACEHOLDER_CERT = "-----BEGIN CERTIFICATE-----\nXXXXXXXXXXXX\n-----END CERTIFICATE-----"
PLACEHOLDER_KEY = "-----BEGIN PRIVATE KEY-----\nXXXXXXXXXXXX\n-----END PRIVATE KEY-----"
PLACEHOLDER_CHAIN = (
    "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAA\n-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\nBBBBBBBBBBB\n-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\nCCCCCCCCCCC\n-----END CERTIFICATE-----"
)

CLOUDFRONT_ALLOWED = "allowed: RSA 1024, RSA 2048, RSA 3072, ECDSA P-256"
ACM_ALLOWED = (
    "allowed: RSA 1024, RSA 2048, RSA 3072, RSA 4096, ECDSA P-256, ECDSA P-384, ECDSA P-521"
)

Leaf = Callable[..., Issued]


@pytest.fixture(scope="module")
def leaf() -> Leaf:
    """Leaves cached per module: key generation (RSA 4096, DSA) dominates runtime."""

    @functools.cache
    def make(key: str = "rsa2048", key_format: str = "pkcs8", **options: Any) -> Issued:
        return issue(list(NAMES), key=key, key_format=key_format, **options)

    return make


@pytest.fixture(scope="module")
def two_intermediates() -> CA:
    """ECDSA all the way up, so ECDSA signature checks are exercised too."""
    return private_ca("Deep", intermediates=2, key="ec-p256")


def check(
    cert: str, key: str, chain: str, *, for_cloudfront: bool = True, now: datetime = NOW
) -> tuple[CertificateFacts | None, list[Problem]]:
    return check_pem_item("pemList[3]", cert, key, chain, for_cloudfront=for_cloudfront, now=now)


def check_issued(issued: Issued, **kwargs: Any) -> tuple[CertificateFacts | None, list[Problem]]:
    return check(issued.cert_pem, issued.key_pem, issued.chain_pem, **kwargs)


def split(chain_pem: str) -> list[str]:
    end = "-----END CERTIFICATE-----\n"
    return [block + end for block in chain_pem.split(end) if block.strip()]


# --- what passes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "key_format", "description", "label"),
    [
        ("rsa1024", "pkcs8", "RSA 1024", "PRIVATE KEY"),
        ("rsa2048", "pkcs8", "RSA 2048", "PRIVATE KEY"),
        ("rsa2048", "pkcs1", "RSA 2048", "RSA PRIVATE KEY"),
        ("rsa3072", "pkcs8", "RSA 3072", "PRIVATE KEY"),
        ("rsa3072", "pkcs1", "RSA 3072", "RSA PRIVATE KEY"),
        ("ec-p256", "pkcs8", "ECDSA P-256", "PRIVATE KEY"),
        ("ec-p256", "pkcs1", "ECDSA P-256", "EC PRIVATE KEY"),
    ],
)
def test_cloudfront_keys_in_every_format_pass(
    leaf: Leaf, key: str, key_format: str, description: str, label: str
) -> None:
    issued = leaf(key, key_format)
    assert issued.key_pem.startswith(f"-----BEGIN {label}-----\n")
    facts, problems = check_issued(issued)
    assert problems == []
    assert facts is not None and facts.key_description == description


@pytest.mark.parametrize(
    ("key", "description"),
    [("rsa4096", "RSA 4096"), ("ec-p384", "ECDSA P-384"), ("ec-p521", "ECDSA P-521")],
)
def test_acm_only_keys_pass_when_not_for_cloudfront(leaf: Leaf, key: str, description: str) -> None:
    facts, problems = check_issued(leaf(key), for_cloudfront=False)
    assert problems == []
    assert facts is not None and facts.key_description == description


def test_facts_describe_the_leaf(leaf: Leaf) -> None:
    issued = leaf(not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=30, hours=1))
    facts, problems = check_issued(issued)
    cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    assert problems == []
    assert facts == CertificateFacts(
        dns_names=NAMES,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30, hours=1),
        days_left=30,
        key_description="RSA 2048",
        issuer="CN=Sandbox Intermediate CA 1",
        serial=f"{cert.serial_number:x}",
    )


def test_dns_names_are_reported_as_written() -> None:
    names = ["Shop.Example.COM", "*.shop.example.com"]
    facts, problems = check_issued(issue(names))
    assert problems == []
    assert facts is not None and facts.dns_names == tuple(names)


def test_dns_names_fall_back_to_the_common_name_without_a_san(leaf: Leaf) -> None:
    ca = private_ca()
    issued = leaf()
    key_cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    no_san = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "legacy.example.com")]))
        .issuer_name(ca.intermediates[0].subject)
        .public_key(key_cert.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(ca.issuing_key, hashes.SHA256())
    )
    facts, problems = check(pem(no_san), issued.key_pem, issued.chain_pem)
    assert problems == []
    assert facts is not None and facts.dns_names == ("legacy.example.com",)


def test_chain_of_two_intermediates_in_order_passes(two_intermediates: CA) -> None:
    issued = issue(list(NAMES), ca=two_intermediates)
    assert len(split(issued.chain_pem)) == 2
    facts, problems = check_issued(issued)
    assert problems == []
    assert facts is not None and facts.issuer == "CN=Deep Intermediate CA 2"


def test_key_at_the_size_limit_passes(leaf: Leaf) -> None:
    issued = leaf()
    padded = issued.key_pem + "\n" * (MAX_KEY_BYTES - len(issued.key_pem))
    assert len(padded.encode()) == MAX_KEY_BYTES
    assert check(issued.cert_pem, padded, issued.chain_pem)[1] == []


def test_windows_line_endings_pass(leaf: Leaf) -> None:
    issued = leaf()
    crlf = [text.replace("\n", "\r\n") for text in (issued.cert_pem, issued.key_pem)]
    assert check(*crlf, issued.chain_pem.replace("\n", "\r\n"))[1] == []


# --- what each field must hold ---------------------------------------------


def test_published_placeholders_are_named_as_placeholders() -> None:
    facts, problems = check(PLACEHOLDER_CERT, PLACEHOLDER_KEY, PLACEHOLDER_CHAIN)
    assert facts is None
    assert problems == [
        Problem(CERT_AT, "holds a placeholder, not a certificate"),
        Problem(KEY_AT, "holds a placeholder, not a private key"),
        Problem(CHAIN_AT, "certificate 1 holds a placeholder, not a certificate"),
        Problem(CHAIN_AT, "certificate 2 holds a placeholder, not a certificate"),
        Problem(CHAIN_AT, "certificate 3 holds a placeholder, not a certificate"),
    ]


def test_empty_fields_are_named_as_empty() -> None:
    facts, problems = check("", " \n", "")
    assert facts is None
    assert problems == [
        Problem(CERT_AT, "is empty; it must hold the leaf certificate in PEM form"),
        Problem(KEY_AT, "is empty; it must hold one private key in PEM form"),
        Problem(CHAIN_AT, "is empty; it must hold the intermediate certificates in PEM form"),
    ]


def test_text_without_pem_blocks_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    facts, problems = check("cert.pem", issued.key_pem, issued.chain_pem)
    assert facts is None
    assert problems == [
        Problem(
            CERT_AT,
            "holds no PEM block (-----BEGIN ...-----); it must hold the leaf certificate",
        )
    ]


def test_doubly_escaped_newlines_are_named(leaf: Leaf) -> None:
    issued = leaf()
    escaped = issued.chain_pem.replace("\n", "\\n")
    problems = check(issued.cert_pem, issued.key_pem, escaped)[1]
    assert problems == [Problem(CHAIN_AT, "holds the characters \\n where line breaks belong")]


def test_cert_field_takes_exactly_one_certificate(leaf: Leaf) -> None:
    issued = leaf()
    facts, problems = check(issued.cert_pem + issued.chain_pem, issued.key_pem, issued.chain_pem)
    assert facts is not None and facts.dns_names == NAMES
    assert problems == [
        Problem(
            CERT_AT,
            "holds 2 certificates; it takes the leaf certificate only, "
            "the intermediates go in ChainPem",
        )
    ]


def test_swapped_cert_and_key_are_named(leaf: Leaf) -> None:
    issued = leaf()
    facts, problems = check(issued.key_pem, issued.cert_pem, issued.chain_pem)
    assert facts is None
    assert problems == [
        Problem(CERT_AT, "is a PRIVATE KEY block, not a CERTIFICATE"),
        Problem(
            KEY_AT,
            "is a CERTIFICATE block; it must be a PRIVATE KEY (PKCS#8), "
            "RSA PRIVATE KEY (PKCS#1) or EC PRIVATE KEY (SEC1)",
        ),
    ]


def test_damaged_certificate_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    der = cert.public_bytes(serialization.Encoding.DER)
    truncated = base64.b64encode(der[: len(der) // 2]).decode()
    damaged = f"-----BEGIN CERTIFICATE-----\n{truncated}\n-----END CERTIFICATE-----\n"
    facts, problems = check(damaged, issued.key_pem, issued.chain_pem)
    assert facts is None
    assert problems == [Problem(CERT_AT, "is damaged and can't be read as a certificate")]


def test_key_field_takes_one_private_key(leaf: Leaf) -> None:
    issued = leaf()
    problems = check(issued.cert_pem, issued.key_pem * 2, issued.chain_pem)[1]
    assert problems == [Problem(KEY_AT, "holds 2 PEM blocks; it takes one private key")]


# --- the key ---------------------------------------------------------------


@pytest.mark.parametrize("key_format", ["pkcs8", "pkcs1"])
def test_encrypted_key_is_refused(leaf: Leaf, key_format: str) -> None:
    issued = leaf(key_format=key_format, encrypted=True)
    marker = "ENCRYPTED PRIVATE KEY" if key_format == "pkcs8" else "Proc-Type: 4,ENCRYPTED"
    assert marker in issued.key_pem
    problems = check_issued(issued)[1]
    assert problems == [Problem(KEY_AT, "is encrypted; ACM needs the private key unencrypted")]


def test_mismatched_key_is_refused(leaf: Leaf) -> None:
    issued, other = leaf(), leaf("rsa3072")
    facts, problems = check(issued.cert_pem, other.key_pem, issued.chain_pem)
    assert facts is not None
    assert problems == [Problem(KEY_AT, "does not match the public key in CertPem")]


def test_key_with_a_damaged_private_part_is_refused(leaf: Leaf) -> None:
    """The public half matches, so only a signature exposes the damage."""
    issued = leaf()
    key = serialization.load_pem_private_key(issued.key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    good = key.private_numbers()
    damaged = rsa.RSAPrivateNumbers(
        good.p, good.q, good.d + 2, good.dmp1 + 2, good.dmq1, good.iqmp, good.public_numbers
    ).private_key(unsafe_skip_rsa_key_validation=True)
    damaged_pem = damaged.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    problems = check(issued.cert_pem, damaged_pem, issued.chain_pem)[1]
    assert [p.location for p in problems] == [KEY_AT]
    assert "is damaged" in problems[0].message


def test_oversize_key_is_refused(leaf: Leaf) -> None:
    issued = leaf("rsa4096")
    oversize = issued.key_pem + "\n" * (MAX_KEY_BYTES + 1 - len(issued.key_pem))
    problems = check(issued.cert_pem, oversize, issued.chain_pem, for_cloudfront=False)[1]
    assert problems == [Problem(KEY_AT, "is 5,121 bytes; ACM accepts at most 5,120 bytes")]


@pytest.mark.parametrize(
    ("key", "description"),
    [("rsa4096", "RSA 4096"), ("ec-p384", "ECDSA P-384"), ("ec-p521", "ECDSA P-521")],
)
def test_cloudfront_refuses_keys_only_acm_takes(leaf: Leaf, key: str, description: str) -> None:
    facts, problems = check_issued(leaf(key))
    assert facts is not None and facts.key_description == description
    assert problems == [
        Problem(
            CERT_AT,
            f"its key is {description}, which ACM imports but CloudFront can't use; "
            + CLOUDFRONT_ALLOWED,
        )
    ]


@pytest.mark.parametrize(
    ("key", "description", "for_cloudfront", "allowed"),
    [
        ("dsa", "DSA 2048", True, CLOUDFRONT_ALLOWED),
        ("dsa", "DSA 2048", False, ACM_ALLOWED),
        ("ed25519", "Ed25519", True, CLOUDFRONT_ALLOWED),
        ("ed25519", "Ed25519", False, ACM_ALLOWED),
        ("ed448", "Ed448", True, CLOUDFRONT_ALLOWED),
    ],
)
def test_keys_acm_cannot_import_are_refused(
    leaf: Leaf, key: str, description: str, for_cloudfront: bool, allowed: str
) -> None:
    facts, problems = check_issued(leaf(key), for_cloudfront=for_cloudfront)
    assert facts is not None and facts.key_description == description
    assert problems == [
        Problem(CERT_AT, f"its key is {description}, which ACM can't import; {allowed}")
    ]


# --- validity ---------------------------------------------------------------


def test_expired_leaf_is_refused(leaf: Leaf) -> None:
    issued = leaf(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=35))
    facts, problems = check_issued(issued)
    assert facts is not None and facts.days_left == -35
    expiry = (NOW - timedelta(days=35)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert problems == [Problem(CERT_AT, f"expired on {expiry}")]


def test_leaf_not_yet_valid_is_refused(leaf: Leaf) -> None:
    issued = leaf(not_before=NOW + timedelta(days=2), not_after=NOW + timedelta(days=90))
    facts, problems = check_issued(issued)
    assert facts is not None and facts.days_left == 90
    start = (NOW + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert problems == [Problem(CERT_AT, f"is not valid until {start}")]


def test_validity_is_judged_at_the_given_now(leaf: Leaf) -> None:
    issued = leaf()
    assert check_issued(issued, now=NOW + timedelta(days=89))[1] == []
    assert [p.location for p in check_issued(issued, now=NOW + timedelta(days=91))[1]] == [CERT_AT]


# --- the chain ----------------------------------------------------------------


def test_reversed_intermediates_are_out_of_order(two_intermediates: CA) -> None:
    issued = issue(list(NAMES), ca=two_intermediates)
    first, second = split(issued.chain_pem)
    problems = check(issued.cert_pem, issued.key_pem, second + first)[1]
    assert problems == [
        Problem(
            CHAIN_AT,
            "is out of order: certificate 2 issued the leaf so it comes first; "
            "each must sign the one before it, so use the order 2, 1",
        )
    ]


def test_chain_from_another_ca_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    problems = check(issued.cert_pem, issued.key_pem, private_ca("Other").chain_pem)[1]
    assert problems == [
        Problem(
            CHAIN_AT,
            "holds no certificate that issued the leaf; it must start with the certificate "
            "of the leaf's issuer, CN=Sandbox Intermediate CA 1",
        )
    ]


def test_issuer_with_the_right_name_but_wrong_key_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    impostor = private_ca("Sandbox", key="ec-p256")
    assert impostor.intermediates[0].subject == private_ca().intermediates[0].subject
    problems = check(issued.cert_pem, issued.key_pem, impostor.chain_pem)[1]
    assert [p.message.split(";")[0] for p in problems] == [
        "holds no certificate that issued the leaf"
    ]


def test_unrelated_certificate_in_chain_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    chain = issued.chain_pem + private_ca("Other").chain_pem
    problems = check(issued.cert_pem, issued.key_pem, chain)[1]
    assert problems == [
        Problem(
            CHAIN_AT,
            "certificate 2 is unrelated: it signed neither the leaf nor any of the leaf's "
            "issuers; remove it",
        )
    ]


def test_root_in_chain_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    problems = check(issued.cert_pem, issued.key_pem, issued.chain_pem + private_ca().root_pem)[1]
    assert problems == [
        Problem(
            CHAIN_AT,
            "certificate 2 is a self-signed root; remove it, CloudFront wants the "
            "intermediate certificates only",
        )
    ]


def test_leaf_repeated_in_chain_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    problems = check(issued.cert_pem, issued.key_pem, issued.cert_pem + issued.chain_pem)[1]
    assert problems == [Problem(CHAIN_AT, "certificate 1 is the leaf itself; remove it")]


def test_every_problem_is_reported_at_once(two_intermediates: CA) -> None:
    issued = issue(list(NAMES), key="rsa1024", ca=two_intermediates)
    first, second = split(issued.chain_pem)
    chain = second + two_intermediates.root_pem + first
    other_key = issue(["other.example.com"], key="rsa1024").key_pem
    problems = check(issued.cert_pem, other_key, chain, now=NOW + timedelta(days=100))[1]
    assert [(p.location, p.message.split(" ")[0:2]) for p in problems] == [
        (CERT_AT, ["expired", "on"]),
        (KEY_AT, ["does", "not"]),
        (CHAIN_AT, ["certificate", "2"]),
        (CHAIN_AT, ["is", "out"]),
    ]
    assert "use the order 3, 1" in problems[-1].message


# --- hostile input ---------------------------------------------------------


def der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + der_length(len(body)) + body


def der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def leaf_with_extensions(issued: Issued, *extensions: x509.ExtensionType) -> x509.Certificate:
    ca = private_ca()
    public_key = x509.load_pem_x509_certificate(issued.cert_pem.encode()).public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAMES[0])]))
        .issuer_name(ca.intermediates[0].subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(ca.issuing_key, hashes.SHA256())


@pytest.mark.parametrize(
    "san",
    [b"\x30\x03\x82\x05x", b"\x30\x03\x82\x01\xff", b"\x30\x04\xa3\x02\x30\x00"],
    ids=["truncated", "not-ia5", "x400-address"],
)
def test_certificate_with_unreadable_names_is_refused(leaf: Leaf, san: bytes) -> None:
    """cryptography reads extensions lazily, so a certificate that loads can
    still fail when its names are asked for."""
    issued = leaf()
    broken = x509.UnrecognizedExtension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, san)
    cert = leaf_with_extensions(issued, broken)
    facts, problems = check(pem(cert), issued.key_pem, issued.chain_pem)
    assert facts is None
    assert problems == [Problem(CERT_AT, "is damaged: its names or public key can't be read")]


def test_certificate_with_two_san_extensions_is_refused(leaf: Leaf) -> None:
    issued = leaf()
    cert = leaf_with_extensions(
        issued,
        x509.SubjectAlternativeName([x509.DNSName(NAMES[0])]),
        x509.IssuerAlternativeName([x509.DNSName(NAMES[1])]),
    )
    issuer_alt_oid = b"\x06\x03\x55\x1d\x12"
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(issuer_alt_oid) == 1
    twice = x509.load_der_x509_certificate(der.replace(issuer_alt_oid, b"\x06\x03\x55\x1d\x11"))
    facts, problems = check(pem(twice), issued.key_pem, issued.chain_pem)
    assert facts is None
    assert problems == [Problem(CERT_AT, "is damaged: its names or public key can't be read")]


def test_rsa_key_with_a_prime_of_one_is_refused(leaf: Leaf) -> None:
    """OpenSSL loads it unchecked (we skip its slow check), and p = 1 would
    divide by zero in the arithmetic that replaces the check."""
    issued = leaf()
    n = x509.load_pem_x509_certificate(issued.cert_pem.encode()).public_key().public_numbers().n
    fields = b"".join(der_integer(v) for v in (0, n, 65537, 1, 1, n, 0, 0, 0))
    key_der = b"\x30" + der_length(len(fields)) + fields
    body = base64.encodebytes(key_der).decode()
    key_pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n"
    problems = check(issued.cert_pem, key_pem, issued.chain_pem)[1]
    assert problems == [Problem(KEY_AT, "is damaged: its private numbers don't fit its public key")]


def test_long_chain_is_refused_without_ordering_it(leaf: Leaf) -> None:
    """Ordering costs a signature check per pair of certificates."""
    issued = leaf()
    problems = check(issued.cert_pem, issued.key_pem, issued.chain_pem * 11)[1]
    assert problems == [
        Problem(CHAIN_AT, "holds 11 certificates; at most 10 intermediates are accepted")
    ]


def test_oversize_key_is_not_read_further(leaf: Leaf) -> None:
    """Reading a huge key's numbers costs hours, so only its size is reported."""
    issued, other = leaf(), leaf("rsa3072")
    oversize = other.key_pem + "\n" * MAX_KEY_BYTES
    problems = check(issued.cert_pem, oversize, issued.chain_pem)[1]
    assert [p.location for p in problems] == [KEY_AT]
    assert "ACM accepts at most 5,120 bytes" in problems[0].message


@pytest.mark.parametrize("body", ["é", "\ud800", "MII\u0661"])
def test_pem_bodies_that_are_not_base64_text_are_placeholders(body: str) -> None:
    block = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    key = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    assert check(block, key, block)[1] == [
        Problem(CERT_AT, "holds a placeholder, not a certificate"),
        Problem(KEY_AT, "holds a placeholder, not a private key"),
        Problem(CHAIN_AT, "holds a placeholder, not a certificate"),
    ]


def test_long_pem_labels_are_shortened(leaf: Leaf) -> None:
    issued = leaf()
    label = "A" * 1_000
    block = f"-----BEGIN {label}-----\nMA==\n-----END {label}-----\n"
    problems = check(block, issued.key_pem, issued.chain_pem)[1]
    assert problems == [Problem(CERT_AT, f"is a {'A' * 40}… block, not a CERTIFICATE")]


def test_unclosed_pem_blocks_cost_linear_time(leaf: Leaf) -> None:
    """Each BEGIN without an END used to rescan the rest of the text: this
    field took hours."""
    issued = leaf()
    unclosed = "-----BEGIN CERTIFICATE-----\n" * 70_000
    problems = check(unclosed, issued.key_pem, issued.chain_pem)[1]
    assert problems == [
        Problem(
            CERT_AT, "holds no PEM block (-----BEGIN ...-----); it must hold the leaf certificate"
        )
    ]


# --- key material never leaks -----------------------------------------------


def test_key_material_never_appears_in_messages_or_facts(leaf: Leaf) -> None:
    issued = leaf("dsa")
    other = leaf("rsa3072", "pkcs1")
    attempts = [
        (issued.cert_pem, other.key_pem, issued.chain_pem),  # mismatch, DSA
        (issued.key_pem, issued.key_pem, issued.key_pem),  # key pasted everywhere
        (issued.cert_pem, issued.key_pem.replace("\n", "\\n"), ""),
        (issued.cert_pem, issued.key_pem * 3, issued.chain_pem),  # oversize, 3 blocks
        (issued.cert_pem, issued.key_pem[:400] + "\n-----END PRIVATE KEY-----\n", ""),
    ]
    secrets = [
        line
        for key in (issued.key_pem, other.key_pem)
        for line in key.splitlines()
        if line and not line.startswith("-----")
    ]
    for cert, key, chain in attempts:
        facts, problems = check(cert, key, chain)
        assert problems
        texts = [repr(facts), *(str(p) for p in problems), *(repr(p) for p in problems)]
        for text in texts:
            assert "-----BEGIN" not in text
            assert not any(secret in text for secret in secrets)
