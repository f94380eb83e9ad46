"""The supervisor: launches step processes and watches open jobs.

It keeps at most ``workers`` steps of this instance running, starts a
submitted job at once, and every ``poll_seconds`` looks at each open job in
the shared store: a certificate ACM now reports ISSUED (or failed), a
deployment that finished, a job whose step's lease lapsed (its instance
died), a job queued and not started, a job to destroy. Several instances
may watch the same store: the lease decides which step runs.

When AWS can't be asked about a job, the reason is recorded on the job and
the job is asked about again later, each time after twice as long. A job
something of which can't be read is skipped (and said so once in the log);
no job's trouble stalls another's.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from provisioning import aws_clients
from provisioning.aws_clients import AwsClients
from provisioning.engine.state import stack_outputs
from provisioning.errors import DamagedJob
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import (
    CertificateStatus,
    DistributionStatus,
    Phase,
    awaits_aws,
    certificate_failed,
)
from provisioning.jobs.store import change
from provisioning.program.outputs import items_of
from provisioning.service import Service

log = logging.getLogger("provisioning.worker.supervisor")


@dataclass
class Supervisor:
    service: Service
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    damaged: set[str] = field(default_factory=set)  # jobs skipped as damaged, logged once

    def busy(self, job_id: str) -> bool:
        """Whether this instance runs or is about to run a step of the job."""
        with self.lock:
            self.reap()
            return job_id in self.running or job_id in self.waiting

    def launch(self, job_id: str) -> None:
        with self.lock:
            self.reap()
            if job_id not in self.running and job_id not in self.waiting:
                self.waiting.append(job_id)
            self.start_waiting()

    def reap(self) -> None:
        for job_id, process in list(self.running.items()):
            if process.poll() is not None:
                del self.running[job_id]

    def start_waiting(self) -> None:
        while self.waiting and len(self.running) < self.service.settings.workers:
            job_id = self.waiting.pop(0)
            # Its own session: a Ctrl-C meant for the server doesn't cut an
            # engine off mid-update, and a step that loses its lease can stop
            # its whole group (itself and its engine) without touching ours.
            self.running[job_id] = subprocess.Popen(
                [sys.executable, "-m", "provisioning.worker.step", job_id],
                env={**os.environ, **self.service.settings.as_env()},
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def tick(self, only: str | None = None) -> None:
        with self.lock:
            self.reap()
            self.start_waiting()
        watched = [only] if only else self.service.store.unfinished()
        if not only:
            self.damaged.intersection_update(watched)  # deleted ones need no more skipping
        for job_id in watched:
            if self.busy(job_id):
                continue
            try:
                record = self.service.store.get(job_id)
                if record is not None and record.open and not record.leased():
                    self.consider(record)
                self.damaged.discard(job_id)
            except DamagedJob as damage:
                if job_id not in self.damaged:
                    self.damaged.add(job_id)
                    log.warning("skipping job %s until it is deleted: %s", job_id, damage)
            except Exception as error:  # noqa: BLE001 - logged; one job must not stall the others
                logged(error, "watching job %s failed", job_id)

    def consider(self, record: JobRecord) -> None:
        """A job nobody holds: queued, destroying, or left running by a step
        whose lease lapsed, goes to a step; a waiting one only with news; none
        sooner than its last failed try allows."""
        if time.time() < record.next_check:
            return
        if record.phase != Phase.WAITING or record.refresh or news_from_aws(self.service, record):
            self.launch(record.jobId)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception as error:  # noqa: BLE001 - logged; a bad tick must not stop the watcher
                logged(error, "watcher tick failed")
            stop.wait(self.service.settings.poll_seconds)

    def stop(self) -> None:
        """Waits for this instance's steps to end."""
        with self.lock:
            for process in self.running.values():
                process.wait()


def logged(error: Exception, message: str, *args: object) -> None:
    """AWS out of reach is one line naming the call that failed, however
    often it happens; anything else gets its traceback."""
    trouble = aws_clients.failure(error)
    if trouble is None:
        log.error(message, *args, exc_info=error)
    else:
        log.warning(message + ": %s", *args, trouble)


def news_from_aws(service: Service, record: JobRecord) -> bool:
    """Whether ACM or CloudFront now say something the job's outputs don't:
    a certificate issued or failed, a deployment finished. Failures are
    recorded with ACM's reason, and the news marks the job for a refreshing
    step, both in one conditional write, which also clears the reason an
    earlier look failed. A look that fails is recorded instead (see
    ``checks_failed``); a checkpoint that can't be read is the job's damage."""
    try:
        news, failures = asked(service.aws, stack_outputs(service.backend, record.jobId))
    except DamagedJob:
        raise
    except Exception as error:  # noqa: BLE001 - recorded on the job and logged, never silent
        record_check_failure(service, record, error)
        return False
    if not news and record.check_error is None:
        return False

    def mark(current: JobRecord) -> JobRecord | None:
        if current.phase != Phase.WAITING:
            return None
        return current.news_found(news, failures)

    return change(service.store, record.jobId, mark) is not None and news


def asked(aws: AwsClients, outputs: dict[str, Any] | None) -> tuple[bool, dict[str, str]]:
    """What AWS says of the items that wait on it: whether anything changed,
    and why items failed."""
    acm, cloudfront = aws.acm(), aws.cloudfront()
    news = False
    failures: dict[str, str] = {}
    for item in items_of(outputs):
        certificate, distribution = awaits_aws(item)
        if certificate:
            found = acm.describe_certificate(CertificateArn=item.certificate_arn)["Certificate"]
            news = news or found["Status"] != CertificateStatus.PENDING_VALIDATION
            if certificate_failed(found["Status"]):
                reason = found.get("FailureReason") or found["Status"]
                failures[item.key] = f"certificate {found['Status']}: {reason}"
        if distribution:
            got = cloudfront.get_distribution(Id=item.distribution_id)["Distribution"]
            news = news or got["Status"] == DistributionStatus.DEPLOYED
    return news, failures


def record_check_failure(service: Service, record: JobRecord, error: Exception) -> None:
    """Records why the look failed (the AWS service and operation, or that
    something else went wrong) and when to look again: twice as long after
    each failure in a row, up to ten minutes (``JobRecord.check_failed``). Never silent: the job's
    record says it, and so does the log."""
    logged(error, "job %s: checking with AWS failed", record.jobId)
    trouble = aws_clients.failure(error)
    reason = str(trouble) if trouble else f"internal error ({type(error).__name__}); see the log"

    def mark(current: JobRecord) -> JobRecord | None:
        if current.phase != Phase.WAITING:
            return None
        return current.check_failed(reason, time.time(), service.settings.poll_seconds)

    change(service.store, record.jobId, mark)
