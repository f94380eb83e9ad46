"""Where jobs live between steps, shared by every instance: the lifecycle
record and the job's blobs (its inputs, its stack config, keys sealed until
the first step stores them in the stack).

Two implementations: a local directory (one box, the default) and a DynamoDB
table (several instances). Records are only ever changed by a conditional
write against the version read, so two instances never overwrite each
other's change; the loser reads again and decides again.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel

from provisioning.lifecycle import OPEN_PHASES, Phase
from provisioning.settings import Settings

INPUTS = "inputs"  # JobInputs as JSON
STACK_CONFIG = "stack-config"  # the job's Pulumi.<jobId>.yaml: ciphertext only
SEALED_KEYS = "sealed-keys"  # private keys until the first step moves them into the stack


class Lease(BaseModel):
    """A step's claim on a job: who holds it and until when (epoch seconds).
    Its holder renews it while the step runs; once it lapses, any instance
    may take the job over."""

    owner: str
    expires: float

    def held(self, now: float | None = None) -> bool:
        return self.expires > (time.time() if now is None else now)


class JobRecord(BaseModel):
    jobId: str
    jobType: str
    creationDate: str
    job_input: dict[str, Any]
    items: int  # certificates the job makes (one per request item)
    auto_creation: bool
    phase: Phase = Phase.QUEUED
    error: str | None = None  # why the job failed, in words a caller can act on
    item_errors: dict[str, str] = {}  # item key -> why that item failed
    lease: Lease | None = None
    # A step began and has not ended cleanly: the next one looks for
    # resources the interrupted one may have made.
    interrupted: bool = False
    # News from AWS: the next update re-reads certificates and distributions.
    refresh: bool = False
    version: int = 0
    updated: str = ""

    @property
    def open(self) -> bool:
        return self.phase in OPEN_PHASES

    def leased(self) -> bool:
        return self.lease is not None and self.lease.held()


class StaleRecord(Exception):
    """The record changed since it was read."""


class BadPageToken(ValueError):
    """A paging token this store did not hand out."""


def encode_token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError):
        raise BadPageToken(token) from None


class JobStore(Protocol):
    def create(self, record: JobRecord, blobs: dict[str, bytes]) -> None:
        """Stores a new job: its blobs first, then its record, whose presence
        is what makes the job exist."""
        ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def put(self, record: JobRecord) -> JobRecord:
        """Stores ``record`` if the stored one still has its version; raises
        StaleRecord otherwise. Returns what was stored (the next version)."""
        ...

    def unfinished(self) -> list[str]:
        """Ids of open jobs only, so the watcher's cost doesn't grow with
        finished ones."""
        ...

    def page(self, limit: int, after: str | None) -> tuple[list[JobRecord], str | None]:
        """Records newest first, ``limit`` at a time; the token continues."""
        ...

    def get_blob(self, job_id: str, name: str) -> bytes | None: ...

    def put_blob(self, job_id: str, name: str, data: bytes) -> None: ...

    def delete_blob(self, job_id: str, name: str) -> None: ...

    def delete(self, job_id: str) -> None:
        """Removes the record and every blob of the job."""
        ...


def now() -> str:
    return datetime.now(UTC).isoformat()


def stamped(record: JobRecord) -> JobRecord:
    return record.model_copy(update={"version": record.version + 1, "updated": now()})


def change(
    store: JobStore, job_id: str, edit: Callable[[JobRecord], JobRecord | None]
) -> JobRecord | None:
    """Applies ``edit`` to the current record until the write wins. ``edit``
    returns None to change nothing (for example the phase no longer allows
    it); so does a missing record."""
    while True:
        record = store.get(job_id)
        if record is None:
            return None
        edited = edit(record)
        if edited is None:
            return None
        try:
            return store.put(edited)
        except StaleRecord:
            continue


def open_job_store(settings: Settings) -> JobStore:
    if settings.job_store.startswith("dynamodb://"):
        from provisioning.dynamodb_job_store import DynamoDBJobStore

        return DynamoDBJobStore(settings.job_store.removeprefix("dynamodb://"))
    from provisioning.local_job_store import LocalJobStore

    return LocalJobStore(settings.root / "jobs")
