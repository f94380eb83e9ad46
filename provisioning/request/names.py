"""Domain names as ACM and CloudFront accept them.

Names are compared after normalisation (lower case, no trailing dot, ASCII
punycode form), because that is how both services store them: two spellings
of one name must count as one name, and a name must never reach AWS in a form
it would rewrite behind our back.
"""

from __future__ import annotations

import ipaddress
import re

import idna

from provisioning.errors import InvalidName, excerpt

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
ALLOWED = (
    "letters a-z, digits and inner hyphens in dot-separated labels of 1-63 characters, "
    "at most 253 characters in all, with '*' only as the whole left-most label"
)


def normalise(raw: str) -> str:
    """Lower-cases, drops one trailing dot and converts internationalised
    labels to punycode (IDNA 2008 with UTS 46 mapping, as browsers do).

    A name over MAX_NAME_LENGTH characters is refused before conversion,
    whose cost grows faster than the name: punycode is never shorter than
    its Unicode form, except through characters no real name holds."""
    name = raw.strip().lower().removesuffix(".")
    if name.isascii():
        return name
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(
            f"is {len(name):,} characters long; at most {MAX_NAME_LENGTH} are allowed"
        )
    labels = name.split(".")
    try:
        return ".".join(
            label if label.isascii() else idna.encode(label, uts46=True).decode("ascii")
            for label in labels
        )
    except idna.IDNAError as error:
        # idna's own message quotes the whole label; its fields say the same briefly.
        reason = (error.code or "invalid").replace("_", " ")
        if error.codepoint is not None:
            reason += f", U+{error.codepoint:04X} at position {error.position} of its label"
        raise InvalidName(f"is not a valid internationalised name ({reason})") from error


def is_address(name: str) -> bool:
    """Only a name ending in a digit (IPv4) or holding a colon (IPv6) can be
    an address; that test is cheap, ipaddress is not, and a request may hold
    many names."""
    if not (name[-1:].isdigit() or ":" in name):
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def problem(name: str) -> str | None:
    """What is wrong with a normalised name, or None when ACM and CloudFront
    would both accept it."""
    if not name:
        return "is empty; a fully qualified domain name is required"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name):,} characters long; at most {MAX_NAME_LENGTH} are allowed"
    if is_address(name):
        return "is an IP address; certificates and CloudFront aliases need a domain name"
    labels = name.split(".")
    if len(labels) < 2:
        return (
            f"{excerpt(name)} is not fully qualified; use at least two labels such as example.com"
        )
    for position, label in enumerate(labels):
        if label == "*" and position == 0:
            continue
        if "*" in label:
            return (
                f"{excerpt(name)} has a wildcard outside the whole left-most label; "
                f"allowed: {ALLOWED}"
            )
        if not label:
            return f"{excerpt(name)} has an empty label (two dots in a row or a leading dot)"
        if len(label) > MAX_LABEL_LENGTH:
            return (
                f"{excerpt(name)} has a label of {len(label)} characters; "
                f"at most {MAX_LABEL_LENGTH} are allowed"
            )
        if not LABEL.match(label):
            return f"{excerpt(name)} has the invalid label {excerpt(label)}; allowed: {ALLOWED}"
    if labels[-1].isdigit():
        return f"{excerpt(name)} ends in a numeric label; the top-level domain can't be all digits"
    return None
