"""The job store in a local directory: one box, the default.

``<root>/<jobId>/record.json`` and one file per blob; ``<root>/.open/<jobId>``
marks the open jobs, so the watcher lists only those; ``<root>/.names/<name>``
is a job's claim on a name, ``<root>/.keys/<sha256>`` an Idempotency-Key's
claim on a job, ``<root>/.outbox/<queue>/<id>.json`` an event's delivery
(a queue per target). Writes
are atomic (written aside, then renamed) and a record's conditional write
holds an exclusive lock on the job's folder, claims and deliveries one on
their folder (``.names``, ``.keys``, ``.outbox``), so the server's
threads and the step processes never lose each other's changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from provisioning.errors import BadPageToken, DamagedJob, NamesHeld, StaleRecord
from provisioning.jobs.ids import valid_id
from provisioning.jobs.record import JobRecord
from provisioning.jobs.store import (
    NAMES,
    Delivery,
    KeyClaim,
    Listed,
    decode_token,
    encode_token,
    holds_key,
    holds_names,
    now,
    queue_of,
    unreadable,
    with_names,
)

RECORD = "record.json"
DIGEST = re.compile(r"[0-9a-f]{64}")


class LocalJobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.open_marks = root / ".open"
        self.claims = root / ".names"
        self.key_claims = root / ".keys"
        self.outbox = root / ".outbox"

    def folder(self, job_id: str) -> Path:
        if not valid_id(job_id):
            raise ValueError("not a job id")
        return self.root / job_id

    def create(
        self, record: JobRecord, blobs: dict[str, bytes], names: tuple[str, ...] = ()
    ) -> None:
        folder = self.folder(record.jobId)
        folder.mkdir(parents=True)
        for name, data in with_names(blobs, names).items():
            self.put_blob(record.jobId, name, data)
        try:
            self.claim(record.jobId, names)
        except NamesHeld:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        with self.locked(record.jobId):
            self.write(record.stamped(now()))

    def get(self, job_id: str) -> JobRecord | None:
        if not valid_id(job_id):
            return None
        try:
            raw = (self.folder(job_id) / RECORD).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise DamagedJob(job_id, "record", f"{RECORD}: {error.strerror}") from None
        try:
            return JobRecord.model_validate_json(raw)
        except ValidationError as error:
            raise DamagedJob(job_id, "record", f"{RECORD}: {unreadable(error)}") from None

    def put(self, record: JobRecord) -> JobRecord:
        with self.locked(record.jobId):
            stored = self.get(record.jobId)
            if stored is None or stored.version != record.version:
                raise StaleRecord(record.jobId)
            written = record.stamped(now())
            self.write(written)
            return written

    def salvage(self, record: JobRecord) -> JobRecord:
        try:
            with self.locked(record.jobId):
                try:
                    self.get(record.jobId)
                except DamagedJob:
                    written = record.stamped(now())
                    self.write(written)
                    return written
        except FileNotFoundError:
            pass  # deleted meanwhile
        raise StaleRecord(record.jobId)

    def write(self, record: JobRecord) -> None:
        atomic_write(self.folder(record.jobId) / RECORD, record.model_dump_json().encode())
        mark = self.open_marks / record.jobId
        if record.open:
            self.open_marks.mkdir(parents=True, exist_ok=True)
            mark.touch()
        else:
            mark.unlink(missing_ok=True)

    @contextmanager
    def locked(self, job_id: str) -> Iterator[None]:
        with exclusive(self.folder(job_id)):
            yield

    def unfinished(self) -> list[str]:
        if not self.open_marks.is_dir():
            return []
        return sorted(p.name for p in self.open_marks.iterdir() if valid_id(p.name))

    def page(self, limit: int, after: str | None) -> tuple[list[Listed], str | None]:
        found: list[Listed] = []
        for entry in os.scandir(self.root) if self.root.is_dir() else []:
            if not valid_id(entry.name):
                continue
            try:
                record = self.get(entry.name)
            except DamagedJob as damage:
                found.append(damage)
                continue
            if record is not None:
                found.append(record)
        found.sort(key=listing_key, reverse=True)
        if after is not None:
            cursor = decode_token(after)
            if not (isinstance(cursor, list) and all(isinstance(c, str) for c in cursor)):
                raise BadPageToken(after)
            found = [f for f in found if list(listing_key(f)) < cursor]
        chosen = found[:limit]
        if len(found) <= limit or not chosen:
            return chosen, None
        return chosen, encode_token(list(listing_key(chosen[-1])))

    def holders(self, names: tuple[str, ...]) -> dict[str, str]:
        return {name: holder for name in names if (holder := self.holder(name, None))}

    def holder(self, name: str, claimant: str | None) -> str | None:
        """The live job other than ``claimant`` that holds ``name``, if any."""
        found = self.claim_of(name)
        if found is None or found[0] == claimant or not holds_names(self, *found):
            return None
        return found[0]

    def claim_of(self, name: str) -> tuple[str, float] | None:
        """Who claimed ``name`` and when; a claim that can't be read holds
        nothing, and is written over by the next."""
        try:
            claim = json.loads(self.claim_path(name).read_bytes())
            return str(claim["job"]), float(claim["at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def claim_path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError("not a domain name")
        return self.claims / name

    def claim(self, job_id: str, names: tuple[str, ...]) -> None:
        if not names:
            return
        self.claims.mkdir(parents=True, exist_ok=True)
        with exclusive(self.claims):
            held = {name: holder for name in names if (holder := self.holder(name, job_id))}
            if held:
                raise NamesHeld(held)
            claim = json.dumps({"job": job_id, "at": time.time()}).encode()
            for name in names:
                atomic_write(self.claim_path(name), claim)

    def release(self, job_id: str) -> None:
        """Removes the job's claims; with its list of names unreadable, they
        lapse instead, once the job is gone (see ``holds_names``)."""
        try:
            names = json.loads(self.get_blob(job_id, NAMES) or b"[]")
        except (OSError, ValueError):
            return
        if not self.claims.is_dir() or not isinstance(names, list):
            return
        with exclusive(self.claims):
            for name in names:
                found = self.claim_of(str(name))
                if found is not None and found[0] == job_id:
                    self.claim_path(str(name)).unlink(missing_ok=True)

    def claim_key(self, claim: KeyClaim) -> KeyClaim | None:
        self.key_claims.mkdir(parents=True, exist_ok=True)
        with exclusive(self.key_claims):
            found = self.key_claim(claim.key)
            if found is not None and holds_key(self, found, claim.at):
                return found
            atomic_write(self.key_path(claim.key), claim.model_dump_json().encode())
            return None

    def settle_key(self, claim: KeyClaim) -> None:
        with exclusive(self.key_claims):
            if self.key_claim(claim.key) == claim:
                done = claim.model_copy(update={"done": True})
                atomic_write(self.key_path(claim.key), done.model_dump_json().encode())

    def release_key(self, claim: KeyClaim) -> None:
        with exclusive(self.key_claims):
            if self.key_claim(claim.key) == claim:
                self.key_path(claim.key).unlink()

    def key_claim(self, key: str) -> KeyClaim | None:
        """A claim that can't be read holds nothing, and is written over by
        the next."""
        try:
            return KeyClaim.model_validate_json(self.key_path(key).read_bytes())
        except (OSError, ValidationError):
            return None

    def key_path(self, key: str) -> Path:
        if not DIGEST.fullmatch(key):
            raise ValueError("not a key digest")
        return self.key_claims / key

    def add_deliveries(self, deliveries: list[Delivery]) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        with exclusive(self.outbox):
            for delivery in deliveries:
                path = self.delivery_path(delivery)
                if not path.exists():
                    path.parent.mkdir(exist_ok=True)
                    atomic_write(path, delivery.model_dump_json().encode())

    def deliveries(self, target: str, limit: int) -> list[Delivery]:
        queue = self.outbox / queue_of(target)
        found = []
        for path in queue.glob("*.json") if queue.is_dir() else []:
            try:
                found.append(Delivery.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError):
                continue  # removed meanwhile; a torn one can't be: writes are atomic
        return sorted(found, key=lambda d: d.order)[:limit]

    def put_delivery(self, delivery: Delivery) -> Delivery:
        path = self.delivery_path(delivery)
        with exclusive(self.outbox):
            try:
                stored = Delivery.model_validate_json(path.read_bytes())
            except FileNotFoundError:
                raise StaleRecord(delivery.id) from None
            if stored.version != delivery.version:
                raise StaleRecord(delivery.id)
            written = delivery.model_copy(update={"version": delivery.version + 1})
            atomic_write(path, written.model_dump_json().encode())
            return written

    def drop_delivery(self, delivery: Delivery) -> None:
        with exclusive(self.outbox):
            self.delivery_path(delivery).unlink(missing_ok=True)

    def delivery_path(self, delivery: Delivery) -> Path:
        if not DIGEST.fullmatch(delivery.id):
            raise ValueError("not a delivery id")
        return self.outbox / delivery.queue / f"{delivery.id}.json"

    def get_blob(self, job_id: str, name: str) -> bytes | None:
        try:
            return (self.folder(job_id) / f"{name}.blob").read_bytes()
        except FileNotFoundError:
            return None

    def put_blob(self, job_id: str, name: str, data: bytes) -> None:
        atomic_write(self.folder(job_id) / f"{name}.blob", data)

    def delete_blob(self, job_id: str, name: str) -> None:
        (self.folder(job_id) / f"{name}.blob").unlink(missing_ok=True)

    def delete(self, job_id: str) -> None:
        self.release(job_id)
        (self.open_marks / job_id).unlink(missing_ok=True)
        shutil.rmtree(self.folder(job_id), ignore_errors=True)


def listing_key(found: Listed) -> tuple[str, str]:
    """Newest first by creation date; a job whose record can't be read has
    none, and comes last."""
    if isinstance(found, DamagedJob):
        return found.created, found.job_id
    return found.creationDate, found.jobId


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def atomic_write(target: Path, data: bytes) -> None:
    """Written aside, then renamed: a reader never sees half a file."""
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(data)
    os.replace(tmp.name, target)
