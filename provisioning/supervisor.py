"""The supervisor: launches step processes and watches open jobs.

It keeps at most ``workers`` steps of this instance running, starts a
submitted job at once, and every ``poll_seconds`` looks at each open job in
the shared store: a certificate ACM now reports ISSUED (or failed), a
deployment that finished, a job whose step's lease lapsed (its instance
died), a job queued and not started, a job to destroy. Several instances
may watch the same store: the lease decides which step runs.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from provisioning import aws_clients
from provisioning.backend import stack_outputs
from provisioning.job_store import JobRecord, change
from provisioning.lifecycle import (
    CertificateStatus,
    DistributionStatus,
    Phase,
    awaits_aws,
    certificate_failed,
)
from provisioning.service import Service

log = logging.getLogger("provisioning.supervisor")


@dataclass
class Supervisor:
    service: Service
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

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
                [sys.executable, "-m", "provisioning.step", job_id],
                env={**os.environ, **self.service.settings.as_env()},
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def tick(self, only: str | None = None) -> None:
        with self.lock:
            self.reap()
            self.start_waiting()
        for job_id in [only] if only else self.service.store.unfinished():
            if self.busy(job_id):
                continue
            try:
                record = self.service.store.get(job_id)
                if record is not None and record.open and not record.leased():
                    self.consider(record)
            except Exception:  # one job's trouble must not stall the others
                log.exception("watching job %s failed", job_id)

    def consider(self, record: JobRecord) -> None:
        """A job nobody holds: queued, destroying, or left running by a step
        whose lease lapsed, goes to a step; a waiting one only with news."""
        if record.phase != Phase.WAITING or record.refresh:
            self.launch(record.jobId)
        elif news_from_aws(self.service, record, stack_outputs(self.service.backend, record.jobId)):
            self.launch(record.jobId)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # one bad tick must not stop the watcher
                log.exception("watcher tick failed")
            stop.wait(self.service.settings.poll_seconds)

    def stop(self) -> None:
        """Waits for this instance's steps to end."""
        with self.lock:
            for process in self.running.values():
                process.wait()


def news_from_aws(service: Service, record: JobRecord, outputs: dict[str, Any] | None) -> bool:
    """Whether ACM or CloudFront now say something the outputs don't: a
    certificate issued or failed, a deployment finished. Failures are
    recorded with ACM's reason, and the news marks the job for a refreshing
    step, both in one conditional write."""
    acm, cloudfront = aws_clients.acm(), aws_clients.client("cloudfront")
    news = False
    failures: dict[str, str] = {}
    for item in (outputs or {}).get("items", []):
        certificate, distribution = awaits_aws(item)
        if certificate:
            found = acm.describe_certificate(CertificateArn=item["certificateArn"])["Certificate"]
            news = news or found["Status"] != CertificateStatus.PENDING_VALIDATION
            if certificate_failed(found["Status"]):
                reason = found.get("FailureReason") or found["Status"]
                failures[item["key"]] = f"certificate {found['Status']}: {reason}"
        if distribution:
            got = cloudfront.get_distribution(Id=item["distributionId"])["Distribution"]
            news = news or got["Status"] == DistributionStatus.DEPLOYED
    if not news:
        return False

    def mark(current: JobRecord) -> JobRecord | None:
        if current.phase != Phase.WAITING:
            return None
        errors = {**current.item_errors, **failures}
        return current.model_copy(update={"refresh": True, "item_errors": errors})

    return change(service.store, record.jobId, mark) is not None
