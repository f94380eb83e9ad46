"""Jobs as callers see them: submit, read, list, preview, destroy.

Submission does only what must happen before the caller gets an id —
validation, template resolution, and storing the job (its inputs, and its
private keys sealed) — and hands the job to the workers; every Pulumi CLI
call happens there, never on the caller's time. Once the id is answered,
the job is durable: any instance can run it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from provisioning.backend import stack_outputs
from provisioning.job_ids import new_id, valid_id
from provisioning.job_inputs import job_inputs, private_keys
from provisioning.job_spec import accept
from provisioning.job_store import INPUTS, SEALED_KEYS, JobRecord, change
from provisioning.key_envelope import seal
from provisioning.lifecycle import Phase
from provisioning.service import Service
from provisioning.status import job_status

# Hands a job to the workers.
Launch = Callable[[str], None]
# Records per list_ssl_jobs answer when the caller names no limit.
DEFAULT_PAGE = 1000


class UnknownJob(LookupError):
    pass


def submit(service: Service, body: bytes, launch: Launch) -> str:
    valid, sources = accept(body, service.settings)
    accepted_at = datetime.now(UTC)
    pins = {key: source.pin for key, source in sources.items()}
    inputs = job_inputs(valid, pins, service.settings.minimum_protocol_version, accepted_at)
    blobs = {INPUTS: inputs.model_dump_json().encode()}
    keys = private_keys(valid)
    if keys:
        blobs[SEALED_KEYS] = seal(keys, service.settings)
    job_id = new_id()
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
    )
    launch(job_id)
    return job_id


def preview(service: Service, body: bytes) -> dict[str, Any]:
    """What a request would create, without creating (or saving) anything;
    a live template shows as version 0."""
    valid, sources = accept(body, service.settings, save=False)
    return {
        "jobType": valid.acm_op,
        "items": [
            {
                "key": item.key,
                "names": list(item.names),
                "certificate": "imported" if item.imported else "requested (DNS validation)",
                "distributionFrom": (
                    {
                        "distributionId": sources[item.key].distribution_id,
                        "version": sources[item.key].version,
                    }
                    if item.key in sources
                    else None
                ),
            }
            for item in valid.items
        ],
    }


def status(service: Service, job_id: str) -> dict[str, Any]:
    record = service.store.get(job_id) if valid_id(job_id) else None
    if record is None:
        raise UnknownJob(job_id)
    return job_status(record, stack_outputs(service.backend, job_id))


def statuses(
    service: Service, limit: int = DEFAULT_PAGE, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of job records, newest first, and the token for the next."""
    records, following = service.store.page(limit, after)
    found = [job_status(r, stack_outputs(service.backend, r.jobId)) for r in records]
    return found, following


def request_destroy(service: Service, job_id: str) -> None:
    """Marks the job for destruction, whatever it is doing: a step running
    now sees the mark when its update ends and destroys the job itself;
    otherwise a new step does."""

    def mark(record: JobRecord) -> JobRecord:
        return record.model_copy(update={"phase": Phase.DESTROYING})

    if not valid_id(job_id) or change(service.store, job_id, mark) is None:
        raise UnknownJob(job_id)
