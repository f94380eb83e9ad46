"""One shape for every refusal, so the command line, the HTTP shim and the
job runner report bad input the same way: where it is and what is allowed.

A refusal goes back to whoever sent the request and into logs, so it is
bounded: at most MAX_PROBLEMS problems, and values shown only as short
excerpts, never anything that looks like key material."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PROBLEMS = 50  # enough to fix a request by; a flood of problems only costs the caller
MAX_EXCERPT = 40  # characters of a value a message may show

_ARMOUR = ("-----begin", "private key")
# A key body is long runs of base64 mixing digits, lower and upper case (two
# kinds at least once lower-cased, as a name is); words and names rarely are.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{32,}")


@dataclass(frozen=True)
class Problem:
    """A single thing wrong with a request.

    ``location`` points into the request as a caller wrote it, for example
    ``cnameList[1].sanList[2]`` or ``pemList[0].ChainPem``; ``message`` says
    what is wrong and what is allowed, and never quotes key material.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class RequestRejected(Exception):
    """Raised with every problem found, never just the first, so a caller can
    fix a request in one round trip; past MAX_PROBLEMS, one last problem
    counts the rest instead of listing them."""

    def __init__(self, problems: list[Problem]) -> None:
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            problems = [
                *problems[:MAX_PROBLEMS],
                Problem("", f"{more:,} more problem{'s' if more != 1 else ''} found, not shown"),
            ]
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def looks_like_key_material(text: str) -> bool:
    """PEM armour, or base64 the way a key body is written; deliberately
    broad, since describing an odd value costs the caller little and quoting
    a key costs them the key."""
    folded = text.lower()
    return any(mark in folded for mark in _ARMOUR) or any(
        sum((run != run.upper(), run != run.lower(), not run.isalpha())) >= 2
        for run in _BASE64_RUN.findall(text)
    )


def excerpt(value: str, *, quoted: bool = True) -> str:
    """How a message shows a caller's value: whole when short (unquoted only
    if asked and printable), its first MAX_EXCERPT characters and an ellipsis
    when long, and only described when it looks like key material, which the
    caller must not find echoed back."""
    if looks_like_key_material(value):
        return f"<{len(value):,} characters that look like key material, not shown>"
    if len(value) > MAX_EXCERPT:
        return repr(value[:MAX_EXCERPT] + "…")
    return repr(value) if quoted or not value.isprintable() else value
