"""The HTTP layer without the engine: every route's key check, the error
shapes (400, 404, 413, 500, 503), paging, deletion accepted whatever the
job is doing, and what the API document says. No step process ever starts:
the supervisor's launches are recorded, and where a real supervisor would
start one, Popen is a stand-in."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from fastapi import FastAPI

from provisioning.actions import job_calls
from provisioning.api.app import create_app
from provisioning.api.deps import MAX_BODY
from provisioning.engine.state import Backend
from provisioning.errors import (
    AwsFailure,
    BadPageToken,
    ConfigurationError,
    DamagedJob,
    IdempotencyConflict,
    JobConflict,
    Problem,
    ProvisioningError,
    RequestRejected,
    TooLarge,
    UnknownItem,
    UnknownJob,
)
from provisioning.jobs.local_store import LocalJobStore
from provisioning.jobs.record import Lease
from provisioning.jobs.states import Phase
from provisioning.request.validation import validate_text
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.worker.supervisor import Supervisor
from tests.clients import ACM, PROCESS, StandIn
from tests.helpers import KEY, call, write_outputs
from tests.records import JOB, stored

UNKNOWN = "99999999-2222-4333-8444-555555555555"
CREATE = {
    "acm_op": "create",
    "auto_creation": "false",
    "cnameList": [{"domainName": "shop.example.com", "sanList": ["www.shop.example.com"]}],
}
UNAUTHORISED = {"error": "unauthorized", "message": "a valid x-api-key header is required"}
NOT_FOUND = {"error": "not_found", "message": "no job has this jobId"}
TOO_LARGE = {"error": "too_large", "message": f"the body exceeds {MAX_BODY} bytes"}
THROTTLED = AwsFailure("acm", "DescribeCertificate", "throttled past the retries", True)
MiB = 1024 * 1024


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


ROUTES = [
    ("POST", "/ssl_for_saas"),
    ("POST", "/ssl_for_saas/preview"),
    ("GET", f"/ssl_for_saas/get_ssl_job?jobId={JOB}"),
    ("GET", "/ssl_for_saas/list_ssl_jobs"),
    ("GET", f"/ssl_for_saas/list_cloudfront_arn_with_jobId?jobId={JOB}"),
    ("GET", f"/ssl_for_saas/list_ssl_certification_with_jobId?jobId={JOB}"),
    ("GET", "/ssl_for_saas/cert_list"),
    ("DELETE", f"/ssl_for_saas/jobs/{JOB}"),
    ("POST", f"/ssl_for_saas/jobs/{JOB}/retry"),
    ("PUT", f"/ssl_for_saas/jobs/{JOB}/items/pemList[0]/certificate"),
    ("GET", "/ssl_for_saas/openapi.json"),
]


# -- the key ------------------------------------------------------------------


def test_every_route_needs_the_key(app: FastAPI, service: Service, launched: list[str]) -> None:
    before = stored(service)
    for method, path in ROUTES:
        for key in (None, "", "wrong", KEY + "x", KEY[:-1]):
            answer = call(app, method, path, key=key, content=json.dumps(CREATE))
            assert (answer.status_code, answer.json()) == (401, UNAUTHORISED), (method, path, key)
    assert launched == []
    assert service.store.page(10, None) == ([before], None)


def test_the_api_needs_a_key_to_start(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, api_key=None)
    with pytest.raises(ConfigurationError, match="SSL_SAAS_API_KEY is not set"):
        create_app(
            Service(
                settings, LocalJobStore(tmp_path / "jobs"), Backend.of(settings, PROCESS), PROCESS
            )
        )


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/nothing/here"])
def test_no_interactive_docs_or_unknown_paths(app: FastAPI, path: str) -> None:
    for key in (KEY, None):
        answer = call(app, "GET", path, key=key)
        assert (answer.status_code, answer.json()) == (
            404,
            {"error": "http_error", "message": "Not Found"},
        )


def test_a_wrong_method_is_named(app: FastAPI) -> None:
    answer = call(app, "POST", "/ssl_for_saas/get_ssl_job")
    assert (answer.status_code, answer.json()) == (
        405,
        {"error": "http_error", "message": "Method Not Allowed"},
    )


def test_the_console_shells_need_no_key(app: FastAPI) -> None:
    answer = call(app, "GET", "/console/", key=None)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")


# -- submit and preview -----------------------------------------------------------


def test_a_submission_answers_its_job_id_and_hands_the_job_over(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    answer = call(app, "POST", "/ssl_for_saas", content=json.dumps(CREATE))
    assert answer.status_code == 200
    job = answer.json()["body"]
    assert answer.json() == {"statusCode": 200, "body": job}
    assert launched == [job]
    record = service.store.get(job)
    assert record is not None and record.phase == Phase.QUEUED


def test_without_a_supervisor_of_its_own_the_api_starts_steps(
    service: Service, steps: list[list[str]]
) -> None:
    app = create_app(service, watch=False)
    job = call(app, "POST", "/ssl_for_saas", content=json.dumps(CREATE)).json()["body"]
    assert [args[-3:] for args in steps] == [["-m", "provisioning.worker.step", job]]


def test_the_same_body_with_the_same_idempotency_key_twice_gives_one_job(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    keyed = {"headers": {"Idempotency-Key": "order 4711"}}
    first = call(app, "POST", "/ssl_for_saas", content=json.dumps(CREATE), **keyed)
    again = call(app, "POST", "/ssl_for_saas", content=json.dumps(CREATE), **keyed)
    job = first.json()["body"]
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() == {"statusCode": 200, "body": job}
    assert launched == [job]
    assert len(service.store.page(10, None)[0]) == 1

    other = {**CREATE, "cnameList": [{"domainName": "other.example.com"}]}
    conflict = call(app, "POST", "/ssl_for_saas", content=json.dumps(other), **keyed)
    assert conflict.status_code == 409
    assert conflict.json() == {
        "error": "idempotency_conflict",
        "message": "this Idempotency-Key was used for another request (a different body) "
        "within the last 24 hours; use a new key for a new request",
    }
    too_long = {"headers": {"idempotency-key": "k" * 256}}
    refused = call(app, "POST", "/ssl_for_saas", content=json.dumps(other), **too_long)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "location": "Idempotency-Key",
            "message": "1 to 255 printable ASCII characters (space to ~)",
        }
    ]
    assert launched == [job]


@pytest.mark.parametrize("path", ["/ssl_for_saas", "/ssl_for_saas/preview"])
def test_a_refused_request_lists_every_problem(
    app: FastAPI, service: Service, launched: list[str], path: str
) -> None:
    bad = {"acm_op": "create", "auto_creation": "maybe", "cnameList": [{"domainName": "-x"}]}
    with pytest.raises(RequestRejected) as raised:
        validate_text(json.dumps(bad))
    answer = call(app, "POST", path, content=json.dumps(bad))
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "message": "the request was refused",
        "errors": [{"location": p.location, "message": p.message} for p in raised.value.problems],
    }
    assert len(answer.json()["errors"]) == 2
    assert launched == [] and service.store.page(10, None) == ([], None)


def test_a_preview_answers_what_would_be_made_and_makes_nothing(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    answer = call(app, "POST", "/ssl_for_saas/preview", content=json.dumps(CREATE))
    assert answer.status_code == 200
    assert answer.json() == {
        "jobType": "create",
        "items": [
            {
                "key": "cnameList[0]",
                "names": ["shop.example.com", "www.shop.example.com"],
                "certificate": "requested (DNS validation)",
                "distributionFrom": None,
            }
        ],
    }
    assert launched == [] and service.store.page(10, None) == ([], None)


# -- the body's size ------------------------------------------------------------------


async def chunks(sizes: list[int], sent: list[int], last: bytes = b"") -> AsyncIterator[bytes]:
    """A streamed body (no Content-Length): spaces, ``last`` ending the last
    chunk; ``sent`` counts the chunks the server asked for."""
    for n, size in enumerate(sizes):
        sent.append(size)
        yield (b" " * (size - len(last)) + last) if n == len(sizes) - 1 else b" " * size


NOT_UTF8_AT_THE_LIMIT = {
    "error": "invalid_request",
    "message": "the request was refused",
    "errors": [
        {"location": "", "message": f"the body is not UTF-8 text (byte {MAX_BODY - 1} is invalid)"}
    ],
}


@pytest.mark.parametrize("path", ["/ssl_for_saas", "/ssl_for_saas/preview"])
def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    app: FastAPI, launched: list[str], path: str
) -> None:
    sent: list[int] = []
    answer = call(
        app,
        "POST",
        path,
        headers={"content-length": str(MAX_BODY + 1)},
        content=chunks([2], sent),
    )
    assert (answer.status_code, answer.json()) == (413, TOO_LARGE)
    assert sent == [] and launched == []


@pytest.mark.parametrize("path", ["/ssl_for_saas", "/ssl_for_saas/preview"])
def test_a_streamed_body_over_the_limit_is_refused_as_soon_as_it_passes_it(
    app: FastAPI, launched: list[str], path: str
) -> None:
    sent: list[int] = []
    answer = call(app, "POST", path, content=chunks([MiB] * 12, sent))
    assert "content-length" not in answer.request.headers
    assert (answer.status_code, answer.json()) == (413, TOO_LARGE)
    assert sent == [MiB] * 9 and launched == []


def test_a_body_of_exactly_the_limit_is_read_whole(app: FastAPI) -> None:
    sent: list[int] = []
    streamed = call(app, "POST", "/ssl_for_saas", content=chunks([MiB] * 8, sent, last=b"\xff"))
    assert (streamed.status_code, streamed.json()) == (400, NOT_UTF8_AT_THE_LIMIT)
    declared = call(app, "POST", "/ssl_for_saas", content=b" " * (MAX_BODY - 1) + b"\xff")
    assert declared.request.headers["content-length"] == str(MAX_BODY)
    assert (declared.status_code, declared.json()) == (400, NOT_UTF8_AT_THE_LIMIT)


def test_a_length_that_is_no_number_is_not_trusted(app: FastAPI) -> None:
    answer = call(
        app, "POST", "/ssl_for_saas", headers={"content-length": "2x"}, content=chunks([2], [])
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"location": "", "message": "not valid JSON at line 1 column 3: Expecting value"}
    ]


# -- reading jobs -------------------------------------------------------------------------


ITEM = {
    "key": "cnameList[0]",
    "names": ["shop.example.com"],
    "certificateArn": "arn:aws:acm:us-east-1:1:certificate/c",
    "certificateStatus": "ISSUED",
    "distributionId": "E1",
    "distributionArn": "arn:aws:cloudfront::1:distribution/E1",
    "distributionStatus": "InProgress",
}


def test_a_job_is_answered_as_its_status_says(app: FastAPI, service: Service) -> None:
    stored(service, phase=Phase.WAITING)
    write_outputs(service, JOB, {"items": [ITEM]})
    answer = call(app, "GET", f"/ssl_for_saas/get_ssl_job?jobId={JOB}")
    assert answer.status_code == 200
    assert answer.json() == as_json(job_calls.status(service, JOB))
    assert answer.json()["status"] == "INPROGRESS"
    assert "error" not in answer.json()["items"][0]  # left out, not sent as null
    assert "checkError" not in answer.json()["items"][0]

    distributions = call(app, "GET", f"/ssl_for_saas/list_cloudfront_arn_with_jobId?jobId={JOB}")
    assert (distributions.status_code, distributions.json()) == (200, [ITEM["distributionArn"]])
    certificates = call(app, "GET", f"/ssl_for_saas/list_ssl_certification_with_jobId?jobId={JOB}")
    assert (certificates.status_code, certificates.json()) == (200, [ITEM["certificateArn"]])


def test_an_items_error_is_answered(app: FastAPI, service: Service) -> None:
    stored(service, phase=Phase.WAITING, item_errors={"cnameList[0]": "certificate FAILED: x"})
    write_outputs(service, JOB, {"items": [{**ITEM, "certificateStatus": "FAILED"}]})
    [item] = call(app, "GET", f"/ssl_for_saas/get_ssl_job?jobId={JOB}").json()["items"]
    assert item["error"] == "certificate FAILED: x"


@pytest.mark.parametrize(
    "route",
    [
        "get_ssl_job",
        "list_cloudfront_arn_with_jobId",
        "list_ssl_certification_with_jobId",
    ],
)
def test_a_job_that_is_not_there_is_not_found(app: FastAPI, route: str) -> None:
    for job in (UNKNOWN, "not-a-job-id"):
        answer = call(app, "GET", f"/ssl_for_saas/{route}?jobId={job}")
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    missing = call(app, "GET", f"/ssl_for_saas/{route}")
    assert (missing.status_code, missing.json()) == (
        400,
        {
            "error": "invalid_request",
            "message": "the request was refused",
            "errors": [{"location": "query.jobId", "message": "Field required"}],
        },
    )


def listed(service: Service, n: int) -> list[str]:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]
    for i, job in enumerate(ids):
        stored(service, job, creationDate=f"2026-11-30T00:00:0{i}+00:00")
    return ids[::-1]  # newest first


def test_the_published_listing_is_a_list_of_every_job(app: FastAPI, service: Service) -> None:
    newest_first = listed(service, 3)
    answer = call(app, "GET", "/ssl_for_saas/list_ssl_jobs")
    assert answer.status_code == 200
    assert [job["jobId"] for job in answer.json()] == newest_first
    assert answer.json() == as_json(job_calls.statuses(service)[0])


def test_a_caller_that_pages_gets_a_page_and_the_token_for_the_next(
    app: FastAPI, service: Service
) -> None:
    newest_first = listed(service, 3)
    first = call(app, "GET", "/ssl_for_saas/list_ssl_jobs?limit=2").json()
    assert [job["jobId"] for job in first["jobs"]] == newest_first[:2]
    assert set(first) == {"jobs", "next"} and first["next"]
    rest = call(app, "GET", "/ssl_for_saas/list_ssl_jobs", params={"next": first["next"]}).json()
    assert rest == {"jobs": as_json(job_calls.statuses(service)[0][2:]), "next": None}
    everything = call(app, "GET", "/ssl_for_saas/list_ssl_jobs?limit=1000").json()
    assert [job["jobId"] for job in everything["jobs"]] == newest_first
    assert everything["next"] is None
    one = call(app, "GET", "/ssl_for_saas/list_ssl_jobs?limit=1").json()
    assert [job["jobId"] for job in one["jobs"]] == newest_first[:1]


@pytest.mark.parametrize(
    ("query", "location", "message"),
    [
        ("limit=0", "query.limit", "Input should be greater than or equal to 1"),
        ("limit=1001", "query.limit", "Input should be less than or equal to 1000"),
        (
            "limit=many",
            "query.limit",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (f"next={'A' * 2049}", "query.next", "String should have at most 2048 characters"),
    ],
)
def test_a_bad_page_query_is_refused_where_it_is(
    app: FastAPI, query: str, location: str, message: str
) -> None:
    answer = call(app, "GET", f"/ssl_for_saas/list_ssl_jobs?{query}")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "message": "the request was refused",
        "errors": [{"location": location, "message": message}],
    }


@pytest.mark.parametrize("token", ["!!", "A" * 2048, "WzEsIDJd"])
def test_a_token_this_service_did_not_hand_out_is_refused(app: FastAPI, token: str) -> None:
    answer = call(app, "GET", "/ssl_for_saas/list_ssl_jobs", params={"next": token})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "invalid_request", "message": "next is not a token this service handed out"},
    )


class FakeAcm:
    """ACM's ListCertificates, two pages of it."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> FakeAcm:
        assert operation == "list_certificates"
        return self

    def paginate(self, **parameters: Any) -> list[dict[str, Any]]:
        self.asked.append(parameters)
        full = {
            "CertificateArn": "arn:1",
            "DomainName": "a.example.com",
            "SubjectAlternativeNameSummaries": ["a.example.com", "b.example.com"],
            "Status": "ISSUED",
            "Type": "IMPORTED",
            "KeyAlgorithm": "EC-prime256v1",
            "NotBefore": datetime(2026, 1, 1, tzinfo=UTC),
            "NotAfter": datetime(2026, 4, 1, tzinfo=UTC),
            "InUse": True,
        }
        return [
            {"CertificateSummaryList": [full]},
            {"CertificateSummaryList": [{"CertificateArn": "arn:2"}]},
        ]


def test_every_certificate_of_every_key_type_is_listed(
    service: Service, supervisor: Supervisor
) -> None:
    acm = FakeAcm()
    faked = replace(service, aws=StandIn({ACM: acm}))
    app = create_app(faked, supervisor=supervisor, watch=False)
    answer = call(app, "GET", "/ssl_for_saas/cert_list")
    assert answer.status_code == 200
    assert acm.asked == [
        {
            "Includes": {
                "keyTypes": [
                    "RSA_1024",
                    "RSA_2048",
                    "RSA_3072",
                    "RSA_4096",
                    "EC_prime256v1",
                    "EC_secp384r1",
                    "EC_secp521r1",
                ]
            }
        }
    ]
    assert answer.json() == [
        {
            "arn": "arn:1",
            "domainName": "a.example.com",
            "subjectAlternativeNames": ["a.example.com", "b.example.com"],
            "status": "ISSUED",
            "type": "IMPORTED",
            "keyAlgorithm": "EC-prime256v1",
            "notBefore": "2026-01-01T00:00:00+00:00",
            "notAfter": "2026-04-01T00:00:00+00:00",
            "inUse": True,
        },
        {
            "arn": "arn:2",
            "domainName": None,
            "subjectAlternativeNames": [],
            "status": None,
            "type": None,
            "keyAlgorithm": None,
            "notBefore": None,
            "notAfter": None,
            "inUse": None,
        },
    ]


# -- deletion -----------------------------------------------------------------------------


def test_deletion_is_accepted_while_a_step_holds_the_job(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    lease = Lease(owner="another instance", expires=9e9)
    stored(service, phase=Phase.RUNNING, lease=lease)
    answer = call(app, "DELETE", f"/ssl_for_saas/jobs/{JOB}")
    assert (answer.status_code, answer.json()) == (202, {"jobId": JOB, "status": "DESTROYING"})
    record = service.store.get(JOB)
    assert record is not None
    assert (record.phase, record.lease) == (Phase.DESTROYING, lease)
    assert launched == [JOB]


@pytest.mark.parametrize("job", [UNKNOWN, "not-a-job-id"])
def test_deleting_a_job_that_is_not_there_is_not_found(
    app: FastAPI, launched: list[str], job: str
) -> None:
    answer = call(app, "DELETE", f"/ssl_for_saas/jobs/{job}")
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    assert launched == []


# -- failures -----------------------------------------------------------------------------


def test_aws_out_of_reach_is_a_503_naming_the_call(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def out_of_reach(*_: object) -> None:
        raise THROTTLED

    monkeypatch.setattr(job_calls, "status", out_of_reach)
    answer = call(app, "GET", f"/ssl_for_saas/get_ssl_job?jobId={JOB}")
    assert (answer.status_code, answer.json()) == (
        503,
        {
            "error": "aws_unavailable",
            "message": "acm DescribeCertificate failed: throttled past the retries",
            "service": "acm",
            "operation": "DescribeCertificate",
        },
    )
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "acm DescribeCertificate failed: throttled past the retries")
    ]


def test_a_connection_error_from_botocore_is_named_too(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(job_calls, "statuses", unreachable)
    answer = call(app, "GET", "/ssl_for_saas/list_ssl_jobs")
    assert answer.status_code == 503
    assert answer.json()["message"].endswith("failed: the endpoint could not be reached")
    assert "127.0.0.1" not in answer.text


def test_anything_unexpected_is_a_500_without_its_detail(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a secret detail")

    monkeypatch.setattr(job_calls, "status", broken)
    answer = call(app, "GET", f"/ssl_for_saas/get_ssl_job?jobId={JOB}")
    assert (answer.status_code, answer.json()) == (
        500,
        {"error": "internal", "message": "the request failed unexpectedly; see the server log"},
    )
    assert "secret" not in answer.text
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "unexpected RuntimeError")
    ]


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            RequestRejected([Problem("jobId", "is not a job id")]),
            400,
            {
                "error": "invalid_request",
                "message": "the request was refused",
                "errors": [{"location": "jobId", "message": "is not a job id"}],
            },
        ),
        (UnknownJob(JOB), 404, NOT_FOUND),
        (
            UnknownItem("pemList[7]", JOB),
            404,
            {"error": "not_found", "message": "the job has no item with this key"},
        ),
        (
            JobConflict("a step of the job is running; retry once it ends"),
            409,
            {"error": "conflict", "message": "a step of the job is running; retry once it ends"},
        ),
        (
            IdempotencyConflict(),
            409,
            {"error": "idempotency_conflict", "message": str(IdempotencyConflict())},
        ),
        (
            THROTTLED,
            503,
            {
                "error": "aws_unavailable",
                "message": "acm DescribeCertificate failed: throttled past the retries",
                "service": "acm",
                "operation": "DescribeCertificate",
            },
        ),
        (
            BadPageToken("a secret token"),
            400,
            {"error": "invalid_request", "message": "next is not a token this service handed out"},
        ),
        (TooLarge(MAX_BODY), 413, TOO_LARGE),
        (
            DamagedJob(JOB, "record", "/a/secret/path: EIO"),
            500,
            {"error": "internal", "message": "the request failed unexpectedly; see the server log"},
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_every_error_of_the_project_is_answered_as_its_class_says(
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: ProvisioningError,
    status: int,
    body: dict[str, Any],
) -> None:
    """One handler for the whole tree: raised from a route's thread, each
    answers its status and public body; a 500 quotes nothing of the error
    and logs only its class, a 503 logs what failed."""

    def failing(*_: object) -> None:
        raise error

    monkeypatch.setattr(job_calls, "status", failing)
    answer = call(app, "GET", f"/ssl_for_saas/get_ssl_job?jobId={JOB}")
    assert (answer.status_code, answer.json()) == (status, body)
    assert "secret" not in answer.text
    logged = [(r.levelno, r.getMessage()) for r in caplog.records]
    if status == 500:
        assert logged == [(logging.ERROR, "unexpected DamagedJob")]
    elif status == 503:
        assert logged == [(logging.WARNING, str(error))]
    else:
        assert logged == []


# -- the watcher ----------------------------------------------------------------------------


@pytest.mark.parametrize("watch", [True, False, None])
def test_the_server_runs_the_watcher_in_the_background_until_it_stops(
    service: Service, supervisor: Supervisor, watch: bool | None
) -> None:
    """It watches unless told not to (None: as a server starts by default)."""
    runs: list[tuple[threading.Thread, threading.Event]] = []

    def run_forever(stop: threading.Event) -> None:
        runs.append((threading.current_thread(), stop))
        stop.wait(10)

    supervisor.run_forever = run_forever  # type: ignore[method-assign]
    if watch is None:
        app = create_app(service, supervisor=supervisor)
    else:
        app = create_app(service, supervisor=supervisor, watch=watch)

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.05)
            assert all(not stop.is_set() for _, stop in runs)

    asyncio.run(serve())
    if watch is False:
        assert runs == []
        return
    [(thread, stop)] = runs
    thread.join(5)
    assert stop.is_set() and not thread.is_alive()
    assert thread.daemon  # never keeps a stopping server alive


# -- the API document -----------------------------------------------------------------------


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


OPERATIONS = {
    ("post", "/ssl_for_saas"): (["200", "400", "401", "409", "413", "503"], ref("SubmitAnswer")),
    ("post", "/ssl_for_saas/preview"): (["200", "400", "401", "413", "503"], ref("PreviewAnswer")),
    ("get", "/ssl_for_saas/get_ssl_job"): (
        ["200", "400", "401", "404", "503"],
        ref("JobRecordOut"),
    ),
    ("get", "/ssl_for_saas/list_ssl_jobs"): (["200", "400", "401", "503"], None),
    ("get", "/ssl_for_saas/list_cloudfront_arn_with_jobId"): (
        ["200", "400", "401", "404", "503"],
        None,
    ),
    ("get", "/ssl_for_saas/list_ssl_certification_with_jobId"): (
        ["200", "400", "401", "404", "503"],
        None,
    ),
    ("get", "/ssl_for_saas/cert_list"): (["200", "401", "503"], None),
    ("delete", "/ssl_for_saas/jobs/{job_id}"): (["202", "401", "404", "503"], ref("DeleteAnswer")),
    ("post", "/ssl_for_saas/jobs/{job_id}/retry"): (
        ["202", "401", "404", "409", "503"],
        ref("RetryAnswer"),
    ),
    ("put", "/ssl_for_saas/jobs/{job_id}/items/{key}/certificate"): (
        ["202", "400", "401", "404", "409", "413", "503"],
        ref("RenewAnswer"),
    ),
}


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [value["$ref"]] if "$ref" in value else [r for v in value.values() for r in refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in refs(v)]
    return []


def test_the_document_describes_each_route_behind_the_key(app: FastAPI) -> None:
    answer = call(app, "GET", "/ssl_for_saas/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["info"] == {"title": "SSL for SaaS", "version": "1"}
    assert document["components"]["securitySchemes"] == {
        "APIKeyHeader": {
            "type": "apiKey",
            "description": "the service's key",
            "in": "header",
            "name": "x-api-key",
        }
    }
    found = {
        (method, path): op for path, ops in document["paths"].items() for method, op in ops.items()
    }
    assert sorted(found) == sorted(OPERATIONS)
    for operation, (codes, answered) in OPERATIONS.items():
        described = found[operation]
        assert sorted(described["responses"]) == codes, operation
        assert described["security"] == [{"APIKeyHeader": []}]
        if answered:
            success = described["responses"][codes[0]]["content"]["application/json"]["schema"]
            assert success == answered, operation
    for operation in [("post", "/ssl_for_saas"), ("post", "/ssl_for_saas/preview")]:
        body = found[operation]["requestBody"]["content"]["application/json"]
        assert body["schema"] == ref("SslRequestIn")
    renewal = found[("put", "/ssl_for_saas/jobs/{job_id}/items/{key}/certificate")]
    assert renewal["requestBody"]["content"]["application/json"]["schema"] == ref(
        "CertificateFilesIn"
    )

    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert {"SslRequestIn", "CnameItemIn", "PemItemIn", "ExistingCfInfoIn"} <= set(schemas)
    for target in refs(document):
        assert target.removeprefix("#/components/schemas/") in schemas, target
    assert app.openapi() is app.openapi()  # made once
