"""Every state a job and its items can be in, and the rules between them, in
one place: the status record, the step, the watcher and the command line all
ask these functions instead of comparing strings of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from provisioning.program.outputs import ItemOutputs


class Phase(StrEnum):
    """Where a job is in its life, as its record in the job store says."""

    QUEUED = "queued"  # accepted; no step has run yet
    RUNNING = "running"  # a step holds the job's lease
    WAITING = "waiting"  # between steps: the watcher looks for news from AWS
    DONE = "done"  # every item ended; nothing left to watch
    FAILED = "failed"  # the job as a whole failed; the error says why
    DESTROYING = "destroying"  # deletion asked for; a step removes everything


# Phases the watcher looks at: a job in any other needs nothing more.
OPEN_PHASES = frozenset({Phase.QUEUED, Phase.RUNNING, Phase.WAITING, Phase.DESTROYING})


class Stage(StrEnum):
    """The published per-stage status values."""

    NOTSTART = "NOTSTART"
    INPROGRESS = "INPROGRESS"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    NONEED = "NONEED"


class JobStatus(StrEnum):
    """One overall status, beyond the published stages."""

    QUEUED = "QUEUED"
    INPROGRESS = "INPROGRESS"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    DESTROYING = "DESTROYING"
    # Something stored of the job (its record, its stack's checkpoint) can't
    # be read: nothing more happens to it until it is deleted.
    DAMAGED = "DAMAGED"


class CertificateStatus(StrEnum):
    """ACM's certificate statuses."""

    PENDING_VALIDATION = "PENDING_VALIDATION"
    ISSUED = "ISSUED"
    INACTIVE = "INACTIVE"
    EXPIRED = "EXPIRED"
    VALIDATION_TIMED_OUT = "VALIDATION_TIMED_OUT"
    REVOKED = "REVOKED"
    FAILED = "FAILED"


CERTIFICATE_FAILURES = frozenset(
    {
        CertificateStatus.VALIDATION_TIMED_OUT,
        CertificateStatus.FAILED,
        CertificateStatus.REVOKED,
        CertificateStatus.EXPIRED,
        CertificateStatus.INACTIVE,
    }
)


class DistributionStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    DEPLOYED = "Deployed"


def certificate_failed(status: str | None) -> bool:
    return status in CERTIFICATE_FAILURES


def item_failed(item: ItemOutputs, errors: Mapping[str, str]) -> bool:
    """Failed itself, or reusing the certificate of an item that failed."""
    return (
        certificate_failed(item.certificate_status)
        or item.key in errors
        or item.certificate_from in errors
    )


def item_ended(item: ItemOutputs, errors: Mapping[str, str], auto_creation: bool) -> bool:
    """An item has ended when it failed, or when its certificate is issued
    and (with auto_creation) its distribution deployed, both as the outputs
    say: a job never ends on outputs that still show a certificate pending.
    One failed item never stops the others."""
    if item_failed(item, errors):
        return True
    issued = item.certificate_status == CertificateStatus.ISSUED
    if auto_creation:
        return (
            issued
            and bool(item.distribution_id)
            and item.distribution_status == DistributionStatus.DEPLOYED
        )
    return issued


def job_ended(
    items: list[ItemOutputs], expected: int, errors: Mapping[str, str], auto_creation: bool
) -> bool:
    """Decided from the outputs of the update that just ran (refreshed when
    news came from AWS), never from an older checkpoint."""
    return len(items) == expected and all(item_ended(i, errors, auto_creation) for i in items)


def awaits_aws(item: ItemOutputs) -> tuple[bool, bool]:
    """Whether the item waits on ACM (validation) and on CloudFront
    (deployment): what the watcher asks AWS about."""
    certificate = bool(item.certificate_arn) and (
        item.certificate_status == CertificateStatus.PENDING_VALIDATION
    )
    distribution = bool(item.distribution_id) and (
        item.distribution_status != DistributionStatus.DEPLOYED
    )
    return certificate, distribution


def retry_delay(poll_seconds: float, failures: int, longest: float = 600.0) -> float:
    """How long to wait before trying a job again after ``failures`` failed
    tries in a row: twice as long each time, up to ``longest``."""
    return float(min(poll_seconds * 2 ** min(failures, 20), longest))
