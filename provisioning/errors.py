"""Every error of the project, in one tree, each knowing how a caller is
told about it: its HTTP status, its error code and its public body (what
the API answers; the command line's words are in ``provisioning.cli``).

    ProvisioningError                500 internal (never its own text)
     ├── Unauthorised                401 unauthorized
     ├── Refusal                     400 invalid_request: the request as sent
     │    ├── RequestRejected            every Problem, as "errors"
     │    ├── InvalidName (ValueError)   a domain name that can't be normalised
     │    ├── BadPageToken (ValueError)  a paging token this service did not hand out
     │    └── TooLarge               413 too_large
     ├── NotFound (LookupError)      404 not_found
     │    ├── UnknownJob
     │    └── UnknownItem
     ├── Conflict                    409 conflict: not now, the message says why
     │    ├── JobConflict
     │    ├── IdempotencyConflict        idempotency_conflict
     │    ├── NamesHeld                  names another live job holds
     │    └── StaleRecord                a record changed since it was read
     ├── ConfigurationError          a setting or credential of the service
     ├── TemplateError               a template distribution's configuration
     │    ├── TemplateUnavailable        can't be fetched, found or saved
     │    │    ├── UnknownDistribution
     │    │    └── UnknownVersion
     │    └── Untranslatable             can't be cloned faithfully
     ├── DamagedJob                  something stored of a job can't be read
     └── AwsFailure                  503 aws_unavailable, with service and operation

A class with no status of its own answers as its parent does; the root's
500 never shows the error's text, which may name paths or internals. Some
never reach a caller as they are: NamesHeld and template errors become a
RequestRejected, StaleRecord a fresh read, DamagedJob the job's DAMAGED
record, and InvalidName a Problem; their status is what a caller would see
if one ever got out. A ConfigurationError stops the command line, or the
API before it starts.

A refusal goes back to whoever sent the request and into logs, so it is
bounded: at most MAX_PROBLEMS problems, and values shown only as short
excerpts, never anything that looks like key material."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

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


class ProvisioningError(Exception):
    """The root: every exception class of the project derives from it.

    ``status`` and ``code`` are what the API answers; ``public()`` the rest
    of the body. Here, for anything not meant to reach a caller, a 500 that
    never quotes the error."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def public(self) -> dict[str, Any]:
        """The body's message and any other fields, safe to show a caller."""
        return {"message": "the request failed unexpectedly; see the server log"}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, **self.public()}


class Unauthorised(ProvisioningError):
    status, code = 401, "unauthorized"

    def __init__(self) -> None:
        super().__init__("a valid x-api-key header is required")

    def public(self) -> dict[str, Any]:
        return {"message": str(self)}


# -- refusals: the request as sent can't be acted on ---------------------------


class Refusal(ProvisioningError):
    status, code = 400, "invalid_request"

    def public(self) -> dict[str, Any]:
        return {"message": str(self)}


class RequestRejected(Refusal):
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

    def public(self) -> dict[str, Any]:
        return {
            "message": "the request was refused",
            "errors": [{"location": p.location, "message": p.message} for p in self.problems],
        }


class InvalidName(Refusal, ValueError):
    """A name that can't be normalised; the message says why (it reads after
    the name, as in "is not a valid internationalised name (...)")."""

    def public(self) -> dict[str, Any]:
        return {"message": f"a name {self}"}


class BadPageToken(Refusal, ValueError):
    """A paging token this store did not hand out."""

    def public(self) -> dict[str, Any]:
        return {"message": "next is not a token this service handed out"}


class TooLarge(Refusal):
    status, code = 413, "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds {limit} bytes")
        self.limit = limit


# -- not found -------------------------------------------------------------------


class NotFound(ProvisioningError, LookupError):
    status, code = 404, "not_found"


class UnknownJob(NotFound):
    """No job has this id (or it is not an id at all)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id

    def public(self) -> dict[str, Any]:
        return {"message": "no job has this jobId"}


class UnknownItem(NotFound):
    """The job has no item with this key."""

    def __init__(self, key: str, job_id: str = "") -> None:
        super().__init__(key)
        self.key, self.job_id = key, job_id

    def public(self) -> dict[str, Any]:
        return {"message": "the job has no item with this key"}


# -- conflicts: not now ------------------------------------------------------------


class Conflict(ProvisioningError):
    status, code = 409, "conflict"

    def public(self) -> dict[str, Any]:
        return {"message": str(self)}


class JobConflict(Conflict):
    """The job can't do this now (a step runs, it is being deleted, nothing
    failed); the message says why and what to do."""


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for another request (a different body) "
            "within the last 24 hours; use a new key for a new request"
        )


class NamesHeld(Conflict):
    """Names another live job holds: name -> that job's id."""

    def __init__(self, held: dict[str, str]) -> None:
        super().__init__(", ".join(f"{name} is held by job {job}" for name, job in held.items()))
        self.held = held


class StaleRecord(Conflict):
    """The record changed since it was read."""

    def public(self) -> dict[str, Any]:
        return {"message": "the job changed while this was done; try again"}


# -- the service's own configuration, and templates' -------------------------------


class ConfigurationError(ProvisioningError):
    """A setting or credential is missing or wrong; the message names it and
    says how to set it, in one line."""


class TemplateError(ProvisioningError):
    """A template distribution's configuration can't be used."""


class TemplateUnavailable(TemplateError):
    """A template configuration cannot be fetched, found or saved."""


class UnknownDistribution(TemplateUnavailable):
    def __init__(self, distribution_id: str) -> None:
        super().__init__(f"CloudFront distribution {distribution_id!r} does not exist")
        self.distribution_id = distribution_id


class UnknownVersion(TemplateUnavailable):
    def __init__(self, distribution_id: str, version: int, existing: list[int]) -> None:
        saved = ", ".join(map(str, existing)) if existing else "none"
        super().__init__(
            f"distribution {distribution_id} has no saved configuration version {version}; "
            f"saved versions: {saved}"
        )
        self.distribution_id = distribution_id
        self.version = version
        self.existing = existing


class Untranslatable(TemplateError):
    """The template uses a field the clone cannot carry without serving
    differently; cloning it anyway would break the faithfulness promise."""


# -- stored jobs and AWS ---------------------------------------------------------------


class DamagedJob(ProvisioningError):
    """Something stored of one job can't be read (``part``: its record, or
    its stack's checkpoint). Raised where it is read; shown as the job's
    damage, never as another job's failure. ``created`` is the job's
    creation date when the store still knows it."""

    def __init__(self, job_id: str, part: str, reason: str, created: str = "") -> None:
        super().__init__(f"job {job_id}: its {part} can't be read ({reason})")
        self.job_id, self.part, self.reason, self.created = job_id, part, reason, created


class AwsFailure(ProvisioningError):
    """An AWS call that failed, named by service and operation, with a reason
    short enough and safe enough to show a caller. ``transient`` when AWS was
    out of reach or kept refusing (throttling, its own errors) past the
    retries: worth trying again later, unlike a refusal."""

    status, code = 503, "aws_unavailable"

    def __init__(self, service: str, operation: str, reason: str, transient: bool) -> None:
        super().__init__(f"{service} {operation} failed: {reason}")
        self.service, self.operation = service, operation
        self.reason, self.transient = reason, transient

    def public(self) -> dict[str, Any]:
        return {"message": str(self), "service": self.service, "operation": self.operation}


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
