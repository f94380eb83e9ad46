"""Workers: each job step runs in its own process; a supervisor moves jobs on.

A step is one process (``python -m provisioning.worker JOBID``), so a crash
or a kill takes down one step of one job and nothing else; private keys
reach it through a pipe, never a file. The supervisor keeps at most
``SSL_SAAS_WORKERS`` steps running, starts submitted jobs at once, and every
``SSL_SAAS_POLL_SECONDS`` looks at each unfinished job: a certificate ACM now
reports ISSUED (or failed), a deployment that finished, a job left
``running`` by a dead worker, a job queued before a restart, a job to
destroy.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi import automation as auto

from provisioning import aws_clients, job_records, stacks, state
from provisioning.errors import RequestRejected
from provisioning.job_records import JobRecord, Phase
from provisioning.status import CERTIFICATE_FAILURES, job_status

log = logging.getLogger("provisioning.worker")

STEPPABLE: tuple[Phase, ...] = ("queued", "running", "waiting", "done", "failed")
# A queued job this old was not started by a live process: resume it.
ORPHANED_AFTER = timedelta(seconds=60)
RESTARTED_IMPORT = (
    "the service restarted before this import job started, and private keys are never "
    "kept outside a job's stack; submit the request again"
)


def workers() -> int:
    return int(os.environ.get("SSL_SAAS_WORKERS", "2"))


def poll_seconds() -> float:
    return float(os.environ.get("SSL_SAAS_POLL_SECONDS", "30"))


def engine_error(error: auto.CommandError) -> str:
    """The engine's own error lines, not the whole CLI transcript."""
    lines = [line.strip() for line in str(error).splitlines() if "error:" in line]
    return "; ".join(dict.fromkeys(lines)) or "the update failed"


def finished(job_id: str, record: JobRecord) -> bool:
    """Nothing left to watch: every item has ended — its certificate failed,
    or it is issued and (with auto_creation) its distribution deployed.
    One failed item never stops the others."""
    items = job_status(record, state.stack_outputs(job_id))["items"]

    def ended(item: dict[str, Any]) -> bool:
        if item["certificateStatus"] in CERTIFICATE_FAILURES or "error" in item:
            return True
        if record.auto_creation:
            return bool(item["distributionId"]) and item["distributionStatus"] == "Deployed"
        return bool(item["certificateStatus"] == "ISSUED")

    return len(items) == record.items and all(ended(i) for i in items)


def step(job_id: str, pems: list[dict[str, Any]] | None, refresh: bool) -> None:
    """One step of a job: start it, update it, or destroy it. Whatever goes
    wrong is recorded on the job, so no job is left retrying silently."""
    record = job_records.read(job_id)
    if record is None:
        return
    try:
        state.clear_dead_locks(job_id)
        if record.phase == "destroying":
            destroy(job_id)
            return
        if not stacks.configured(job_id):
            if record.jobType == "import" and not pems:
                job_records.update(job_id, phase="failed", error=RESTARTED_IMPORT)
                return
            stacks.create_job(
                job_id,
                record.job_input,
                pems,
                record.sources,
                record.minimumProtocolVersion,
                record.creationDate,
            )
        if job_records.update(job_id, expect=STEPPABLE, phase="running") is None:
            return  # deleted meanwhile; the destroying step takes it from here
        stacks.update(job_id, refresh=refresh)
        record = job_records.read(job_id) or record
        phase = "done" if finished(job_id, record) else "waiting"
        job_records.update(job_id, expect=("running",), phase=phase, error=None)
    except auto.ConcurrentUpdateError:
        return  # another worker holds the stack and records its own result
    except auto.CommandError as error:
        action = "destroy" if record.phase == "destroying" else "update"
        job_records.update(job_id, phase="failed", error=f"{action} failed: {engine_error(error)}")
    except RequestRejected as rejected:
        reasons = "; ".join(str(p) for p in rejected.problems)
        job_records.update(
            job_id, phase="failed", error=f"the job's request was refused: {reasons}"
        )
    except Exception as error:
        log.exception("job %s step failed", job_id)
        job_records.update(
            job_id,
            phase="failed",
            error=f"internal error ({type(error).__name__}); see the worker log",
        )


def destroy(job_id: str) -> None:
    """A job that never got a stack (refused late, or lost to a restart)
    has nothing to destroy but its records."""
    if state.stack_outputs(job_id) is not None:
        stacks.destroy(job_id)
    stacks.forget(job_id)
    job_records.remove(job_id)


@dataclass
class Supervisor:
    """Owns the running steps; one per job at a time."""

    limit: int = field(default_factory=workers)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    waiting: list[tuple[str, bytes, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def busy(self, job_id: str) -> bool:
        with self.lock:
            self.reap()
            return job_id in self.running or any(j == job_id for j, _, _ in self.waiting)

    def launch(
        self, job_id: str, pems: list[dict[str, Any]] | None = None, refresh: bool = False
    ) -> None:
        payload = json.dumps(pems).encode() if pems else b""
        with self.lock:
            self.reap()
            if job_id in self.running or any(j == job_id for j, _, _ in self.waiting):
                return
            self.waiting.append((job_id, payload, refresh))
            self.start_waiting()

    def reap(self) -> None:
        for job_id, process in list(self.running.items()):
            if process.poll() is not None:
                del self.running[job_id]

    def start_waiting(self) -> None:
        while self.waiting and len(self.running) < self.limit:
            job_id, payload, refresh = self.waiting.pop(0)
            command = [sys.executable, "-m", "provisioning.worker", job_id]
            # Its own session: a Ctrl-C meant for the server doesn't cut an
            # engine off mid-update; the step finishes and records its result.
            process = subprocess.Popen(
                command + (["--refresh"] if refresh else []),
                stdin=subprocess.PIPE,
                start_new_session=True,
            )
            # A large payload fills the pipe until the step has started and
            # reads it; the caller (an HTTP request) must not wait for that.
            threading.Thread(target=feed, args=(process, payload), daemon=True).start()
            self.running[job_id] = process

    def tick(self, only: str | None = None) -> None:
        with self.lock:
            self.reap()
            self.start_waiting()
        for job_id in [only] if only else job_records.job_ids():
            if self.busy(job_id):
                continue
            try:
                record = job_records.read(job_id)
                if record is not None:
                    self.consider(record)
            except Exception:  # one job's trouble must not stall the others
                log.exception("watching job %s failed", job_id)

    def consider(self, record: JobRecord) -> None:
        job_id = record.jobId
        if record.phase == "destroying" or (record.phase == "queued" and self.orphaned(record)):
            self.launch(job_id)
        elif record.phase == "running" and not state.locked_by_live_process(job_id):
            self.launch(job_id)  # its worker died; the step recovers the lock
        elif record.phase == "waiting":
            refresh = news_from_aws(record, state.stack_outputs(job_id) or {})
            if refresh:
                self.launch(job_id, refresh=True)

    def orphaned(self, record: JobRecord) -> bool:
        """A queued job is started by whoever accepted it; only one queued
        before this supervisor started, or long ago, is left to the watcher —
        else it would race the submitter and start an import without keys."""
        created = datetime.fromisoformat(record.creationDate)
        return created < self.started or datetime.now(UTC) - created > ORPHANED_AFTER

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # one bad tick must not stop the watcher
                log.exception("watcher tick failed")
            stop.wait(poll_seconds())

    def stop(self) -> None:
        with self.lock:
            for process in self.running.values():
                process.wait()


def feed(process: subprocess.Popen[bytes], payload: bytes) -> None:
    assert process.stdin is not None
    try:
        with process.stdin:
            process.stdin.write(payload)
    except BrokenPipeError:
        pass  # the step died before reading; the watcher finds its job and says why


def news_from_aws(record: JobRecord, outputs: dict[str, Any]) -> bool:
    """Whether ACM or CloudFront now say something the outputs don't: a
    certificate issued or failed, a deployment finished. Failures are
    recorded with ACM's reason before the outputs are refreshed."""
    acm, cloudfront = aws_clients.acm(), aws_clients.client("cloudfront")
    news = False
    item_errors = dict(record.item_errors)
    for item in outputs.get("items", []):
        arn, before = item.get("certificateArn"), item.get("certificateStatus")
        if arn and before == "PENDING_VALIDATION":
            found = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            if found["Status"] != before:
                news = True
            if found["Status"] in CERTIFICATE_FAILURES:
                reason = found.get("FailureReason") or found["Status"]
                item_errors[item["key"]] = f"certificate {found['Status']}: {reason}"
        if item.get("distributionId") and item.get("distributionStatus") != "Deployed":
            got = cloudfront.get_distribution(Id=item["distributionId"])["Distribution"]
            news = news or got["Status"] == "Deployed"
    if item_errors != record.item_errors:
        job_records.update(record.jobId, item_errors=item_errors)
    return news


def main() -> None:
    job_id = sys.argv[1]
    payload = sys.stdin.buffer.read()
    step(job_id, json.loads(payload) if payload else None, "--refresh" in sys.argv[2:])


if __name__ == "__main__":
    main()
