"""Renewing an imported certificate in place: a new certificate, key and
chain for the same names, checked as a submission checks them, re-imported
by the job's next step under the same ACM ARN, so the distribution serving
it is not touched.

A renewal is kept in the job store, sealed (it holds a key), until a step
applies it under the job's lease: the step rewrites the job's inputs with
the item's new certificate and moves the key into the stack's secrets, then
updates. A renewal is durable once answered, and never half-applied: a step
that dies applying it leaves it for the next, which applies it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pulumi import automation as auto
from pydantic import SecretStr

from provisioning import stacks
from provisioning.errors import Problem, RequestRejected
from provisioning.job_ids import valid_id
from provisioning.job_inputs import JobInputs
from provisioning.job_store import INPUTS, RENEWALS, JobRecord, change
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
    """Checks the renewal and keeps it for the job's next step; a step
    running now takes it up when its update ends."""
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
    if record.phase == Phase.DESTROYING:
        raise JobConflict("the job is being deleted")
    imported = files.imported
    assert imported is not None  # a pemList item's
    renewal = {
        "certificate_pem": imported.certificate_pem,
        "chain_pem": imported.chain_pem,
        "private_key_pem": imported.private_key_pem.get_secret_value(),
    }
    waiting = pending(service, job_id)
    waiting[key] = SecretStr(json.dumps(renewal))
    service.store.put_blob(job_id, RENEWALS, seal(waiting, service.settings))

    def queued(current: JobRecord) -> JobRecord | None:
        if current.phase == Phase.DESTROYING:
            raise JobConflict("the job is being deleted")
        if current.leased():
            return None  # the running step sees the renewal when its update ends
        return current.model_copy(update={"phase": Phase.QUEUED, "error": None})

    change(service.store, job_id, queued)
    launch(job_id)
    return {"jobId": job_id, "key": key, "status": "QUEUED"}


def pending(service: Service, job_id: str) -> dict[str, SecretStr]:
    """Renewals not yet applied, by item key (each a JSON document)."""
    sealed = service.store.get_blob(job_id, RENEWALS)
    return unseal(sealed, service.settings) if sealed else {}


def apply(service: Service, ws: auto.LocalWorkspace, job_id: str) -> None:
    """Run by a step under the job's lease: the inputs take the new
    certificates, the stack's secrets the new keys; then the renewals go."""
    sealed = service.store.get_blob(job_id, RENEWALS)
    if sealed is None:
        return
    waiting = unseal(sealed, service.settings)
    renewed = {key: json.loads(value.get_secret_value()) for key, value in waiting.items()}
    raw = service.store.get_blob(job_id, INPUTS)
    assert raw is not None, "a job with a stack has inputs"
    inputs = JobInputs.model_validate_json(raw)
    items = tuple(
        item.model_copy(
            update={
                "certificate_pem": renewed[item.key]["certificate_pem"],
                "chain_pem": renewed[item.key]["chain_pem"],
            }
        )
        if item.key in renewed
        else item
        for item in inputs.items
    )
    changed = inputs.model_copy(update={"items": items})
    service.store.put_blob(job_id, INPUTS, changed.model_dump_json().encode())
    keys = stacks.stored_keys(ws, job_id)
    keys |= {key: SecretStr(found["private_key_pem"]) for key, found in renewed.items()}
    stacks.store_keys(ws, service.store, job_id, keys)
    # One that came meanwhile stays, and brings another step (see step.work).
    if service.store.get_blob(job_id, RENEWALS) == sealed:
        service.store.delete_blob(job_id, RENEWALS)


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
