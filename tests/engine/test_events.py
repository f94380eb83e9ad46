"""Events of real jobs, delivered: signed webhooks to a local receiver, and
the SNS topic into an SQS queue in moto."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import moto
import pytest
from moto.acm.models import acm_backends
from pydantic import SecretStr

from provisioning.actions import job_calls
from provisioning.events.outbox import SIGNATURE, Dispatcher
from provisioning.sandbox.session import ACCOUNT
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.worker.supervisor import Supervisor
from tests.clients import PROCESS
from tests.engine.jobs_helpers import REQUESTS, aws

pytestmark = pytest.mark.engine
SECRET = "receiver-secret"


class Receiver:
    """A webhook endpoint that records what it is sent; ``answer`` is the
    status it replies with."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[tuple[Message, bytes]] = []
        self.answer = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers, body))
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?token=t"

    def events(self) -> list[dict[str, Any]]:
        """Every event received, each one's signature checked."""
        found = []
        for headers, body in self.received:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers[SIGNATURE], expected), "bad signature"
            found.append(json.loads(body))
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def with_webhook(settings: Settings, url: str) -> Service:
    return Service.start(
        settings.model_copy(update={"webhook_url": url, "webhook_secret": SecretStr(SECRET)}),
        PROCESS,
    )


def run(service: Service, job_id: str, until: Any, timeout: float = 180) -> dict[str, Any]:
    """Moves the job along and delivers its events until ``until(job)``, or
    until the job is gone when ``until`` is None; returns the last status."""
    supervisor, dispatcher = Supervisor(service), Dispatcher(service)
    deadline = time.time() + timeout
    job: dict[str, Any] = {}
    while time.time() < deadline:
        supervisor.tick()
        dispatcher.deliver_due()
        gone = service.store.get(job_id) is None
        job = {} if gone else job_calls.status(service, job_id)
        if (gone if until is None else until(job)) and not supervisor.busy(job_id):
            dispatcher.deliver_due()
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} never got there: {job}")


def test_a_create_job_s_events_arrive_signed_and_in_order(
    settings: Settings, receiver: Receiver
) -> None:
    service = with_webhook(settings, receiver.url)
    job_id = job_calls.submit(service, (REQUESTS / "create-one.json").read_bytes(), lambda _: None)
    job = run(service, job_id, lambda j: j["status"] == "SUCCESS")
    [item] = job["items"]
    assert item["distributionStatus"] == "Deployed"

    received = receiver.events()
    assert [e["type"] for e in received] == [
        "job.accepted",
        "dcv.records_ready",
        "certificate.issued",
        "distribution.deployed",
        "job.succeeded",
    ]
    assert {e["jobId"] for e in received} == {job_id}
    assert len({e["id"] for e in received}) == len(received)
    ready = received[1]["data"]
    assert ready["key"] == item["key"] and ready["records"] == item["validationRecords"]
    assert received[2]["data"]["certificateArn"] == item["certificateArn"]
    assert received[3]["data"]["distributionId"] == item["distributionId"]
    assert all(set(e) == {"id", "type", "time", "jobId", "data"} for e in received)

    job_calls.request_destroy(service, job_id)
    run(service, job_id, None)
    assert receiver.events()[-1]["type"] == "job.destroyed"
    assert not service.store.deliveries(receiver.url, 10)


def test_a_failed_item_is_an_event_with_its_reason(
    settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 3600)  # nothing issued by itself
    service = with_webhook(settings, receiver.url)
    job_id = job_calls.submit(service, (REQUESTS / "create-two.json").read_bytes(), lambda _: None)
    job = run(service, job_id, lambda j: len(j["certList"]) == 2)
    doomed = job["items"][1]
    acm_backends[ACCOUNT]["us-east-1"].get_certificate(
        doomed["certificateArn"]
    ).status = "VALIDATION_TIMED_OUT"
    run(service, job_id, lambda j: j["status"] == "FAILED")

    received = receiver.events()
    failed = [e for e in received if e["type"] == "item.failed"]
    assert [e["data"]["key"] for e in failed] == [doomed["key"]]
    assert "VALIDATION_TIMED_OUT" in failed[0]["data"]["reason"]
    assert received[-1]["type"] == "job.failed"
    assert doomed["key"] in received[-1]["data"]["reason"]


def test_deliveries_wait_for_a_dead_endpoint_and_resume_after_a_restart(
    settings: Settings,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks"
    service = with_webhook(settings, url)
    job_id = job_calls.submit(service, (REQUESTS / "create-one.json").read_bytes(), lambda _: None)
    started = time.time()
    run(service, job_id, lambda j: j["status"] == "SUCCESS")
    assert time.time() - started < 120, "a dead endpoint must not hold the job up"
    waiting = service.store.deliveries(url, 50)
    assert len(waiting) == 5
    assert max(d.attempts for d in waiting) >= 1
    assert all(d.last_error and "unreachable" in d.last_error for d in waiting if d.attempts)

    # A new instance (the old one's memory gone) finds the deliveries in the
    # store and sends them once the endpoint is back.
    receiver = Receiver(port)
    try:
        dispatcher = Dispatcher(with_webhook(settings, url))
        deadline = time.time() + 120
        while service.store.deliveries(url, 50):
            assert time.time() < deadline, "the deliveries were not resumed"
            dispatcher.deliver_due()
            time.sleep(0.5)
        assert [e["type"] for e in receiver.events()] == [
            "job.accepted",
            "dcv.records_ready",
            "certificate.issued",
            "distribution.deployed",
            "job.succeeded",
        ]
    finally:
        receiver.close()


def test_events_reach_an_sqs_queue_subscribed_to_the_sns_topic(settings: Settings) -> None:
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name="ssl-saas-events")["TopicArn"]
    queue = sqs.create_queue(QueueName="ssl-saas-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    service = Service.start(settings.model_copy(update={"sns_topic_arn": topic}), PROCESS)
    job_id = job_calls.submit(
        service, (REQUESTS / "import-one-working.json").read_bytes(), lambda _: None
    )
    run(service, job_id, lambda j: j["status"] == "SUCCESS")

    types = []
    deadline = time.time() + 30
    while len(types) < 4 and time.time() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            envelope = json.loads(message["Body"])
            assert envelope["TopicArn"] == topic and envelope["Subject"]
            event = json.loads(envelope["Message"])
            assert event["jobId"] == job_id
            types.append(event["type"])
    assert types == ["job.accepted", "certificate.issued", "distribution.deployed", "job.succeeded"]
