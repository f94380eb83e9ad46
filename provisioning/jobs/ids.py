"""Job ids: the stack names, file names and table keys of jobs. Only our own
format is ever used as one, so a caller's text never becomes a path."""

from __future__ import annotations

import re
import uuid

JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id() -> str:
    return str(uuid.uuid4())


def valid_id(job_id: str) -> bool:
    return bool(JOB_ID.match(job_id))
