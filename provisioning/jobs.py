"""Jobs as callers see them: submit, read, list, preview, destroy.

Submission does only what must happen before the caller gets an id —
validation, template resolution and a lifecycle record — and hands the job
to the workers; every Pulumi CLI call happens there, never on the caller's
time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from provisioning import job_records, stacks
from provisioning.job_records import JobRecord, Phase
from provisioning.job_spec import accept, minimum_protocol_version
from provisioning.state import stack_outputs
from provisioning.status import job_status

# Hands a job to the workers: its id and, for imports, the PEM items (kept in
# memory only until the worker stores them as Pulumi secrets).
Launch = Callable[[str, list[dict[str, Any]] | None], None]


class UnknownJob(LookupError):
    pass


class JobBusy(RuntimeError):
    pass


def configured_minimum() -> str:
    return minimum_protocol_version(os.environ.get("SSL_SAAS_MINIMUM_PROTOCOL_VERSION"))


def submit(body: bytes, launch: Launch) -> str:
    valid, sources = accept(body)
    job_id = str(uuid.uuid4())
    job_records.write(
        JobRecord(
            jobId=job_id,
            jobType=valid.acm_op,
            creationDate=job_records.now(),
            job_input=valid.request.model_dump(mode="json", exclude={"pemList"}),
            items=len(valid.items),
            auto_creation=valid.auto_creation,
            sources=stacks.pins_of(sources),
            minimumProtocolVersion=configured_minimum(),
        )
    )
    launch(job_id, stacks.pems_of(valid) or None)
    return job_id


def preview(body: bytes) -> dict[str, Any]:
    """What a request would create, without creating (or saving) anything;
    a live template shows as version 0."""
    valid, sources = accept(body, save=False)
    pins = stacks.pins_of(sources)
    return {
        "jobType": valid.acm_op,
        "items": [
            {
                "key": item.key,
                "names": list(item.names),
                "certificate": "imported" if item.imported else "requested (DNS validation)",
                "distributionFrom": pins.get(item.key),
            }
            for item in valid.items
        ],
    }


def status(job_id: str) -> dict[str, Any]:
    record = job_records.read(job_id)
    if record is None:
        raise UnknownJob(job_id)
    return job_status(record, stack_outputs(job_id))


def statuses() -> list[dict[str, Any]]:
    found = []
    for job_id in job_records.job_ids():
        record = job_records.read(job_id)
        if record is not None:
            found.append(job_status(record, stack_outputs(job_id)))
    return sorted(found, key=lambda job: job["creationDate"], reverse=True)


def request_destroy(job_id: str, busy: Callable[[str], bool]) -> None:
    """Marks the job for destruction; a worker deletes its resources and its
    stack. Refused while an update of the job runs."""
    if job_records.read(job_id) is None:
        raise UnknownJob(job_id)
    idle: tuple[Phase, ...] = ("queued", "waiting", "done", "failed", "destroying")
    if busy(job_id) or job_records.update(job_id, expect=idle, phase="destroying") is None:
        raise JobBusy(job_id)
