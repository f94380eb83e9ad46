"""Deliveries and the sweep, pinned down: SNS is published in the topic's own
region with an e-mail text of its own; "too early" (425) is tried again and
retries back off to at most half an hour; the sweep warns about every
imported certificate of a job of several items once, and nothing about
shared, unissued or ACM-managed ones; a damaged record read from DynamoDB
mid-page stops nothing."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from provisioning.engine.state import stack_key
from provisioning.errors import DamagedJob
from provisioning.events import catalog, outbox
from provisioning.events.outbox import Dispatcher, post
from provisioning.jobs.dynamodb_store import RECORD, DynamoDBJobStore
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import Phase
from provisioning.jobs.store import Delivery
from provisioning.program.outputs import ItemOutputs
from provisioning.service import Service
from tests.clients import PROCESS, StandIn
from tests.helpers import make_service, write_outputs
from tests.material import issue
from tests.records import job_record

JOB = "11111111-2222-4333-8444-555555555555"
HOOK = "https://hooks.example.com/ssl"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ssl-events"


pytestmark = pytest.mark.usefixtures("no_event_settings")


# -- SNS ----------------------------------------------------------------------------


class Topic:
    """SNS as the dispatcher uses it: what is published is recorded."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(
        self,
        *,
        TopicArn: str,
        Subject: str,
        MessageStructure: str,
        Message: str,
        MessageAttributes: dict[str, Any],
    ) -> dict[str, str]:
        self.published.append(
            {
                "TopicArn": TopicArn,
                "Subject": Subject,
                "MessageStructure": MessageStructure,
                "Message": Message,
                "MessageAttributes": MessageAttributes,
            }
        )
        return {"MessageId": "m1"}


@pytest.fixture
def topic() -> Topic:
    return Topic()


def test_sns_gets_the_event_for_machines_and_its_text_for_people(
    tmp_path: Path, topic: Topic
) -> None:
    # the topic's region, and no other client
    service = make_service(
        tmp_path, aws=StandIn({("sns", "eu-west-1"): topic}), sns_topic_arn=TOPIC
    )
    item = {
        "key": "cnameList[0]",
        "names": ["bücher.example.com"],
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/a",
        "certificateStatus": "ISSUED",
        "distributionId": "E1",
        "distributionDomainName": "d1.cloudfront.net",
        "distributionStatus": "Deployed",
    }
    posted = catalog.from_status({"jobId": JOB, "status": "SUCCESS", "items": [item]})
    post(service, posted)
    assert Dispatcher(service).deliver_due() == len(posted)
    assert len(topic.published) == len(posted)
    for event, sent in zip(posted, topic.published, strict=True):
        subject, text = catalog.readable(event)
        assert sent == {
            "TopicArn": TOPIC,
            "Subject": subject.encode("ascii", "replace").decode(),
            "MessageStructure": "json",
            "Message": json.dumps({"default": event.body(), "email": text}),
            "MessageAttributes": {"type": {"DataType": "String", "StringValue": event.type.value}},
        }
    assert topic.published[1]["Subject"] == "Serving b?cher.example.com"


def test_a_topic_in_another_region_is_published_there(aws: str, tmp_path: Path) -> None:
    sns, sqs = PROCESS.client("sns", "eu-west-1"), PROCESS.client("sqs", "eu-west-1")
    made = sns.create_topic(Name="ssl-events")["TopicArn"]
    assert made == TOPIC
    queue = sqs.create_queue(QueueName="ssl-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=made, Protocol="sqs", Endpoint=arn["QueueArn"])
    service = make_service(tmp_path, sns_topic_arn=TOPIC)
    accepted = catalog.accepted(JOB, "create", 1)
    post(service, [accepted])
    assert Dispatcher(service).deliver_due() == 1
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(json.loads(message["Body"])["Message"]) == json.loads(accepted.body())


# -- retries ------------------------------------------------------------------------


class Refusing:
    """A webhook endpoint answering every POST with ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status

    def open(self, request: Any, timeout: float) -> Any:
        assert request.get_method() == "POST" and timeout == outbox.SEND_TIMEOUT
        raise urllib.error.HTTPError(request.full_url, self.status, "no", {}, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "kept"), [(425, True), (499, False), (500, True), (503, True)])
def test_too_early_is_tried_again_like_server_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, kept: bool
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    monkeypatch.setattr(outbox, "OPENER", Refusing(status))
    post(service, [catalog.accepted(JOB, "create", 1)])
    assert Dispatcher(service).deliver_due() == (0 if kept else 1)
    waiting = service.store.deliveries(HOOK, 10)
    if kept:
        (left,) = waiting
        assert (left.attempts, left.last_error) == (1, f"HTTP {status}")
    else:
        assert waiting == []


@pytest.mark.parametrize(
    ("attempts", "delay"), [(0, 5.0), (1, 10.0), (2, 20.0), (8, 1280.0), (9, 1800.0), (60, 1800.0)]
)
def test_retries_back_off_twice_as_long_up_to_half_an_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attempts: int, delay: float
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    monkeypatch.setattr(outbox, "OPENER", Refusing(503))
    post(service, [catalog.accepted(JOB, "create", 1)])
    (first,) = service.store.deliveries(HOOK, 10)
    service.store.put_delivery(first.model_copy(update={"attempts": attempts}))
    before = time.time()
    Dispatcher(service).deliver_due()
    after = time.time()
    (left,) = service.store.deliveries(HOOK, 10)
    assert left.attempts == attempts + 1
    assert before + delay <= left.next_attempt <= after + delay


# -- posting ------------------------------------------------------------------------


def test_each_event_and_target_gets_a_delivery_of_its_own(tmp_path: Path) -> None:
    service = make_service(tmp_path, webhook_url=HOOK, sns_topic_arn=TOPIC)
    written: list[list[Delivery]] = []
    monkeypatch_store(service, written)
    events = [catalog.accepted(JOB, "create", 1), catalog.destroyed(JOB)]
    post(service, events)
    (deliveries,) = written
    assert [(d.target, d.order) for d in deliveries] == [
        (HOOK, f"{events[0].time}#0000"),
        ("sns", f"{events[0].time}#0000"),
        (HOOK, f"{events[1].time}#0001"),
        ("sns", f"{events[1].time}#0001"),
    ]


def monkeypatch_store(service: Service, written: list[list[Delivery]]) -> None:
    real = service.store.add_deliveries

    def recorded(deliveries: list[Delivery]) -> None:
        written.append(list(deliveries))
        real(deliveries)

    service.store.add_deliveries = recorded  # type: ignore[method-assign]


# -- the sweep ----------------------------------------------------------------------


def add_job(service: Service, n: int, items: list[dict[str, Any]]) -> str:
    job_id = f"00000000-0000-4000-8000-{n:012d}"
    made = job_record(job_id, job_input={}, items=len(items), auto_creation=False, phase=Phase.DONE)
    service.store.create(made, {})
    write_outputs(service, job_id, {"items": items})
    return job_id


def imported(names: list[str], days: float) -> str:
    not_after = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    pem = issue(names, key="ec-p256", not_after=not_after)
    return str(
        PROCESS.acm().import_certificate(
            Certificate=pem.cert_pem.encode(),
            PrivateKey=pem.key_pem.encode(),
            CertificateChain=pem.chain_pem.encode(),
        )["CertificateArn"]
    )


def output(key: str, arn: str, status: str = "ISSUED", **changes: Any) -> dict[str, Any]:
    return {
        "key": key,
        "names": [f"{key}.example.com"],
        "certificateArn": arn,
        "certificateStatus": status,
        "distributionId": None,
        "distributionArn": None,
        "distributionStatus": None,
        **changes,
    }


def warnings(service: Service) -> list[tuple[str, str, str]]:
    found = [json.loads(d.body) for d in service.store.deliveries(HOOK, 10_000)]
    return [
        (e["jobId"], e["data"]["key"], e["data"]["reason"])
        for e in found
        if e["type"] == "certificate.expiring"
    ]


def test_the_sweep_warns_about_each_imported_certificate_of_a_job_once(
    aws: str, tmp_path: Path
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    soon, later = imported(["a.example.com"], 5), imported(["b.example.com"], 20)
    items = [
        output("a", soon),
        output("b", later),
        output("c", imported(["c.example.com"], 60)),
        output("shared", soon, certificateFrom="a"),  # a's certificate, warned about as a's
    ]
    job_id = add_job(service, 1, items)
    other = add_job(service, 2, [output("a", soon)])
    outbox.sweep(service)
    expected = [
        (job_id, "a", "the certificate ends within 7 days"),
        (job_id, "b", "the certificate ends within 30 days"),
        (other, "a", "the certificate ends within 7 days"),
    ]
    assert sorted(warnings(service)) == sorted(expected)
    outbox.sweep(service)
    assert sorted(warnings(service)) == sorted(expected)  # nothing new


class Described:
    """ACM describing each of ``details`` (ARN -> its Certificate), and
    nothing else."""

    def __init__(self, details: dict[str, dict[str, Any]]) -> None:
        self.details = details
        self.asked: list[str] = []

    def describe_certificate(self, *, CertificateArn: str) -> dict[str, Any]:
        self.asked.append(CertificateArn)
        return {"Certificate": self.details[CertificateArn]}


def test_only_own_issued_certificates_are_looked_at_and_managed_ones_never_expire(
    tmp_path: Path,
) -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    ends = now + timedelta(days=5)
    acm = Described(
        {
            "arn:imported": {"Type": "IMPORTED", "NotAfter": ends},
            "arn:managed": {"Type": "AMAZON_ISSUED", "NotAfter": ends},
            "arn:no-end": {"Type": "IMPORTED"},
        }
    )
    job = {
        "jobId": JOB,
        "items": [
            output("shared", "arn:imported", certificateFrom="imported"),
            output("pending", "arn:pending", "PENDING_VALIDATION"),
            output("failed", "arn:failed", "FAILED"),
            output("imported", "arn:imported"),
            output("managed", "arn:managed"),
            output("no-end", "arn:no-end"),
        ],
    }
    found = outbox.certificate_warnings(acm, job, now)
    assert acm.asked == ["arn:imported", "arn:managed", "arn:no-end"]
    expected = catalog.expiring(JOB, ItemOutputs.model_validate(job["items"][3]), ends, now)
    assert expected is not None
    assert [(e.id, e.type, e.data) for e in found] == [(expected.id, expected.type, expected.data)]


def test_a_damaged_record_mid_page_on_dynamodb_stops_nothing(aws: str, tmp_path: Path) -> None:
    store = DynamoDBJobStore("sweep-damaged", PROCESS.client("dynamodb"))
    service = make_service(tmp_path, store, webhook_url=HOOK)
    arn = imported(["a.example.com"], 5)
    jobs = {add_job(service, n, [output("a", arn)]) for n in range(1, 6)}
    listed, after = store.page(100, None)
    order = [r.jobId for r in listed if isinstance(r, JobRecord)]
    assert set(order) == jobs and after is None
    damaged = order[2]  # read mid-page: jobs before it and after it
    PROCESS.client("dynamodb").update_item(
        TableName="sweep-damaged",
        Key={"jobId": {"S": damaged}, "part": {"S": RECORD}},
        UpdateExpression="SET body = :garbage",
        ExpressionAttributeValues={":garbage": {"B": b"\x00garbage"}},
    )
    listed, _ = store.page(100, None)
    assert [isinstance(r, DamagedJob) for r in listed] == [False, False, True, False, False]
    outbox.sweep(service)
    assert sorted(job for job, _, _ in warnings(service)) == sorted(jobs - {damaged})


# -- what the dispatcher says, and its thread -----------------------------------------


def outbox_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "provisioning.events.outbox"]


class Answering:
    """A webhook endpoint whose every POST raises ``error``; while it is
    asked, the delivery as stored is recorded."""

    def __init__(self, service: Service, error: Exception) -> None:
        self.service, self.error = service, error
        self.stored: list[tuple[float, Delivery]] = []

    def open(self, request: Any, timeout: float) -> Any:
        assert timeout == outbox.SEND_TIMEOUT
        self.stored += [(time.time(), d) for d in self.service.store.deliveries(HOOK, 10)]
        raise self.error


def test_a_delivery_being_sent_is_claimed_for_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    endpoint = Answering(service, TimeoutError("timed out"))
    monkeypatch.setattr(outbox, "OPENER", endpoint)
    post(service, [catalog.accepted(JOB, "create", 1)])
    Dispatcher(service).deliver_due()
    ((asked_at, claimed),) = endpoint.stored
    assert claimed.attempts == 1
    assert asked_at + outbox.CLAIM_SECONDS - 1 <= claimed.next_attempt <= asked_at + 60
    (left,) = service.store.deliveries(HOOK, 10)
    assert left.last_error == "TimeoutError"  # neither HTTP nor unreachable: its kind


def test_each_failure_is_logged_with_its_target_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(tmp_path, webhook_url=f"{HOOK}?token=secret")
    post(service, [catalog.accepted(JOB, "create", 1)])
    monkeypatch.setattr(outbox, "OPENER", Refusing(503))
    with caplog.at_level(logging.INFO, logger="provisioning.events.outbox"):
        Dispatcher(service).deliver_due()
        (left,) = service.store.deliveries(f"{HOOK}?token=secret", 10)
        service.store.put_delivery(
            left.model_copy(update={"next_attempt": 0.0, "attempts": outbox.GIVE_UP_AFTER - 1})
        )
        Dispatcher(service).deliver_due()
        post(service, [catalog.destroyed(JOB)])
        monkeypatch.setattr(outbox, "OPENER", Refusing(410))
        Dispatcher(service).deliver_due()
    assert outbox_log(caplog) == [
        f"delivering event to {HOOK} failed (HTTP 503); trying again in 5 s",
        f"gave up delivering event to {HOOK} after {outbox.GIVE_UP_AFTER} tries: HTTP 503",
        f"{HOOK} refused an event for good: HTTP 410",
    ]


def test_a_failed_round_is_logged_and_the_dispatcher_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    stop = threading.Event()
    swept: list[Service] = []
    monkeypatch.setattr(outbox, "sweep", swept.append)
    dispatcher = Dispatcher(service)

    def failing() -> int:
        stop.set()
        raise ConnectionResetError("reset")

    monkeypatch.setattr(dispatcher, "deliver_due", failing)
    with caplog.at_level(logging.WARNING, logger="provisioning.events.outbox"):
        dispatcher.run_forever(stop)
    assert swept == [service]
    assert outbox_log(caplog) == ["delivering events failed: ConnectionResetError"]


def test_a_job_the_sweep_cannot_read_is_logged_by_its_id(
    aws: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    job_id = add_job(service, 1, [output("a", imported(["a.example.com"], 5))])
    (Path(service.backend.root) / stack_key(job_id)).write_text("not json")
    with caplog.at_level(logging.WARNING, logger="provisioning.events.outbox"):
        outbox.sweep(service)
    (logged,) = outbox_log(caplog)
    assert logged.startswith(f"job {job_id}: looking for events failed: ")
    assert logged != f"job {job_id}: looking for events failed: None"


def test_the_sweep_reads_jobs_a_hundred_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, webhook_url=HOOK)
    for n in range(1, 4):
        add_job(service, n, [])
    asked: list[tuple[int, str | None]] = []
    page = service.store.page

    def recorded(limit: int, after: str | None) -> Any:
        asked.append((limit, after))
        return page(limit, after)

    monkeypatch.setattr(service.store, "page", recorded)
    outbox.sweep(service)
    assert asked == [(100, None)]


@pytest.mark.parametrize("configured", [True, False])
def test_the_dispatcher_runs_on_a_daemon_thread_when_events_have_a_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    service = make_service(tmp_path, **({"webhook_url": HOOK} if configured else {}))
    ran: list[tuple[Service, threading.Event, bool]] = []
    running = threading.Event()

    def run_forever(self: Dispatcher, stop: threading.Event) -> None:
        ran.append((self.service, stop, threading.current_thread().daemon))
        running.set()

    monkeypatch.setattr(Dispatcher, "run_forever", run_forever)
    stop = threading.Event()
    outbox.start(service, stop)
    assert running.wait(2 if configured else 0.3) is configured
    assert ran == ([(service, stop, True)] if configured else [])


def test_a_failing_managed_renewal_without_a_reason_says_so() -> None:
    acm = Described(
        {"arn:managed": {"Type": "AMAZON_ISSUED", "RenewalSummary": {"RenewalStatus": "FAILED"}}}
    )
    item = output("managed", "arn:managed")
    (found,) = outbox.certificate_warnings(acm, {"jobId": JOB, "items": [item]}, datetime.now(UTC))
    assert found.data["reason"] == "ACM's managed renewal is failing: no reason given"
