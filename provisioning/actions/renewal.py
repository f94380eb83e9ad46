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

from provisioning.engine import stacks
from provisioning.errors import (
    JobConflict,
    Problem,
    RequestRejected,
    UnknownItem,
    UnknownJob,
)
from provisioning.jobs.ids import valid_id
from provisioning.jobs.record import JobRecord
from provisioning.jobs.sealed_keys import seal, unseal
from provisioning.jobs.states import Phase
from provisioning.jobs.store import INPUTS, change, renewal_blob
from provisioning.program.inputs import JobInputs
from provisioning.request.contract import CertificateFiles, PemItem, validated
from provisioning.request.reading import read_request_json
from provisioning.request.validation import Item, pem_items
from provisioning.service import Service


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
        raise UnknownItem(key, job_id)
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
    sealed = seal({key: SecretStr(json.dumps(renewal))}, service.settings, service.aws)
    blob = renewal_blob()
    service.store.put_blob(job_id, blob, sealed)
    replaced: list[str] = []

    def listed(current: JobRecord) -> JobRecord:
        if current.phase == Phase.DESTROYING:
            raise JobConflict("the job is being deleted")
        earlier = current.renewals.get(key)
        # Not this renewal's own blob: a write that landed unanswered is tried again.
        replaced[:] = [earlier] if earlier is not None and earlier != blob else []
        return current.renewal_queued(key, blob)

    try:
        if change(service.store, job_id, listed) is None:
            raise UnknownJob(job_id)
    except BaseException:
        service.store.delete_blob(job_id, blob)
        raise
    for older in replaced:  # never applied; a step that read it applies this one next
        service.store.delete_blob(job_id, older)
    launch(job_id)
    return {"jobId": job_id, "key": key, "status": "QUEUED"}


def apply(service: Service, ws: auto.LocalWorkspace, record: JobRecord) -> dict[str, str]:
    """Run by a step under the job's lease: the inputs take the new
    certificates, the stack's secrets the new keys. Returns what it is done
    with (item key -> blob), which the step's release removes: what it
    applied, and any named blob already gone (replaced by a newer renewal,
    which the record then names instead, so nothing newer is dropped)."""
    job_id = record.jobId
    renewed, done = {}, {}
    for key, blob in record.renewals.items():
        sealed = service.store.get_blob(job_id, blob)
        if sealed is not None:
            renewed[key] = json.loads(
                unseal(sealed, service.settings, service.aws)[key].get_secret_value()
            )
        done[key] = blob
    if not renewed:
        return done
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
    return done


def checked(body: bytes, *, serves: bool) -> Item:
    """The new certificate, checked as a pemList item is; refusals point at
    the body's own fields."""
    data = read_request_json(body)
    if not isinstance(data, dict):
        raise RequestRejected(
            [Problem("", "the body must be a JSON object with CertPem, PrivateKeyPem and ChainPem")]
        )
    problems: list[Problem] = []
    files = validated(CertificateFiles, data, ("certificate",), problems)
    if files is None:
        raise RequestRejected([relocated(p, "certificate") for p in problems])
    entry = PemItem(
        CertPem=files.CertPem, PrivateKeyPem=files.PrivateKeyPem, ChainPem=files.ChainPem
    )
    found = pem_items([(0, entry)], serves, datetime.now(UTC), problems)
    if problems:
        raise RequestRejected([relocated(p, "pemList[0]") for p in problems])
    return found[0]


def relocated(problem: Problem, prefix: str) -> Problem:
    """A problem at the body's own field, not where a request would hold it."""
    where = problem.location
    if where == prefix or where.startswith(f"{prefix}."):
        where = where[len(prefix) + 1 :]
    return Problem(where, problem.message)
