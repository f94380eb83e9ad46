"""Job records made by hand, as a test needs them: one builder for every
test that stores or reads a job without running it."""

from __future__ import annotations

from typing import Any

from provisioning.jobs.record import JobRecord
from provisioning.service import Service

JOB = "11111111-2222-4333-8444-555555555555"


def job_record(job_id: str = JOB, **changes: Any) -> JobRecord:
    """A create job of one item, not yet run; ``changes`` set any field."""
    made = JobRecord(
        jobId=job_id,
        jobType="create",
        creationDate="2026-11-30T00:00:00+00:00",
        job_input={"acm_op": "create"},
        items=1,
        auto_creation=True,
    )
    return made.model_copy(update=changes)


def stored(
    service: Service, job_id: str = JOB, blobs: dict[str, bytes] | None = None, **changes: Any
) -> JobRecord:
    """``job_record(job_id, **changes)`` created in the service's store, with
    ``blobs`` beside it; returned as the store reads it back."""
    service.store.create(job_record(job_id, **changes), blobs or {})
    found = service.store.get(job_id)
    assert found is not None
    return found
