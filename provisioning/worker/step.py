"""One step of one job, in a process of its own:
``python -m provisioning.worker.step JOBID``.

A step first claims the job's lease in the job store and renews it while it
works; a step that can't claim it exits at once (another holds the job), and
one that can no longer renew it stops, engine and all, before the lease
lapses, so no two steps of a job ever run at once, on any instance. A step
is one process so that a crash or a kill takes down one step of one job and
nothing else; whatever goes wrong otherwise is recorded on the job.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pulumi import automation as auto

from provisioning import aws_clients
from provisioning.actions import renewal
from provisioning.engine import adoption, stacks
from provisioning.engine.issued import describe_issued_items
from provisioning.engine.state import clear_locks, purge, stack_outputs, stack_resources
from provisioning.errors import DamagedJob, RequestRejected
from provisioning.events import catalog, outbox
from provisioning.jobs.record import JobRecord
from provisioning.jobs.sealed_keys import unseal
from provisioning.jobs.states import (
    CertificateStatus,
    Phase,
    certificate_failed,
    job_ended,
)
from provisioning.jobs.store import INPUTS, SEALED_KEYS, STACK_CONFIG, change
from provisioning.program.inputs import JobInputs
from provisioning.program.outputs import items_of
from provisioning.program.spec import JobSpec
from provisioning.service import Service
from provisioning.settings import load
from provisioning.templates.pinning import load_templates

log = logging.getLogger("provisioning.worker.step")

# How a step ended, as one of the record's outcome transitions; applied to
# the record current when the step releases the job, not the one it claimed.
Outcome = Callable[[JobRecord], JobRecord]


def engine_error(error: auto.CommandError) -> str:
    """The engine's own error lines, not the whole CLI transcript."""
    lines = [line.strip() for line in str(error).splitlines() if "error:" in line]
    return "; ".join(dict.fromkeys(lines)) or "the update failed"


def claim(service: Service, job_id: str, owner: str) -> JobRecord | None:
    """Takes the job's lease unless a live holder has it. A lease found
    lapsed, or a step marked begun and never ended, means the last step
    died: ``interrupted`` stays set for this one to clean up after it."""
    ttl = service.settings.lease_seconds

    def take(record: JobRecord) -> JobRecord | None:
        if record.leased() or not record.open:
            return None
        return record.claimed(owner, time.time() + ttl)

    return change(service.store, job_id, take)


class Renewal:
    """Renews the lease every third of its term; if a renewal is refused
    (another took the job) or none has succeeded for two thirds of the term,
    calls ``on_lost`` so the step stops before anyone else may start."""

    def __init__(self, service: Service, job_id: str, owner: str, on_lost: Callable[[], None]):
        self.service, self.job_id, self.owner, self.on_lost = service, job_id, owner, on_lost
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.watchdog: threading.Timer | None = None

    def __enter__(self) -> Renewal:
        self.arm()
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.thread.join()

    def arm(self) -> None:
        """Two thirds of the term from the last renewal that succeeded, the
        step stops, even while a renewal call still hangs (each may take
        half a minute of retries)."""
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.watchdog = threading.Timer(self.service.settings.lease_seconds * 2 / 3, self.lapsed)
        self.watchdog.daemon = True
        self.watchdog.start()

    def lapsed(self) -> None:
        if not self.done.is_set():
            log.error("job %s: lease not renewed in time; stopping this step", self.job_id)
            self.on_lost()

    def run(self) -> None:
        ttl = self.service.settings.lease_seconds
        renewed = time.time()
        while not self.done.wait(ttl / 3):
            try:
                kept = change(self.service.store, self.job_id, self.extend)
            except Exception:  # AWS unreachable: try again until the term runs short
                log.warning("job %s: lease renewal failed", self.job_id, exc_info=True)
                kept = None if time.time() - renewed > ttl * 2 / 3 else True
            if kept is None:
                log.error("job %s: lease lost; stopping this step", self.job_id)
                self.on_lost()
                return
            if isinstance(kept, JobRecord):
                renewed = time.time()
                self.arm()

    def extend(self, record: JobRecord) -> JobRecord | None:
        if record.lease is None or record.lease.owner != self.owner:
            return None
        return record.lease_renewed(time.time() + self.service.settings.lease_seconds)


def release(
    service: Service,
    job_id: str,
    owner: str,
    outcome: Outcome,
    applied: Mapping[str, str] | None = None,
) -> JobRecord | None:
    """Ends the step: records its ``outcome`` and gives up the lease, only
    while this step still holds it (see ``JobRecord.released``). The
    renewals the step ``applied`` are done with, their blobs removed."""
    done = applied or {}

    def finish(record: JobRecord) -> JobRecord | None:
        if record.lease is None or record.lease.owner != owner:
            return None
        return outcome(record).released(done)

    released = change(service.store, job_id, finish)
    if released is not None:
        for blob in done.values():
            service.store.delete_blob(job_id, blob)
    return released


def retry_later(service: Service, record: JobRecord, owner: str, reason: str) -> None:
    """AWS out of reach is no reason to fail a job: the step says why on the
    job and gives it back, to be tried again after a growing wait."""
    log.warning("job %s: step stopped, to be tried again: %s", record.jobId, reason)
    poll = service.settings.poll_seconds
    release(service, record.jobId, owner, lambda r: r.deferred(reason, time.time(), poll))


def run_step(service: Service, job_id: str, on_lost: Callable[[], None]) -> None:
    owner = f"{service.settings.instance}:step"
    record = claim(service, job_id, owner)
    if record is None:
        return
    log.info("step begins: job %s by %s", job_id, owner)
    try:
        with Renewal(service, job_id, owner, on_lost):
            finished = work(service, record)
        if finished is not None:
            outcome, applied = finished
            release(service, job_id, owner, outcome, applied)
    except auto.ConcurrentUpdateError:
        # Someone outside the service updates the stack: not a dead step of
        # ours (whose lock a takeover would clear), so waited for.
        retry_later(service, record, owner, "another update of the stack is running")
    except auto.CommandError as error:
        action = "destroy" if record.phase == Phase.DESTROYING else "update"
        failure = f"{action} failed: {engine_error(error)}"
        release(service, job_id, owner, lambda r: r.failed(failure))
    except RequestRejected as rejected:
        reasons = "; ".join(str(p) for p in rejected.problems)
        refused = f"the job was refused: {reasons}"
        release(service, job_id, owner, lambda r: r.failed(refused))
    except Exception as error:
        trouble = aws_clients.failure(error)
        if trouble is not None and trouble.transient:
            retry_later(service, record, owner, str(trouble))
        else:
            log.exception("job %s: step failed", job_id)
            internal = f"internal error ({type(error).__name__}); see the service log"
            release(service, job_id, owner, lambda r: r.failed(internal))
    log.info("step ends: job %s by %s", job_id, owner)
    try:
        outbox.post_job_events(service, job_id)
    except Exception as error:  # noqa: BLE001 - the sweep posts what this missed
        log.warning("job %s: posting its events failed: %s", job_id, error)


def work(service: Service, record: JobRecord) -> tuple[Outcome, dict[str, str]] | None:
    """The step itself; returns its outcome and the renewals it applied, or
    None once the job is destroyed (nothing of it is left to record). A
    deletion asked for while the update ran is carried out in the same
    step."""
    job_id = record.jobId
    with stacks.job_workspace(service.settings, service.store, job_id) as ws:
        if record.interrupted:
            clear_locks(service.backend, job_id)
            adopt_strays(service, ws, job_id)
        if record.phase == Phase.DESTROYING:
            destroy(service, ws, job_id)
            return None
        if service.store.get_blob(job_id, STACK_CONFIG) is None:
            sealed = service.store.get_blob(job_id, SEALED_KEYS)
            keys = unseal(sealed, service.settings) if sealed else {}
            stacks.create_stack(ws, service.store, job_id, keys, service.settings)
            service.store.delete_blob(job_id, SEALED_KEYS)
        applied = renewal.apply(service, ws, service.store.get(job_id) or record)
        outputs = update(service, ws, record)
        current = service.store.get(job_id)
        if current is not None and current.phase == Phase.DESTROYING:
            destroy(service, ws, job_id)
            return None
        errors = {
            **failures(outputs),
            **(current.item_errors if current else record.item_errors),
        }
        ended = job_ended(items_of(outputs), record.items, errors, record.auto_creation)
        return lambda r: r.update_succeeded(ended, errors), applied


def update(service: Service, ws: auto.LocalWorkspace, record: JobRecord) -> dict[str, Any]:
    job_id = record.jobId
    raw = service.store.get_blob(job_id, INPUTS)
    if raw is None:
        raise RuntimeError("the job's inputs are missing from the job store")
    inputs = JobInputs.model_validate_json(raw)
    outputs = stack_outputs(service.backend, job_id)
    issued = describe_issued_items(outputs)
    spec = JobSpec(
        job_id=job_id,
        inputs=inputs,
        templates=load_templates(inputs, service.settings),
        keys=stacks.stored_keys(ws, job_id) if any(i.imported for i in inputs.items) else {},
        issued=issued,
        failed=frozenset(record.item_errors),
    )
    # Refreshed whenever AWS knows more than the outputs: news the watcher
    # saw or certificates found issued here.
    refresh = record.refresh or outdated(outputs, issued)
    result = stacks.update(ws, spec, service.settings, refresh=refresh)
    if refresh:  # a certificate that timed out left the stack: it goes
        recorded = (r.get("id", "") for r in stack_resources(service.backend, job_id))
        adoption.find_strays_deleting_timed_out(job_id, recorded)
    return {name: value.value for name, value in result.outputs.items()}


def failures(outputs: dict[str, Any]) -> dict[str, str]:
    """Items whose certificate the update read as failed: recorded as
    failed, so they hold nothing until retried."""
    return {
        item.key: f"certificate {item.certificate_status}"
        for item in items_of(outputs)
        if certificate_failed(item.certificate_status)
    }


def adopt_strays(service: Service, ws: auto.LocalWorkspace, job_id: str) -> None:
    """What a dead step made goes into the stack before anything else, so
    that an update, or a destroy, takes it in (a job that never got its
    stack made nothing)."""
    if service.store.get_blob(job_id, STACK_CONFIG) is None:
        return
    recorded = (r.get("id", "") for r in stack_resources(service.backend, job_id))
    found = adoption.find_strays_deleting_timed_out(job_id, recorded)
    if found:
        adoption.adopt(auto.Stack.select(job_id, ws), found)


def outdated(outputs: dict[str, Any] | None, issued: frozenset[str]) -> bool:
    """Whether a certificate ACM reports issued still shows otherwise in the
    outputs."""
    return any(
        item.key in issued and item.certificate_status != CertificateStatus.ISSUED
        for item in items_of(outputs)
    )


def destroy(service: Service, ws: auto.LocalWorkspace, job_id: str) -> None:
    """Every resource, the stack, everything the backend kept of it, then the
    job's records: nothing holding key material or growing with jobs stays.
    A job that never got a stack has nothing to destroy but its records; nor
    has one whose checkpoint can't be read, which the engine can't destroy
    from: its files and records go, and what it made in AWS stays."""
    clear_locks(service.backend, job_id)
    try:
        stacked = stack_outputs(service.backend, job_id) is not None
    except DamagedJob as damage:
        log.warning(
            "job %s: removing its files without destroying its resources: %s", job_id, damage
        )
        stacked = False
    if stacked:
        if service.store.get_blob(job_id, STACK_CONFIG) is not None:
            stacks.destroy(ws, job_id)
        else:
            ws.remove_stack(job_id, force=True)  # made, never configured: empty
    purge(service.backend, job_id)
    stacks.delete_logs(service.settings, job_id)
    service.store.delete(job_id)
    outbox.post(service, [catalog.destroyed(job_id)])


def stop_everything() -> None:
    """The step's process group is this process and its engine: killing it
    stops the update at once, as a crash would, which the next holder of
    the lease recovers from."""
    os.killpg(os.getpgid(0), signal.SIGKILL)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    run_step(Service.start(load()), sys.argv[1], stop_everything)


if __name__ == "__main__":
    main()
