"""Getting events out: the outbox in the job store (same on both stores), the
dispatcher that sends what is due to signed webhooks (a local receiver) and
to an SNS topic (moto), in order per job, retried, never twice at once."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.message import Message
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pydantic import SecretStr, ValidationError

from provisioning.errors import ConfigurationError, StaleRecord
from provisioning.events import catalog, outbox
from provisioning.events.catalog import Event
from provisioning.events.outbox import SIGNATURE, Dispatcher, post, shown, signature, targets
from provisioning.jobs.dynamodb_store import DynamoDBJobStore
from provisioning.jobs.store import EMITTED, Delivery, JobStore
from provisioning.service import Service
from provisioning.settings import Settings, load
from tests import helpers
from tests.clients import PROCESS
from tests.records import stored

JOB = "11111111-2222-4333-8444-555555555555"
TARGET = "https://hooks.example.com/h"
OTHER = "11111111-2222-4333-8444-666666666666"
SECRET = "receiver-secret"
make_service = partial(helpers.make_service, secret=SECRET)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ssl-events"
_ids = itertools.count(1)


pytestmark = pytest.mark.usefixtures("no_event_settings")


def job_events(job_id: str) -> list[Event]:
    """A job's life as events, in the order they happened."""
    item = {
        "key": "a",
        "names": ["a.example.com"],
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/a",
        "certificateStatus": "ISSUED",
        "validationRecords": [{"name": "_x.a.example.com.", "type": "CNAME", "value": "_y.acm."}],
        "distributionId": "EA1",
        "distributionDomainName": "da.cloudfront.net",
        "distributionStatus": "Deployed",
    }
    status = {"jobId": job_id, "status": "SUCCESS", "promptInfo": "", "items": [item]}
    return [catalog.accepted(job_id, "create", 1), *catalog.from_status(status)]


class Received(NamedTuple):
    method: str
    path: str
    headers: Message  # the handler's own: read case-insensitively
    body: bytes


Reply = Callable[[Received], tuple[int, dict[str, str]]]


class Receiver:
    """A webhook endpoint on loopback that records what it is sent and
    answers with ``reply`` (204 unless told)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.reply: Reply = lambda _: (204, {})
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(self.command, self.path, self.headers, self.rfile.read(length))
                receiver.received.append(got)
                status, headers = receiver.reply(got)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def events(self, job_id: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(r.body) for r in self.received if r.method == "POST"]
        return [e for e in found if job_id is None or e["jobId"] == job_id]

    def ids(self, job_id: str | None = None) -> list[str]:
        return [e["id"] for e in self.events(job_id)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.mark.parametrize(("status", "kept"), [(400, False), (410, False), (429, True), (408, True)])
def test_a_delivery_refused_for_good_is_dropped_and_the_next_goes(
    tmp_path: Path, receiver: Receiver, status: int, kept: bool
) -> None:
    """A 4xx is the receiver refusing the event itself: tried again it would
    hold the job's later events for days. Throttling and timeouts are tried
    again."""
    service = make_service(tmp_path, webhook_url=receiver.url)
    posted = job_events(JOB)
    post(service, posted)
    receiver.reply = lambda got: (status if json.loads(got.body)["id"] == posted[0].id else 204, {})
    Dispatcher(service).deliver_due()
    if kept:
        assert [json.loads(d.body)["id"] for d in deliveries_waiting(service)] == [
            e.id for e in posted
        ]
    else:
        assert deliveries_waiting(service) == []
        assert receiver.ids(JOB) == [e.id for e in posted]


def failing_for(job_id: str, status: int = 500) -> Reply:
    return lambda got: (status if json.loads(got.body)["jobId"] == job_id else 204, {})


def due_now(service: Service, job_id: str | None = None) -> None:
    """What time passing does: every waiting delivery (of ``job_id``) is due."""
    for delivery in deliveries_waiting(service):
        if job_id is None or delivery.job_id == job_id:
            service.store.put_delivery(delivery.model_copy(update={"next_attempt": 0.0}))


def deliveries_waiting(service: Service) -> list[Delivery]:
    """Every delivery waiting, target by target."""
    return [d for t in targets(service) for d in service.store.deliveries(t, 1000)]


# signature and settings


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    assert SIGNATURE == "X-SSL-SaaS-Signature"  # what receivers are told to check
    body = catalog.accepted(JOB, "create", 1).body()
    expected = hmac.new(b"s3cret", body.encode(), hashlib.sha256).hexdigest()
    assert signature(b"s3cret", body) == f"sha256={expected}"
    assert signature(b"s3cret", body + " ") != signature(b"s3cret", body)
    assert signature(b"other", body) != signature(b"s3cret", body)
    # a well-known HMAC-SHA256 test vector, independent of hmac.new above
    fox = "The quick brown fox jumps over the lazy dog"
    assert signature(b"key", fox) == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
    names = '{"names":["bücher.example"]}'
    assert (
        signature(b"k", names)
        == "sha256=" + hmac.new(b"k", names.encode("utf-8"), hashlib.sha256).hexdigest()
    )


@pytest.mark.parametrize("secret", [None, ""])
def test_webhooks_without_a_secret_refuse_to_start(tmp_path: Path, secret: str | None) -> None:
    settings = Settings(
        state_dir=tmp_path,
        webhook_url="https://hooks.example.com/ssl",
        webhook_secret=None if secret is None else SecretStr(secret),
    )
    with pytest.raises(ConfigurationError, match="SSL_SAAS_WEBHOOK_SECRET"):
        Service.start(settings)


def test_sns_alone_needs_no_secret(tmp_path: Path) -> None:
    service = Service.start(Settings(state_dir=tmp_path, sns_topic_arn=TOPIC))
    assert outbox.targets(service) == [outbox.SNS]


def test_targets_are_every_webhook_then_sns(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path,
        webhook_url=" https://a.example.com/h,http://b.example.com:8080/h?token=x \n",
        webhook_secret=SecretStr(SECRET),
        sns_topic_arn=TOPIC,
    )
    service = Service.start(settings)
    assert outbox.targets(service) == [
        "https://a.example.com/h",
        "http://b.example.com:8080/h?token=x",
        "sns",
    ]
    assert outbox.targets(make_service(tmp_path)) == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "https://",
        "https:///path",
        "https://ok.example.com/x file:///etc/passwd",
    ],
)
def test_a_webhook_url_must_be_http(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="http"):
        Settings(state_dir=tmp_path, webhook_url=url)
    with pytest.raises(ConfigurationError, match="SSL_SAAS_WEBHOOK_URL"):
        load(state_dir=tmp_path, webhook_url=url)


@pytest.mark.parametrize(
    "arn",
    [
        "ssl-events",
        "arn:aws:sqs:us-east-1:123456789012:ssl-events",
        "arn:aws:sns:us-east-1:1234:ssl-events",
        "arn:aws:sns:us-east-1:123456789012:",
        "arn:aws:sns:us-east-1:123456789012:bad/name",
        f"{TOPIC} ",
    ],
)
def test_the_topic_must_be_an_sns_arn(arn: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SNS topic ARN"):
        Settings(state_dir=tmp_path, sns_topic_arn=arn)
    with pytest.raises(ConfigurationError, match="SSL_SAAS_SNS_TOPIC_ARN"):
        load(state_dir=tmp_path, sns_topic_arn=arn)


@pytest.mark.parametrize(
    "arn",
    [
        "",
        TOPIC,
        "arn:aws-cn:sns:cn-north-1:123456789012:t",
        "arn:aws-us-gov:sns:us-gov-west-1:123456789012:ssl_events-2",
    ],
)
def test_sns_arns_of_every_partition_are_taken(arn: str, tmp_path: Path) -> None:
    assert Settings(state_dir=tmp_path, sns_topic_arn=arn).sns_topic_arn == arn


# posting into the outbox


def test_one_delivery_per_event_and_target(tmp_path: Path) -> None:
    service = make_service(
        tmp_path,
        webhook_url="https://a.example.com/h https://b.example.com/h",
        sns_topic_arn=TOPIC,
    )
    posted = job_events(JOB)[:2]
    post(service, posted)
    stored = deliveries_waiting(service)
    assert len(stored) == 3 * len(posted)
    assert {(json.loads(d.body)["id"], d.target) for d in stored} == {
        (e.id, target)
        for e in posted
        for target in ("https://a.example.com/h", "https://b.example.com/h", "sns")
    }
    by_event = {e.id: e for e in posted}
    for delivery in stored:
        assert delivery.body == by_event[json.loads(delivery.body)["id"]].body()
        assert delivery.job_id == JOB
        assert (delivery.attempts, delivery.next_attempt, delivery.last_error) == (0, 0.0, None)
    assert len({d.id for d in stored}) == len(stored)


def test_nothing_is_posted_without_a_target(tmp_path: Path) -> None:
    """Not even an empty write reaches the store."""
    written: list[list[Delivery]] = []
    for service, posted in (
        (make_service(tmp_path), job_events(JOB)),
        (make_service(tmp_path, sns_topic_arn=TOPIC), []),
    ):
        service.store.add_deliveries = written.append  # type: ignore[method-assign]
        post(service, posted)
    assert written == []


def test_posting_the_same_events_again_stores_each_delivery_once(tmp_path: Path) -> None:
    service = make_service(tmp_path, webhook_url="https://a.example.com/h", sns_topic_arn=TOPIC)
    first = job_events(JOB)
    post(service, first)
    time.sleep(0.01)
    again = job_events(JOB)  # the same facts seen again: same ids, a later time
    assert [e.id for e in again] == [e.id for e in first]
    assert [e.time for e in again] != [e.time for e in first]
    post(service, again)
    stored = deliveries_waiting(service)
    assert len(stored) == 2 * len(first)
    assert {d.body for d in stored} == {e.body() for e in first}


def test_fresh_posts_only_events_not_posted_before(tmp_path: Path, receiver: Receiver) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    stored(service, JOB)
    found = job_events(JOB)
    outbox.post_unposted(service, JOB, found[:2])
    assert Dispatcher(service).deliver_due() == 2
    outbox.post_unposted(service, JOB, job_events(JOB))  # seen again, by another step
    assert Dispatcher(service).deliver_due() == len(found) - 2
    assert receiver.ids() == [e.id for e in found]
    emitted = service.store.get_blob(JOB, EMITTED)
    assert emitted is not None and set(json.loads(emitted)) == {e.id for e in found}


# the outbox, on both stores


def delivery(n: int, order: str | None = None, **changes: Any) -> Delivery:
    return Delivery(
        id=hashlib.sha256(f"delivery {n}".encode()).hexdigest(),
        job_id=JOB,
        target=TARGET,
        body=json.dumps({"n": n}),
        order=order or f"2026-11-30T12:00:00.{n:03d}+00:00#0000",
        **changes,
    )


def test_an_empty_outbox(store: JobStore) -> None:
    assert store.deliveries(TARGET, 10) == []


def test_adding_is_idempotent_by_id(store: JobStore) -> None:
    store.add_deliveries([delivery(1), delivery(2)])
    changed = delivery(1).model_copy(update={"body": "changed", "attempts": 7})
    store.add_deliveries([changed, delivery(3)])
    assert store.deliveries(TARGET, 10) == [delivery(1), delivery(2), delivery(3)]


def test_deliveries_come_oldest_first_within_the_limit(store: JobStore) -> None:
    orders = {
        1: "2026-11-30T12:00:01.000+00:00#0000",
        2: "2026-11-30T12:00:00.500+00:00#0001",
        3: "2026-11-30T12:00:00.500+00:00#0000",
        4: "2026-11-29T23:59:59.999+00:00#0003",
        5: "2026-11-30T12:00:00.500+00:00#0010",
    }
    store.add_deliveries([delivery(n, order) for n, order in orders.items()])
    assert [json.loads(d.body)["n"] for d in store.deliveries(TARGET, 10)] == [4, 3, 2, 5, 1]
    assert [json.loads(d.body)["n"] for d in store.deliveries(TARGET, 2)] == [4, 3]
    assert len(store.deliveries(TARGET, 1)) == 1


def test_put_delivery_is_conditional_on_the_version(store: JobStore) -> None:
    store.add_deliveries([delivery(1)])
    (read,) = store.deliveries(TARGET, 10)
    assert read.version == 0
    claimed = store.put_delivery(read.model_copy(update={"attempts": 1, "last_error": "x"}))
    assert claimed.version == 1
    assert store.deliveries(TARGET, 10) == [claimed]
    with pytest.raises(StaleRecord):
        store.put_delivery(read.model_copy(update={"attempts": 5}))
    assert store.deliveries(TARGET, 10) == [claimed]
    again = store.put_delivery(claimed.model_copy(update={"next_attempt": 12.5}))
    assert again.version == 2
    assert store.deliveries(TARGET, 10)[0].next_attempt == 12.5


def test_drop_removes_and_a_dropped_delivery_cannot_be_put(store: JobStore) -> None:
    store.add_deliveries([delivery(1), delivery(2)])
    first, second = store.deliveries(TARGET, 10)
    store.drop_delivery(first)
    assert store.deliveries(TARGET, 10) == [second]
    store.drop_delivery(first)  # twice is fine
    with pytest.raises(StaleRecord):
        store.put_delivery(first)
    store.add_deliveries([delivery(1)])  # an id is free again once dropped
    assert len(store.deliveries(TARGET, 10)) == 2


# the dispatcher and webhooks


@pytest.mark.parametrize("kind", ["local", "dynamodb"])
def test_each_jobs_events_arrive_in_order_signed_and_leave_the_outbox(
    kind: str, tmp_path: Path, receiver: Receiver, request: pytest.FixtureRequest
) -> None:
    shared = None
    if kind == "dynamodb":
        request.getfixturevalue("aws")
        shared = DynamoDBJobStore(f"outbox-{next(_ids)}", PROCESS.client("dynamodb"))
    service = make_service(tmp_path, shared, webhook_url=receiver.url)
    mine, theirs = job_events(JOB), job_events(OTHER)
    post(service, mine)
    post(service, theirs)
    assert Dispatcher(service).deliver_due() == len(mine) + len(theirs)
    assert receiver.ids(JOB) == [e.id for e in mine]
    assert receiver.ids(OTHER) == [e.id for e in theirs]
    sent = {e.id: e.body() for e in mine + theirs}
    for got in receiver.received:
        assert (got.method, got.path) == ("POST", "/hooks")
        assert got.body.decode() == sent[json.loads(got.body)["id"]]
        expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["x-ssl-saas-signature"] == f"sha256={expected}"
        # Sent once, under its own name (read here whatever its case).
        assert [k.lower() for k in got.headers.keys()].count(SIGNATURE.lower()) == 1
        assert got.headers["user-agent"] == "ssl-saas-webhooks"
        assert got.headers["content-type"] == "application/json"
    assert deliveries_waiting(service) == []
    assert Dispatcher(service).deliver_due() == 0
    assert len(receiver.received) == len(mine) + len(theirs)


def test_any_2xx_is_taken(tmp_path: Path, receiver: Receiver) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    receiver.reply = lambda _: (200, {})
    post(service, job_events(JOB)[:1])
    assert Dispatcher(service).deliver_due() == 1
    assert deliveries_waiting(service) == []


def test_a_failure_keeps_the_delivery_and_holds_the_jobs_later_events(
    tmp_path: Path, receiver: Receiver
) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    mine, theirs = job_events(JOB), job_events(OTHER)
    post(service, mine)
    post(service, theirs)
    receiver.reply = failing_for(JOB)

    before = time.time()
    assert Dispatcher(service).deliver_due() == len(theirs)
    after = time.time()
    assert receiver.ids(JOB) == [mine[0].id]  # tried once; the rest wait behind it
    assert receiver.ids(OTHER) == [e.id for e in theirs]  # another job goes on
    waiting = deliveries_waiting(service)
    assert [json.loads(d.body)["id"] for d in waiting] == [e.id for e in mine]
    first, *later = waiting
    assert (first.attempts, first.last_error) == (1, "HTTP 500")
    retry = outbox.FIRST_RETRY
    assert before + retry - 0.5 <= first.next_attempt <= after + retry + 0.5
    assert all((d.attempts, d.next_attempt, d.last_error) == (0, 0.0, None) for d in later)

    assert Dispatcher(service).deliver_due() == 0  # not due yet: nothing is tried
    assert len(receiver.events(JOB)) == 1

    due_now(service)  # its retry time has come; the receiver still fails
    before = time.time()
    assert Dispatcher(service).deliver_due() == 0
    second = deliveries_waiting(service)[0]
    assert (second.attempts, second.last_error) == (2, "HTTP 500")
    assert second.next_attempt >= before + 2 * retry - 0.5  # twice as long
    assert receiver.ids(JOB) == [mine[0].id] * 2

    receiver.reply = lambda _: (204, {})
    due_now(service)
    assert Dispatcher(service).deliver_due() == len(mine)
    assert receiver.ids(JOB) == [mine[0].id] * 3 + [e.id for e in mine[1:]]
    assert deliveries_waiting(service) == []


def test_an_unreachable_target_is_retried(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    service = make_service(tmp_path, webhook_url=f"http://127.0.0.1:{port}/hooks")
    post(service, job_events(JOB)[:1])
    assert Dispatcher(service).deliver_due() == 0
    (waiting,) = deliveries_waiting(service)
    assert waiting.attempts == 1
    assert waiting.last_error is not None and waiting.last_error.startswith("unreachable:")


def test_a_delivery_claimed_by_another_dispatcher_is_not_sent(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    post(service, job_events(JOB))
    store = service.store
    listed = store.deliveries

    def claimed_meanwhile(target: str, limit: int) -> list[Delivery]:
        """Another instance claims each delivery between our listing and our
        claim, leaving it due."""
        found = listed(target, limit)
        for each in found:
            store.put_delivery(each.model_copy(update={"attempts": each.attempts + 1}))
        return found

    monkeypatch.setattr(store, "deliveries", claimed_meanwhile)
    assert Dispatcher(service).deliver_due() == 0
    assert receiver.received == []
    monkeypatch.undo()
    assert all(
        (d.version, d.attempts) == (1, 1) for d in deliveries_waiting(service)
    )  # theirs, untouched


def test_two_dispatchers_at_once_send_each_delivery_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    posted = [e for job in (JOB, OTHER) for e in job_events(job)]
    post(service, posted)
    start = threading.Barrier(3)
    taken: list[int] = []

    def dispatch() -> None:
        start.wait()
        taken.append(Dispatcher(service).deliver_due())

    threads = [threading.Thread(target=dispatch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # whoever wins a delivery's claim sends it and goes on with the job's next
    assert len(taken) == 3
    assert sorted(receiver.ids()) == sorted(e.id for e in posted)
    assert sum(taken) == len(posted)
    for job in (JOB, OTHER):
        assert receiver.ids(job) == [e.id for e in posted if e.jobId == job]
    assert deliveries_waiting(service) == []


def test_a_delivery_is_given_up_after_its_last_try(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    receiver.reply = lambda _: (503, {})
    post(service, job_events(JOB)[:2])
    first = deliveries_waiting(service)[0]
    last = outbox.GIVE_UP_AFTER
    service.store.put_delivery(first.model_copy(update={"attempts": last - 2}))

    assert Dispatcher(service).deliver_due() == 0
    kept = deliveries_waiting(service)[0]
    assert (kept.id, kept.attempts, kept.last_error) == (first.id, last - 1, "HTTP 503")

    due_now(service)
    with caplog.at_level(logging.ERROR, logger="provisioning.events.outbox"):
        assert Dispatcher(service).deliver_due() == 0
    (left,) = deliveries_waiting(service)  # only the job's next event
    assert left.id != first.id and left.attempts == 0
    assert f"after {last} tries" in caplog.text
    assert len(receiver.received) == 2

    receiver.reply = lambda _: (204, {})  # the next event is no longer held behind it
    assert Dispatcher(service).deliver_due() == 1
    assert deliveries_waiting(service) == []


def test_shown_leaves_out_credentials_and_query() -> None:
    assert shown("https://user:pa55@hooks.example.com:8443/ssl/in?token=t0k#frag") == (
        "https://hooks.example.com:8443/ssl/in"
    )
    assert shown("http://hooks.example.com/in?sig=abc") == "http://hooks.example.com/in"
    assert shown("https://hooks.example.com") == "https://hooks.example.com"
    assert shown(outbox.SNS) == "sns"


def test_logs_show_no_token_from_the_url(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hooks?token=t0p-s3cret"
    service = make_service(tmp_path, webhook_url=url)
    receiver.reply = lambda _: (500, {})
    post(service, job_events(JOB)[:1])
    with caplog.at_level(logging.WARNING, logger="provisioning.events.outbox"):
        Dispatcher(service).deliver_due()
    assert receiver.received[0].path == "/hooks?token=t0p-s3cret"  # sent in full
    assert f"http://127.0.0.1:{receiver.port}/hooks" in caplog.text
    assert "t0p-s3cret" not in caplog.text
    assert SECRET not in caplog.text
    assert "t0p-s3cret" not in (deliveries_waiting(service)[0].last_error or "")


# SNS


def sns_and_queue() -> tuple[str, str]:
    sns, sqs = PROCESS.client("sns", "us-east-1"), PROCESS.client("sqs", "us-east-1")
    topic = sns.create_topic(Name="ssl-events")["TopicArn"]
    queue = sqs.create_queue(QueueName="ssl-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    return topic, queue


def test_sns_delivers_the_event_body_to_machines(aws: str, tmp_path: Path) -> None:
    topic, queue = sns_and_queue()
    service = make_service(tmp_path, sns_topic_arn=topic)
    posted = job_events(JOB)
    post(service, posted)
    assert Dispatcher(service).deliver_due() == len(posted)
    assert deliveries_waiting(service) == []

    sqs = PROCESS.client("sqs", "us-east-1")
    messages = []
    for _ in range(len(posted)):
        messages += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        if len(messages) >= len(posted):
            break
    envelopes = [json.loads(m["Body"]) for m in messages]
    assert all(e["Type"] == "Notification" and e["TopicArn"] == topic for e in envelopes)
    assert sorted(e["Message"] for e in envelopes) == sorted(e.body() for e in posted)
    by_id = {e.id: e for e in posted}
    for envelope in envelopes:
        found = by_id[json.loads(envelope["Message"])["id"]]
        assert envelope["Subject"] == catalog.readable(found)[0]
        assert envelope["MessageAttributes"]["type"]["Value"] == found.type.value


def test_an_sns_failure_keeps_the_delivery(aws: str, tmp_path: Path) -> None:
    service = make_service(tmp_path, sns_topic_arn=TOPIC)  # no such topic in moto
    post(service, job_events(JOB)[:2])
    assert Dispatcher(service).deliver_due() == 0
    first, second = deliveries_waiting(service)
    assert (first.attempts, first.last_error) == (1, "sns Publish failed: NotFound")
    assert second.attempts == 0


# found wanting: see each reason


def test_a_dead_targets_backlog_does_not_hold_other_targets(
    tmp_path: Path, receiver: Receiver
) -> None:
    service = make_service(tmp_path, webhook_url=receiver.url)
    waiting = time.time() + 3600
    service.store.add_deliveries(
        [
            Delivery(
                id=hashlib.sha256(f"stuck {n}".encode()).hexdigest(),
                job_id=OTHER,
                target="https://dead.example.com/hooks",
                body="{}",
                order=f"2026-01-01T00:00:00.000+00:00#{n:04d}",
                attempts=9,
                next_attempt=waiting,
                last_error="HTTP 503",
            )
            for n in range(outbox.BATCH)
        ]
    )
    post(service, job_events(JOB)[:1])
    assert Dispatcher(service).deliver_due() == 1
    assert receiver.ids(JOB) == [job_events(JOB)[0].id]


@pytest.mark.parametrize(
    "url", ["http://user:pw@127.0.0.1:8080/hooks", "http://127.0.0.1:http/hooks"]
)
def test_urls_with_credentials_or_a_port_that_is_not_a_number_are_refused(
    tmp_path: Path, url: str
) -> None:
    with pytest.raises(ValidationError):
        Settings(state_dir=tmp_path, webhook_url=url)


def test_a_redirect_is_not_taken_for_delivery(tmp_path: Path, receiver: Receiver) -> None:
    def moved(got: Received) -> tuple[int, dict[str, str]]:
        return (302, {"Location": "/moved"}) if got.method == "POST" else (200, {})

    receiver.reply = moved
    service = make_service(tmp_path, webhook_url=receiver.url)
    posted = job_events(JOB)[:1]
    post(service, posted)
    Dispatcher(service).deliver_due()
    moved_bodies = [r.body.decode() for r in receiver.received if r.path == "/moved"]
    seen = [(r.method, r.path) for r in receiver.received]
    # a redirect is a failed try: the delivery stays for a retry, unsent elsewhere
    assert moved_bodies == [], seen
    (waiting,) = deliveries_waiting(service)
    assert waiting.attempts == 1 and waiting.last_error == "HTTP 302"
