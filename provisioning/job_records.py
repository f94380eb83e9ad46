"""A job's lifecycle beside its stack: what the engine's outputs can't say.

The stack's outputs say what exists; this small file says where the job is
in its life (queued before its stack exists, running, waiting for DNS
validation, failed and why, being destroyed). It is written at submission,
before any slow CLI call, so a job is visible the moment its id is returned.
It never holds key material: private keys only ever live in the stack's
config, encrypted by Pulumi.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from provisioning.state import state_dir

Phase = Literal["queued", "running", "waiting", "done", "failed", "destroying"]
JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class JobRecord(BaseModel):
    jobId: str
    jobType: str
    creationDate: str
    job_input: dict[str, Any]
    items: int  # certificates the job makes (one per request item)
    auto_creation: bool
    sources: dict[str, dict[str, Any]] = {}  # item key -> pinned template version
    minimumProtocolVersion: str
    phase: Phase = "queued"
    error: str | None = None  # why the job failed, in words a caller can act on
    item_errors: dict[str, str] = {}  # item key -> why that item failed
    updated: str = ""


def now() -> str:
    return datetime.now(UTC).isoformat()


def folder() -> Path:
    return state_dir() / "jobs"


def valid_id(job_id: str) -> bool:
    """Job ids become file and stack names; only our own format is accepted."""
    return bool(JOB_ID.match(job_id))


def path(job_id: str) -> Path:
    if not valid_id(job_id):
        raise ValueError("not a job id")
    return folder() / f"{job_id}.json"


def write(record: JobRecord) -> None:
    """Atomic, so a reader never sees half a record."""
    target = path(record.jobId)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = record.model_copy(update={"updated": now()})
    with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(record.model_dump_json())
    os.replace(tmp.name, target)


def read(job_id: str) -> JobRecord | None:
    if not valid_id(job_id):
        return None
    try:
        return JobRecord.model_validate_json(path(job_id).read_bytes())
    except FileNotFoundError:
        return None


@contextmanager
def locked(job_id: str) -> Iterator[None]:
    """Serialises changes to one record across the server's threads and the
    worker processes."""
    lock_file = path(job_id).with_suffix(".lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def update(job_id: str, expect: tuple[Phase, ...] = (), **changes: Any) -> JobRecord | None:
    """Changes a record, only while its phase is one of ``expect`` (any if
    empty): a step never overwrites a deletion asked for meanwhile. Returns
    None when nothing was changed."""
    with locked(job_id):
        record = read(job_id)
        if record is None or (expect and record.phase not in expect):
            return None
        record = record.model_copy(update=changes)
        write(record)
        return record


def job_ids() -> list[str]:
    if not folder().is_dir():
        return []
    return sorted(p.stem for p in folder().glob("*.json") if valid_id(p.stem))


def remove(job_id: str) -> None:
    path(job_id).unlink(missing_ok=True)
    path(job_id).with_suffix(".lock").unlink(missing_ok=True)
