"""Where jobs live between steps, shared by every instance: the lifecycle
record and the job's blobs (its inputs, its stack config, keys sealed until
the first step stores them in the stack).

Two implementations: a local directory (one box, the default) and a DynamoDB
table (several instances). Records are only ever changed by a conditional
write against the version read, so two instances never overwrite each
other's change; the loser reads again and decides again.

A record that can't be read raises DamagedJob, which names the job: it is
shown as damaged and can be deleted, and never stops another job. Each
domain name a live job serves is claimed in the store when the job is
created, so two jobs never serve one name. An Idempotency-Key is claimed
the same way, by its submission, so that a repeat within a day answers the
first submission's job instead of making a second.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from provisioning.errors import BadPageToken, DamagedJob, StaleRecord
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import Phase

INPUTS = "inputs"  # JobInputs as JSON
STACK_CONFIG = "stack-config"  # the job's Pulumi.<jobId>.yaml: ciphertext only
SEALED_KEYS = "sealed-keys"  # private keys until the first step moves them into the stack
NAMES = "names"  # the names the job claimed (JSON list), released when it is deleted
EMITTED = "emitted"  # ids of the events posted about the job (JSON list)


def renewal_blob() -> str:
    """A new name for a renewed certificate awaiting the next step (sealed:
    it holds a key). Each renewal has its own, so the step that applied one
    removes exactly that one, never a newer one of the same item."""
    return f"renewal-{uuid.uuid4().hex}"


# Names are claimed just before the job's record is written: a claim whose
# job has no record yet is a submission under way, unless it is older than
# any submission takes.
CLAIM_GRACE_SECONDS = 300.0
# How long an Idempotency-Key answers with its first submission's job.
IDEMPOTENCY_SECONDS = 24 * 3600.0


class KeyClaim(BaseModel):
    """An Idempotency-Key's claim on the job its first submission makes.
    Digests only: the key is the caller's secret, and the body may carry a
    private key. ``done`` once the job is stored: from then on the claim
    answers with the job for the rest of its day, even once the job is
    deleted (the caller then sees it gone)."""

    key: str  # sha256 of the Idempotency-Key, hex
    body: str  # sha256 of the request body, hex
    job_id: str
    at: float  # when it was claimed (epoch seconds)
    done: bool = False


class Delivery(BaseModel):
    """One event on its way to one target (a webhook URL, or ``sns``), kept
    in the store until it is delivered, so deliveries outlive the instance
    that made them. ``order`` sorts a job's events as they happened;
    ``version`` guards each change like a record's."""

    id: str
    job_id: str
    target: str
    body: str  # the event as sent: the exact bytes a webhook's signature covers
    order: str
    attempts: int = 0
    next_attempt: float = 0.0
    last_error: str | None = None
    version: int = 0

    @property
    def queue(self) -> str:
        """Names the target's queue in the store."""
        return queue_of(self.target)


def queue_of(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:32]


# What a listing holds of each job: its record, or why it can't be read.
Listed = JobRecord | DamagedJob


def encode_token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeError):
        raise BadPageToken(token) from None


class JobStore(Protocol):
    def create(
        self, record: JobRecord, blobs: dict[str, bytes], names: tuple[str, ...] = ()
    ) -> None:
        """Stores a new job: its blobs first, then its claims on ``names``,
        then its record, whose presence is what makes the job exist. Raises
        NamesHeld, storing nothing, if another live job holds any of them."""
        ...

    def get(self, job_id: str) -> JobRecord | None:
        """The job's record; None if there is none; DamagedJob if it can't be
        read."""
        ...

    def salvage(self, record: JobRecord) -> JobRecord:
        """Stores ``record`` in place of one that can't be read, so the job
        can be handled (deleted) again; raises StaleRecord if the stored one
        can be read, or is gone."""
        ...

    def holders(self, names: tuple[str, ...]) -> dict[str, str]:
        """The names live jobs hold: name -> job id."""
        ...

    def put(self, record: JobRecord) -> JobRecord:
        """Stores ``record`` if the stored one still has its version; raises
        StaleRecord otherwise. Returns what was stored (the next version)."""
        ...

    def unfinished(self) -> list[str]:
        """Ids of open jobs only, so the watcher's cost doesn't grow with
        finished ones."""
        ...

    def page(self, limit: int, after: str | None) -> tuple[list[Listed], str | None]:
        """Records newest first, ``limit`` at a time; the token continues. A
        record that can't be read is listed as its DamagedJob."""
        ...

    def claim_key(self, claim: KeyClaim) -> KeyClaim | None:
        """Claims ``claim.key`` for its job, or returns the claim that holds
        the key at ``claim.at`` (see ``holds_key``) and writes nothing; of
        two claiming at once, one gets the key."""
        ...

    def settle_key(self, claim: KeyClaim) -> None:
        """Marks ``claim`` done, its job stored, unless it is no longer the
        key's claim."""
        ...

    def release_key(self, claim: KeyClaim) -> None:
        """Frees the key (its submission was refused), unless ``claim`` is no
        longer the key's claim."""
        ...

    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        """Stores each delivery not already stored (by id)."""
        ...

    def deliveries(self, target: str, limit: int) -> list[Delivery]:
        """Undelivered deliveries to ``target``, the oldest events first: a
        target's backlog never hides another target's deliveries."""
        ...

    def put_delivery(self, delivery: Delivery) -> Delivery:
        """Stores ``delivery`` if the stored one still has its version;
        raises StaleRecord otherwise (or when it is gone)."""
        ...

    def drop_delivery(self, delivery: Delivery) -> None:
        """Removes a delivery that is done with."""
        ...

    def get_blob(self, job_id: str, name: str) -> bytes | None: ...

    def put_blob(self, job_id: str, name: str, data: bytes) -> None: ...

    def delete_blob(self, job_id: str, name: str) -> None: ...

    def delete(self, job_id: str) -> None:
        """Removes the record and every blob of the job, and releases the
        names it claimed."""
        ...


def now() -> str:
    return datetime.now(UTC).isoformat()


def change(
    store: JobStore, job_id: str, edit: Callable[[JobRecord], JobRecord | None]
) -> JobRecord | None:
    """Applies ``edit`` to the current record until the write wins. ``edit``
    returns None to change nothing (for example the phase no longer allows
    it); so does a missing record. A record that can't be read raises
    DamagedJob."""
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


def with_names(blobs: dict[str, bytes], names: tuple[str, ...]) -> dict[str, bytes]:
    """The blobs a new job is stored with: its own, and the names it claims,
    which its deletion releases."""
    return {**blobs, NAMES: json.dumps(names).encode()} if names else blobs


def unreadable(error: ValidationError) -> str:
    """Why a stored record doesn't read as one, briefly and without its
    content."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def holds_names(store: JobStore, job_id: str, claimed_at: float) -> bool:
    """Whether the job that claimed names at ``claimed_at`` still holds them:
    a live job (neither failed nor gone), one being submitted, or one whose
    record can't be read, until it is deleted."""
    try:
        record = store.get(job_id)
    except DamagedJob:
        return True
    if record is None:
        return time.time() - claimed_at < CLAIM_GRACE_SECONDS
    return record.phase != Phase.FAILED


def stored(store: JobStore, job_id: str) -> bool:
    """Whether the job has a record, readable or not."""
    try:
        return store.get(job_id) is not None
    except DamagedJob:
        return True


def holds_key(store: JobStore, claim: KeyClaim, now: float) -> bool:
    """Whether ``claim`` holds its key at ``now``: for IDEMPOTENCY_SECONDS
    from its making; while its job is not yet stored, only as long as a
    submission may take, so a submitter that died lets the key go."""
    if now - claim.at >= IDEMPOTENCY_SECONDS:
        return False
    return claim.done or now - claim.at < CLAIM_GRACE_SECONDS or stored(store, claim.job_id)
