"""The job store in a local directory: one box, the default.

``<root>/<jobId>/record.json`` and one file per blob; ``<root>/.open/<jobId>``
marks the open jobs, so the watcher lists only those. Writes are atomic
(written aside, then renamed) and a record's conditional write holds an
exclusive lock on the job's folder, so the server's threads and the step
processes never lose each other's changes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from provisioning.job_ids import valid_id
from provisioning.job_store import (
    BadPageToken,
    JobRecord,
    StaleRecord,
    decode_token,
    encode_token,
    stamped,
)

RECORD = "record.json"


class LocalJobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.open_marks = root / ".open"

    def folder(self, job_id: str) -> Path:
        if not valid_id(job_id):
            raise ValueError("not a job id")
        return self.root / job_id

    def create(self, record: JobRecord, blobs: dict[str, bytes]) -> None:
        folder = self.folder(record.jobId)
        folder.mkdir(parents=True)
        for name, data in blobs.items():
            self.put_blob(record.jobId, name, data)
        with self.locked(record.jobId):
            self.write(stamped(record))

    def get(self, job_id: str) -> JobRecord | None:
        if not valid_id(job_id):
            return None
        try:
            return JobRecord.model_validate_json((self.folder(job_id) / RECORD).read_bytes())
        except FileNotFoundError:
            return None

    def put(self, record: JobRecord) -> JobRecord:
        with self.locked(record.jobId):
            stored = self.get(record.jobId)
            if stored is None or stored.version != record.version:
                raise StaleRecord(record.jobId)
            written = stamped(record)
            self.write(written)
            return written

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
        descriptor = os.open(self.folder(job_id), os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def unfinished(self) -> list[str]:
        if not self.open_marks.is_dir():
            return []
        return sorted(p.name for p in self.open_marks.iterdir() if valid_id(p.name))

    def page(self, limit: int, after: str | None) -> tuple[list[JobRecord], str | None]:
        records = [
            record
            for entry in (os.scandir(self.root) if self.root.is_dir() else [])
            if valid_id(entry.name) and (record := self.get(entry.name)) is not None
        ]
        records.sort(key=lambda r: (r.creationDate, r.jobId), reverse=True)
        if after is not None:
            cursor = decode_token(after)
            if not (isinstance(cursor, list) and all(isinstance(c, str) for c in cursor)):
                raise BadPageToken(after)
            records = [r for r in records if [r.creationDate, r.jobId] < cursor]
        chosen = records[:limit]
        if len(records) <= limit or not chosen:
            return chosen, None
        return chosen, encode_token([chosen[-1].creationDate, chosen[-1].jobId])

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
        (self.open_marks / job_id).unlink(missing_ok=True)
        shutil.rmtree(self.folder(job_id), ignore_errors=True)


def atomic_write(target: Path, data: bytes) -> None:
    """Written aside, then renamed: a reader never sees half a file."""
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(data)
    os.replace(tmp.name, target)
