"""Getting events to operators: webhooks signed with HMAC-SHA256 and an SNS
topic.

Events are posted to the job store's outbox, one delivery per target, never
sent from where they happen: a step or a request only writes them down, and
a dispatcher in every ``serve`` and ``worker`` sends what is due on a thread
of its own, so a slow or dead endpoint delays only its own deliveries. A
delivery is claimed (a conditional write) before it is sent, so instances
sharing the store don't send it twice at once; it stays until its target
took it, each failed try putting the next one off twice as long, and a
job's events go to each target in the order they happened. Deliveries
survive restarts: they live in the store, not in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from provisioning import aws_clients
from provisioning.engine.state import stack_outputs
from provisioning.errors import DamagedJob, StaleRecord
from provisioning.events import catalog
from provisioning.events.catalog import Event
from provisioning.jobs.published import job_status
from provisioning.jobs.states import CertificateStatus, JobStatus, retry_delay
from provisioning.jobs.store import EMITTED, Delivery
from provisioning.program.outputs import items_of
from provisioning.service import Service

log = logging.getLogger("provisioning.events.outbox")

SNS = "sns"
SIGNATURE = "X-SSL-SaaS-Signature"
SEND_TIMEOUT = 5.0  # seconds a target has to take a delivery
CLAIM_SECONDS = 60.0  # how long a claimed delivery is left to its sender
FIRST_RETRY = 5.0  # seconds; doubled after each failure, up to MAX_RETRY_DELAY
MAX_RETRY_DELAY = 1800.0
GIVE_UP_AFTER = 120  # tries (about two and a half days of half-hourly tries)
BATCH = 200  # deliveries looked at per target and round
SENDERS = 4  # deliveries in flight at once


def targets(service: Service) -> list[str]:
    settings = service.settings
    return [*settings.webhook_urls, *([SNS] if settings.sns_topic_arn else [])]


def post(service: Service, posted: list[Event]) -> None:
    """Writes one delivery per event and target into the outbox."""
    to = targets(service)
    if not posted or not to:
        return
    deliveries = [
        Delivery(
            id=hashlib.sha256(f"{found.id} {target}".encode()).hexdigest(),
            job_id=found.jobId,
            target=target,
            body=found.body(),
            order=f"{found.time}#{index:04d}",
        )
        for index, found in enumerate(posted)
        for target in to
    ]
    service.store.add_deliveries(deliveries)


def post_job_events(service: Service, job_id: str) -> None:
    """Posts what the job's status shows has happened and was not posted
    yet. Called wherever a job may have moved on: after each step, and by
    every instance's periodic sweep, which catches what a killed step saw."""
    if not targets(service):
        return
    record = service.store.get(job_id)
    if record is None:
        return
    job = job_status(record, stack_outputs(service.backend, job_id))
    post_unposted(service, job_id, catalog.from_status(job))


def post_unposted(service: Service, job_id: str, found: list[Event]) -> None:
    """Posts the events of ``found`` not posted before, then remembers them.
    Two instances posting the same event at once both deliver it: receivers
    drop the second by its id."""
    raw = service.store.get_blob(job_id, EMITTED)
    done = set(json.loads(raw)) if raw else set()
    new = [e for e in found if e.id not in done]
    if not new:
        return
    post(service, new)
    service.store.put_blob(job_id, EMITTED, json.dumps(sorted(done | {e.id for e in new})).encode())


def sweep(service: Service) -> None:
    """Every job, once per ``SSL_SAAS_EXPIRY_CHECK_SECONDS``: events a step
    died before posting, and certificates nearing their end (30, 7 and 1
    days before an imported one ends; a managed renewal ACM reports
    failing)."""
    if not targets(service):
        return
    acm = service.aws.acm()
    now = datetime.now(UTC)
    after = None
    while True:
        listed, after = service.store.page(100, after)
        for record in listed:
            if isinstance(record, DamagedJob):
                continue
            try:
                job = job_status(record, stack_outputs(service.backend, record.jobId))
                post_unposted(service, record.jobId, catalog.from_status(job))
                if job["status"] == JobStatus.SUCCESS:
                    post_unposted(service, record.jobId, certificate_warnings(acm, job, now))
            except Exception as error:  # noqa: BLE001 - one job must not stop the sweep
                log.warning("job %s: looking for events failed: %s", record.jobId, error)
        if after is None:
            return


def certificate_warnings(acm: object, job: dict, now: datetime) -> list[Event]:
    found = []
    for item in items_of(job):
        if item.certificate_from is not None or item.certificate_status != CertificateStatus.ISSUED:
            continue
        detail = acm.describe_certificate(CertificateArn=item.certificate_arn)["Certificate"]  # type: ignore[attr-defined]
        if detail.get("Type") == "IMPORTED" and detail.get("NotAfter"):
            ends = detail["NotAfter"].astimezone(UTC)  # botocore gives local time
            warning = catalog.expiring(job["jobId"], item, ends, now)
            found += [warning] if warning else []
        renewal = detail.get("RenewalSummary") or {}
        if renewal.get("RenewalStatus") == "FAILED":
            reason = renewal.get("RenewalStatusReason") or "no reason given"
            found.append(catalog.renewal_failing(job["jobId"], item, reason))
    return found


def signature(secret: bytes, body: str) -> str:
    return "sha256=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


def send(service: Service, delivery: Delivery) -> None:
    """Raises when the target didn't take the delivery."""
    settings = service.settings
    if delivery.target == SNS:
        found = Event.model_validate_json(delivery.body)
        subject, text = catalog.readable(found)
        region = settings.sns_topic_arn.split(":")[3]
        service.aws.client("sns", region).publish(
            TopicArn=settings.sns_topic_arn,
            Subject=subject.encode("ascii", "replace").decode(),
            MessageStructure="json",
            # Machines (SQS, HTTP, Lambda) get the event; people, its text.
            Message=json.dumps({"default": delivery.body, "email": text}),
            MessageAttributes={"type": {"DataType": "String", "StringValue": found.type.value}},
        )
        return
    request = urllib.request.Request(
        delivery.target,
        data=delivery.body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ssl-saas-webhooks",
            SIGNATURE: signature(settings.required_webhook_secret(), delivery.body),
        },
    )
    with OPENER.open(request, timeout=SEND_TIMEOUT) as answer:
        answer.read(1024)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed try: followed, the POST would turn into a GET
    without its body, and the signature would go to another address."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def reason(error: Exception) -> str:
    """Why a try failed, without the body or any secret."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return f"unreachable: {error.reason}"
    trouble = aws_clients.failure(error)
    if trouble is not None:
        return str(trouble)
    return type(error).__name__


def shown(target: str) -> str:
    """A target as logs may show it: a URL's credentials and query (which
    may hold a token) left out."""
    if target == SNS:
        return target
    parts = urllib.parse.urlsplit(target)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


class Dispatcher:
    """Sends due deliveries; looks for events and expiring certificates
    every ``expiry_check_seconds``."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.last_sweep = 0.0

    def deliver_due(self) -> int:
        """One round; returns how many deliveries were taken. Each job's
        deliveries to a target go in order, one after another, stopping at
        the first that isn't due or fails; targets and jobs in parallel."""
        queues: dict[tuple[str, str], list[Delivery]] = {}
        for target in targets(self.service):
            for delivery in self.service.store.deliveries(target, BATCH):  # oldest first
                queues.setdefault((delivery.job_id, target), []).append(delivery)
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            return sum(pool.map(self.in_order, queues.values()))

    def in_order(self, queue: list[Delivery]) -> int:
        taken = 0
        for delivery in queue:
            if delivery.next_attempt > time.time() or not self.attempt(delivery):
                break
            taken += 1
        return taken

    def attempt(self, delivery: Delivery) -> bool:
        store = self.service.store
        try:
            claim = {"attempts": delivery.attempts + 1, "next_attempt": time.time() + CLAIM_SECONDS}
            claimed = store.put_delivery(delivery.model_copy(update=claim))
        except StaleRecord:
            return False  # another instance has it
        try:
            send(self.service, claimed)
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500 and error.code not in (408, 425, 429):
                # Refused for good (the receiver rejects it): holding it would
                # hold every later event of the job for days.
                log.error("%s refused an event for good: %s", shown(claimed.target), reason(error))
                store.drop_delivery(claimed)
                return True
            self.failed(claimed, reason(error))
            return False
        except Exception as error:  # noqa: BLE001 - every failure is a retry
            self.failed(claimed, reason(error))
            return False
        store.drop_delivery(claimed)
        return True

    def failed(self, delivery: Delivery, why: str) -> None:
        if delivery.attempts >= GIVE_UP_AFTER:
            log.error(
                "gave up delivering event to %s after %d tries: %s",
                shown(delivery.target),
                delivery.attempts,
                why,
            )
            self.service.store.drop_delivery(delivery)
            return
        delay = retry_delay(FIRST_RETRY, delivery.attempts - 1, MAX_RETRY_DELAY)
        log.warning(
            "delivering event to %s failed (%s); trying again in %.0f s",
            shown(delivery.target),
            why,
            delay,
        )
        try:
            self.service.store.put_delivery(
                delivery.model_copy(update={"next_attempt": time.time() + delay, "last_error": why})
            )
        except StaleRecord:
            pass  # its claim lapsed and another instance took it

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if time.time() - self.last_sweep >= self.service.settings.expiry_check_seconds:
                    self.last_sweep = time.time()
                    sweep(self.service)
                self.deliver_due()
            except Exception as error:  # noqa: BLE001 - logged; the dispatcher must go on
                log.warning("delivering events failed: %s", reason(error))
            stop.wait(1.0)


def start(service: Service, stop: threading.Event) -> None:
    """The dispatcher's thread, when events have anywhere to go; it ends
    once ``stop`` is set."""
    if targets(service):
        dispatcher = Dispatcher(service)
        threading.Thread(target=dispatcher.run_forever, args=(stop,), daemon=True).start()
