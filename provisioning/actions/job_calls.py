"""Jobs as callers see them: submit, read, list, preview, destroy.

Submission does only what must happen before the caller gets an id —
validation, template resolution, and storing the job (its inputs, and its
private keys sealed) — and hands the job to the workers; every Pulumi CLI
call happens there, never on the caller's time. Once the id is answered,
the job is durable: any instance can run it.

A job something of which can't be read is shown as DAMAGED, in its record
and in the list, and deleting it removes what can be removed; it never
stops another job or a listing.

A submission with an Idempotency-Key claims the key in the job store before
anything else; a repeat within a day (the same body, byte for byte) answers
the first submission's job without validating or storing anything, even
while that submission is still storing its job, or once the job is deleted.
The same key with another body is a conflict. A refused submission lets the
key go, so it can be fixed and sent again with the same key.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from provisioning.actions import preflight
from provisioning.actions.admission import accept
from provisioning.engine.state import stack_outputs
from provisioning.errors import (
    DamagedJob,
    IdempotencyConflict,
    NamesHeld,
    Problem,
    RequestRejected,
    StaleRecord,
    UnknownJob,
)
from provisioning.events import catalog, outbox
from provisioning.jobs.ids import new_id, valid_id
from provisioning.jobs.published import damaged_status, job_status
from provisioning.jobs.record import JobRecord
from provisioning.jobs.sealed_keys import seal
from provisioning.jobs.states import Phase
from provisioning.jobs.store import INPUTS, SEALED_KEYS, KeyClaim, Listed, change, now, stored
from provisioning.program.inputs import job_inputs, private_keys
from provisioning.request.validation import ValidRequest
from provisioning.service import Service

# Hands a job to the workers.
Launch = Callable[[str], None]
# Records per list_ssl_jobs answer when the caller names no limit.
DEFAULT_PAGE = 1000
CHECKPOINT_READS = 16  # checkpoints read at once for one listing
IDEMPOTENCY_HEADER = "Idempotency-Key"
# At most 255 printable ASCII characters (space to tilde), as Stripe takes.
KEY_PATTERN = r"[ -~]{1,255}"
# How often a repeat looks again while the first submission stores its job.
KEY_POLL_SECONDS = 0.2


def submit(
    service: Service,
    body: bytes,
    launch: Launch,
    idempotency_key: str | None = None,
    clock: Callable[[], float] = time.time,
) -> str:
    """The new job's id; with ``idempotency_key``, that of the job the key's
    first submission made, if it was made within a day."""
    if idempotency_key is not None:
        return submit_once(service, body, launch, idempotency_key, clock)
    job_id = new_id()
    store_job(service, body, job_id)
    launch(job_id)
    return job_id


def submit_once(
    service: Service, body: bytes, launch: Launch, key: str, clock: Callable[[], float]
) -> str:
    if not re.fullmatch(KEY_PATTERN, key):
        message = "1 to 255 printable ASCII characters (space to ~)"
        raise RequestRejected([Problem(IDEMPOTENCY_HEADER, message)])
    claim = KeyClaim(key=digest(key.encode()), body=digest(body), job_id=new_id(), at=clock())
    while (held := service.store.claim_key(claim)) is not None:
        if held.body != claim.body:
            raise IdempotencyConflict()
        if held.done or stored(service.store, held.job_id):
            return held.job_id
        # Its submission is under way: it stores the job, is refused and
        # lets the key go, or dies and lets it lapse.
        time.sleep(KEY_POLL_SECONDS)
        claim = claim.model_copy(update={"at": clock()})
    try:
        store_job(service, body, claim.job_id)
    except BaseException:
        service.store.release_key(claim)
        raise
    service.store.settle_key(claim)
    launch(claim.job_id)
    return claim.job_id


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_job(service: Service, body: bytes, job_id: str) -> None:
    valid, templates = accept(body, service, check=preflight.check)
    accepted_at = datetime.now(UTC)
    pins = {key: template.pin for key, template in templates.items()}
    inputs = job_inputs(valid, pins, service.settings.minimum_protocol_version, accepted_at)
    blobs = {INPUTS: inputs.model_dump_json().encode()}
    keys = private_keys(valid)
    if keys:
        blobs[SEALED_KEYS] = seal(keys, service.settings, service.aws)
    try:
        service.store.create(
            JobRecord(
                jobId=job_id,
                jobType=valid.acm_op,
                creationDate=accepted_at.isoformat(),
                job_input=valid.request.model_dump(mode="json", exclude={"pemList"}),
                items=len(valid.items),
                auto_creation=valid.auto_creation,
            ),
            blobs,
            names_of(valid),
        )
    except NamesHeld as held:
        raise refusal(valid, held.held) from None
    outbox.post(service, [catalog.accepted(job_id, valid.acm_op, len(valid.items))])


def names_of(valid: ValidRequest) -> tuple[str, ...]:
    return tuple(name for item in valid.items for name in item.names)


def refusal(valid: ValidRequest, held: dict[str, str]) -> RequestRejected:
    """Each held name at its place in the request: an alias can be served by
    one distribution only, so the caller must delete the job holding it."""
    problems = []
    for item in valid.items:
        for index, name in enumerate(item.names):
            if name in held:
                where = name_location(item.key, index, item.imported is not None)
                message = f"{name} is held by job {held[name]}; delete that job first"
                problems.append(Problem(where, message))
    return RequestRejected(problems)


def name_location(key: str, index: int, imported: bool) -> str:
    """An imported certificate's names are in its PEM; a requested one's
    first name is its domainName, the others are in its sanList."""
    if imported:
        return f"{key}.CertPem"
    return f"{key}.domainName" if index == 0 else f"{key}.sanList"


def preview(service: Service, body: bytes) -> dict[str, Any]:
    """What a request would create, without creating (or saving) anything;
    a live template shows as version 0. A name another job holds refuses
    the preview as it would the submission."""
    valid, templates = accept(body, service, save=False, check=preflight.check)
    held = service.store.holders(names_of(valid))
    if held:
        raise refusal(valid, held)
    return {
        "jobType": valid.acm_op,
        "items": [
            {
                "key": item.key,
                "names": list(item.names),
                "certificate": "imported" if item.imported else "requested (DNS validation)",
                "distributionFrom": (
                    {
                        "distributionId": templates[item.key].distribution_id,
                        "version": templates[item.key].version,
                    }
                    if item.key in templates
                    else None
                ),
            }
            for item in valid.items
        ],
    }


def status(service: Service, job_id: str) -> dict[str, Any]:
    try:
        found: Listed | None = service.store.get(job_id) if valid_id(job_id) else None
    except DamagedJob as damage:
        found = damage
    if found is None:
        raise UnknownJob(job_id)
    return shown(service, found)


def statuses(
    service: Service, limit: int = DEFAULT_PAGE, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of job records, newest first, and the token for the next."""
    listed, following = service.store.page(limit, after)
    if len(listed) <= 1:
        return [shown(service, found) for found in listed], following
    # Each record needs its checkpoint: read several at once, as from S3
    # one at a time they would cost a round trip each.
    with ThreadPoolExecutor(max_workers=min(len(listed), CHECKPOINT_READS)) as pool:
        return list(pool.map(lambda found: shown(service, found), listed)), following


def shown(service: Service, found: Listed) -> dict[str, Any]:
    """The one place a job's damage becomes its record: whatever of it
    can't be read, the caller gets the job as DAMAGED, and what to do."""
    if isinstance(found, DamagedJob):
        return damaged_status(found, None)
    try:
        return job_status(found, stack_outputs(service.backend, found.jobId))
    except DamagedJob as damage:
        return damaged_status(damage, found)


def request_destroy(service: Service, job_id: str) -> None:
    """Marks the job for destruction, whatever it is doing: a step running
    now sees the mark when its update ends and destroys the job itself;
    otherwise a new step does. A record that can't be read is replaced by
    one that says only that the job is to be destroyed."""

    if not valid_id(job_id):
        raise UnknownJob(job_id)
    while True:
        try:
            if change(service.store, job_id, JobRecord.destroy_requested) is None:
                raise UnknownJob(job_id)
            return
        except DamagedJob as damage:
            try:
                service.store.salvage(stand_in(damage))
                return
            except StaleRecord:
                continue  # readable again, or gone: decide again


def stand_in(damage: DamagedJob) -> JobRecord:
    return JobRecord(
        jobId=damage.job_id,
        jobType="",
        creationDate=damage.created or now(),
        job_input={},
        items=0,
        auto_creation=False,
        phase=Phase.DESTROYING,
        error=f"{damage}; it is being deleted",
    )
