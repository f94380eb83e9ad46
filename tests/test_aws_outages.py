"""AWS trouble is named, not hidden: every call is bounded in time, the API
answers 503 naming the service and operation that failed, and a job whose
looks at AWS fail says why, backs off, and recovers when AWS answers again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.acm.models import acm_backends

from provisioning import aws_clients
from provisioning.api.app import create_app
from provisioning.aws_clients import AwsClients
from provisioning.errors import AwsFailure
from provisioning.jobs.published import job_status
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import Phase
from provisioning.sandbox.moto_server import free_port
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor, news_from_aws
from tests.clients import PROCESS
from tests.helpers import KEY
from tests.records import stored

ACCOUNT = "123456789012"
JOB = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def unreachable(aws: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """AWS out of reach for this process: a port nothing listens on. The
    session's moto server stays up for every other test."""
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    return closed


def get(service: Service, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service, watch=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get(path, headers={"x-api-key": KEY})

    return asyncio.run(call())


def test_every_call_is_bounded_in_time() -> None:
    config = AwsClients().client("dynamodb", "us-east-1").meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 7)
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 3}


def test_unreachable_aws_is_named_and_fails_fast(unreachable: str) -> None:
    started = time.monotonic()
    with pytest.raises(AwsFailure) as raised:
        aws_clients.named(lambda: PROCESS.acm().list_certificates())
    assert time.monotonic() - started < 30
    failure = raised.value
    assert (failure.service, failure.operation, failure.transient) == (
        "acm",
        "ListCertificates",
        True,
    )
    assert str(failure) == "acm ListCertificates failed: the endpoint could not be reached"


def test_unreachable_aws_answers_503_naming_the_call(service: Service, unreachable: str) -> None:
    answer = get(service, "/ssl_for_saas/cert_list")
    assert answer.status_code == 503
    assert answer.json() == {
        "error": "aws_unavailable",
        "message": "acm ListCertificates failed: the endpoint could not be reached",
        "service": "acm",
        "operation": "ListCertificates",
    }
    assert unreachable.rsplit(":", 1)[1] not in answer.text  # no raw exception text


def test_throttling_past_the_retries_answers_503(service: Service, aws: str) -> None:
    with Stubber(service.aws.acm()) as stub:
        stub.add_client_error(
            "list_certificates", service_error_code="ThrottlingException", http_status_code=400
        )
        answer = get(service, "/ssl_for_saas/cert_list")
    assert answer.status_code == 503
    assert answer.json()["message"] == (
        "acm ListCertificates failed: throttled (ThrottlingException) past the retries"
    )


def test_a_refusal_is_not_an_outage(service: Service, aws: str) -> None:
    with Stubber(service.aws.acm()) as stub:
        stub.add_client_error(
            "list_certificates", service_error_code="AccessDeniedException", http_status_code=400
        )
        try:
            service.aws.acm().list_certificates()
        except ClientError as error:
            failure = aws_clients.failure(error)
    assert failure is not None and not failure.transient
    assert str(failure) == "acm ListCertificates failed: AccessDeniedException"
    assert aws_clients.failure(ValueError("not AWS")) is None


def waiting_job(service: Service, monkeypatch: pytest.MonkeyPatch) -> tuple[JobRecord, str]:
    """A job waiting on ACM to validate its certificate."""
    arn = boto3.client("acm", region_name="us-east-1").request_certificate(
        DomainName="a.example.com", ValidationMethod="DNS"
    )["CertificateArn"]
    outputs = {
        "items": [
            {
                "key": "cnameList[0]",
                "names": ["a.example.com"],
                "certificateArn": arn,
                "certificateStatus": "PENDING_VALIDATION",
            }
        ]
    }
    monkeypatch.setattr("provisioning.worker.supervisor.stack_outputs", lambda *_: outputs)
    return stored(service, JOB, phase=Phase.WAITING), arn


def current(service: Service) -> JobRecord:
    found = service.store.get(JOB)
    assert found is not None
    return found


def test_failing_checks_say_why_back_off_and_clear_when_aws_answers(
    service: Service, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, arn = waiting_job(service, monkeypatch)
    launched: list[str] = []
    monkeypatch.setattr(Supervisor, "launch", lambda self, job_id: launched.append(job_id))
    supervisor = Supervisor(service)

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    before = time.time()
    assert news_from_aws(service, job) is False
    failed = current(service)
    reason = "acm DescribeCertificate failed: the endpoint could not be reached"
    assert failed.check_error == reason and failed.check_failures == 1
    assert before + 2 <= failed.next_check <= time.time() + 2  # poll_seconds x 2
    shown = job_status(failed, {"items": [{"key": "cnameList[0]", "names": [], **pending(arn)}]})
    assert shown["status"] == "INPROGRESS"
    assert f"checking with AWS failed: {reason}; trying again at" in shown["promptInfo"]
    assert shown["items"][0]["checkError"] == reason

    supervisor.tick()  # not yet due: AWS is not asked, nothing changes
    assert current(service).check_failures == 1

    assert news_from_aws(service, current(service)) is False  # asked anyway: twice as long
    again = current(service)
    assert again.check_failures == 2
    assert again.next_check >= time.time() + 3

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)  # AWS answers again
    assert news_from_aws(service, again) is False  # still pending: no news, but the reason goes
    recovered = current(service)
    assert (recovered.check_error, recovered.check_failures, recovered.next_check) == (None, 0, 0)
    assert job_status(recovered, None)["promptInfo"] == ""

    acm_backends[ACCOUNT]["us-east-1"].get_certificate(arn).status = "ISSUED"
    supervisor.tick()
    assert launched == [JOB]
    assert current(service).refresh


def pending(arn: str) -> dict[str, Any]:
    return {"certificateArn": arn, "certificateStatus": "PENDING_VALIDATION"}


def test_a_check_that_breaks_otherwise_is_recorded_too(
    service: Service, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, _ = waiting_job(service, monkeypatch)

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("provisioning.worker.supervisor.stack_outputs", broken)
    assert news_from_aws(service, job) is False
    assert current(service).check_error == "internal error (RuntimeError); see the log"
