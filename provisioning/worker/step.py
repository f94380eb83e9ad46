"""One step of one job, in a process of its own:
``python -m provisioning.worker.step JOBID``.

A step first claims the job's lease (``lease``) and keeps it while it
works; a step that can't claim it exits at once (another holds the job), and
one that can no longer keep it stops, engine and all, before the lease
lapses, so no two steps of a job ever run at once, on any instance. A step
is one process so that a crash or a kill takes down one step of one job and
nothing else; whatever goes wrong otherwise is recorded on the job.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from provisioning.jobs.store import INPUTS, SEALED_KEYS, STACK_CONFIG, JobStore
from provisioning.program.inputs import JobInputs
from provisioning.program.outputs import items_of
from provisioning.program.spec import JobSpec
from provisioning.service import Service
from provisioning.settings import load
from provisioning.templates.pinning import load_templates
from provisioning.worker.lease import LeaseKeeper, Outcome, claim, release

log = logging.getLogger("provisioning.worker.step")


def engine_error(error: auto.CommandError) -> str:
    """The engine's own error lines, not the whole CLI transcript."""
    lines = [line.strip() for line in str(error).splitlines() if "error:" in line]
    return "; ".join(dict.fromkeys(lines)) or "the update failed"


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
        with LeaseKeeper(service, job_id, owner, on_lost):
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
    """The step's work, in a workspace of its own made for it."""
    with stacks.job_workspace(service.settings, service.store, record.jobId) as ws:
        return Step(service, record.jobId, ws).run(record)


@dataclass(frozen=True)
class Step:
    """One step's work on one job: the service, the job and the workspace
    the step made for it, held together so each part of the work asks
    them of the step instead of being handed them again."""

    service: Service
    job_id: str
    ws: auto.LocalWorkspace

    @property
    def store(self) -> JobStore:
        return self.service.store

    def run(self, record: JobRecord) -> tuple[Outcome, dict[str, str]] | None:
        """The step itself; returns its outcome and the renewals it applied,
        or None once the job is destroyed (nothing of it is left to record).
        A deletion asked for while the update ran is carried out in the
        same step."""
        if record.interrupted:
            clear_locks(self.service.backend, self.job_id)
            self.adopt_strays()
        if record.phase == Phase.DESTROYING:
            self.destroy()
            return None
        if self.store.get_blob(self.job_id, STACK_CONFIG) is None:
            sealed = self.store.get_blob(self.job_id, SEALED_KEYS)
            keys = unseal(sealed, self.service.settings, self.service.aws) if sealed else {}
            stacks.create_stack(self.ws, self.store, self.job_id, keys, self.service.settings)
            self.store.delete_blob(self.job_id, SEALED_KEYS)
        applied = renewal.apply(self.service, self.ws, self.store.get(self.job_id) or record)
        outputs = self.update(record)
        current = self.store.get(self.job_id)
        if current is not None and current.phase == Phase.DESTROYING:
            self.destroy()
            return None
        errors = {
            **failures(outputs),
            **(current.item_errors if current else record.item_errors),
        }
        ended = job_ended(items_of(outputs), record.items, errors, record.auto_creation)
        return lambda r: r.update_succeeded(ended, errors), applied

    def update(self, record: JobRecord) -> dict[str, Any]:
        raw = self.store.get_blob(self.job_id, INPUTS)
        if raw is None:
            raise RuntimeError("the job's inputs are missing from the job store")
        inputs = JobInputs.model_validate_json(raw)
        outputs = stack_outputs(self.service.backend, self.job_id)
        issued = describe_issued_items(self.service.aws.acm(), outputs)
        imports = any(i.imported for i in inputs.items)
        spec = JobSpec(
            job_id=self.job_id,
            inputs=inputs,
            templates=load_templates(inputs, self.service.settings, self.service.aws),
            keys=stacks.stored_keys(self.ws, self.job_id) if imports else {},
            issued=issued,
            failed=frozenset(record.item_errors),
        )
        # Refreshed whenever AWS knows more than the outputs: news the
        # watcher saw or certificates found issued here.
        refresh = record.refresh or outdated(outputs, issued)
        result = stacks.update(self.ws, spec, self.service.settings, refresh=refresh)
        if refresh:  # a certificate that timed out left the stack: it goes
            adoption.find_strays_deleting_timed_out(self.service.aws, self.job_id, self.recorded())
        return {name: value.value for name, value in result.outputs.items()}

    def recorded(self) -> list[str]:
        """The ids of the resources the job's stack holds."""
        return [r.get("id", "") for r in stack_resources(self.service.backend, self.job_id)]

    def adopt_strays(self) -> None:
        """What a dead step made goes into the stack before anything else,
        so that an update, or a destroy, takes it in (a job that never got
        its stack made nothing)."""
        if self.store.get_blob(self.job_id, STACK_CONFIG) is None:
            return
        found = adoption.find_strays_deleting_timed_out(
            self.service.aws, self.job_id, self.recorded()
        )
        if found:
            adoption.adopt(auto.Stack.select(self.job_id, self.ws), found)

    def destroy(self) -> None:
        """Every resource, the stack, everything the backend kept of it,
        then the job's records: nothing holding key material or growing
        with jobs stays. A job that never got a stack has nothing to
        destroy but its records; nor has one whose checkpoint can't be
        read, which the engine can't destroy from: its files and records
        go, and what it made in AWS stays."""
        job_id, backend = self.job_id, self.service.backend
        clear_locks(backend, job_id)
        try:
            stacked = stack_outputs(backend, job_id) is not None
        except DamagedJob as damage:
            log.warning(
                "job %s: removing its files without destroying its resources: %s", job_id, damage
            )
            stacked = False
        if stacked:
            if self.store.get_blob(job_id, STACK_CONFIG) is not None:
                stacks.destroy(self.ws, job_id)
            else:
                self.ws.remove_stack(job_id, force=True)  # made, never configured: empty
        purge(backend, job_id)
        stacks.delete_logs(self.service.settings, job_id)
        self.store.delete(job_id)
        outbox.post(self.service, [catalog.destroyed(job_id)])


def failures(outputs: dict[str, Any]) -> dict[str, str]:
    """Items whose certificate the update read as failed: recorded as
    failed, so they hold nothing until retried."""
    return {
        item.key: f"certificate {item.certificate_status}"
        for item in items_of(outputs)
        if certificate_failed(item.certificate_status)
    }


def outdated(outputs: dict[str, Any] | None, issued: frozenset[str]) -> bool:
    """Whether a certificate ACM reports issued still shows otherwise in the
    outputs."""
    return any(
        item.key in issued and item.certificate_status != CertificateStatus.ISSUED
        for item in items_of(outputs)
    )


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
