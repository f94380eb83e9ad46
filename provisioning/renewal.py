"""Renewing an imported certificate in place: a new certificate, key and
chain for the same names, checked as a submission checks them, re-imported
by the job's next step under the same ACM ARN, so the distribution serving
it is not touched.

The new key travels as a submission's does: sealed in the job store until
the step moves it into the stack's secrets, so a renewal is durable once
answered. The job's inputs are rewritten with the item's new certificate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from provisioning.errors import Problem, RequestRejected
from provisioning.job_ids import valid_id
from provisioning.job_inputs import JobInputs
from provisioning.job_store import INPUTS, SEALED_KEYS, JobRecord, change
from provisioning.jobs import JobConflict, UnknownJob
from provisioning.key_envelope import seal, unseal
from provisioning.lifecycle import Phase
from provisioning.request_model import CertificateFiles, PemItem, validated
from provisioning.request_reading import read_request_json
from provisioning.service import Service
from provisioning.validation import Item, pem_items

FIELD_PREFIX = "certificate."


class UnknownItem(LookupError):
    """The job has no item with this key."""


def renew(
    service: Service, job_id: str, key: str, body: bytes, launch: Callable[[str], None]
) -> dict[str, Any]:
    if not valid_id(job_id):
        raise UnknownJob(job_id)
    record = service.store.get(job_id)
    raw = service.store.get_blob(job_id, INPUTS)
    if record is None or raw is None:
        raise UnknownJob(job_id)
    inputs = JobInputs.model_validate_json(raw)
    item = next((i for i in inputs.items if i.key == key), None)
    if item is None:
        raise UnknownItem(key)
    if item.certificate_pem is None:
        raise RequestRejected(
            [Problem("", f"{key}'s certificate was requested from ACM, which renews it itself")]
        )
    files = checked(body, serves=inputs.auto_creation and item.pin is not None)
    if set(files.names) != set(item.names):
        raise RequestRejected(
            [
                Problem(
                    "CertPem",
                    f"names {', '.join(sorted(files.names))}; the item serves "
                    f"{', '.join(sorted(item.names))}, and a renewal keeps its names",
                )
            ]
        )
    busy(record)
    renewed = item.model_copy(
        update={
            "certificate_pem": files.imported.certificate_pem,
            "chain_pem": files.imported.chain_pem,
        }
    )
    changed = inputs.model_copy(
        update={"items": tuple(renewed if i.key == key else i for i in inputs.items)}
    )
    sealed = service.store.get_blob(job_id, SEALED_KEYS)
    keys = unseal(sealed, service.settings) if sealed else {}
    keys[key] = files.imported.private_key_pem
    service.store.put_blob(job_id, SEALED_KEYS, seal(keys, service.settings))
    service.store.put_blob(job_id, INPUTS, changed.model_dump_json().encode())

    def queued(current: JobRecord) -> JobRecord:
        busy(current)
        return current.model_copy(update={"phase": Phase.QUEUED, "error": None})

    if change(service.store, job_id, queued) is None:
        raise UnknownJob(job_id)
    launch(job_id)
    return {"jobId": job_id, "key": key, "status": "QUEUED"}


def busy(record: JobRecord) -> None:
    if record.phase == Phase.DESTROYING:
        raise JobConflict("the job is being deleted")
    if record.leased():
        raise JobConflict("a step of the job is running; try again once it ends")


def checked(body: bytes, *, serves: bool) -> Item:
    """The new certificate, checked as a pemList item is; refusals point at
    the body's own fields."""
    problems: list[Problem] = []
    files = validated(CertificateFiles, read_request_json(body), ("certificate",), problems)
    found: list[Item] = []
    if files is not None:
        entry = PemItem(
            CertPem=files.CertPem, PrivateKeyPem=files.PrivateKeyPem, ChainPem=files.ChainPem
        )
        found = pem_items([(0, entry)], serves, datetime.now(UTC), problems)
    if problems:
        raise RequestRejected([relocated(p) for p in problems])
    return found[0]


def relocated(problem: Problem) -> Problem:
    where = problem.location
    for prefix in (FIELD_PREFIX, "pemList[0]."):
        where = where.removeprefix(prefix)
    return Problem(where, problem.message)
