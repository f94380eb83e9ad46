"""A step's hold on its job: claimed in the job store, kept while the step
works, given back with the step's outcome.

The lease is what keeps two steps of one job from ever running at once, on
any instance: a step that can't claim it exits at once, and one that can
no longer keep it stops before the lease lapses, so that whoever takes the
job over next never meets it still working.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from provisioning.jobs.record import JobRecord
from provisioning.jobs.store import change
from provisioning.service import Service

log = logging.getLogger("provisioning.worker.lease")

# How a step ended, as one of the record's outcome transitions; applied to
# the record current when the step releases the job, not the one it claimed.
Outcome = Callable[[JobRecord], JobRecord]


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


class LeaseKeeper:
    """Renews the lease every third of its term; if a renewal is refused
    (another took the job) or none has succeeded for two thirds of the term,
    calls ``on_lost`` so the step stops before anyone else may start."""

    def __init__(self, service: Service, job_id: str, owner: str, on_lost: Callable[[], None]):
        self.service, self.job_id, self.owner, self.on_lost = service, job_id, owner, on_lost
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.watchdog: threading.Timer | None = None

    def __enter__(self) -> LeaseKeeper:
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
    renewals the step ``applied`` are done with, their blobs deleted."""
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
