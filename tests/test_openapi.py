"""The API's OpenAPI document: served behind the key, describing every
route's request and answer, and true to what the routes send: the models
keep the published shapes exactly, and schemathesis, calling every route
with requests generated from the document (valid and invalid), finds no
server error and no answer the document doesn't describe."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from provisioning.actions import job_calls
from provisioning.api import models
from provisioning.api.app import create_app
from provisioning.api.models import JobRecordOut, SslRequestIn
from provisioning.api.routes import EXAMPLE_REQUEST, certificate_summaries
from provisioning.errors import DamagedJob
from provisioning.jobs.published import damaged_status, job_status
from provisioning.jobs.states import Phase
from provisioning.request import contract
from provisioning.sandbox.session import create_templates
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.templates.versions import LocalStore
from provisioning.worker.supervisor import Supervisor
from tests.helpers import KEY
from tests.records import job_record

REQUESTS = Path(__file__).resolve().parents[1] / "requests"
ROUTES = {
    ("POST", "/ssl_for_saas"),
    ("POST", "/ssl_for_saas/preview"),
    ("GET", "/ssl_for_saas/get_ssl_job"),
    ("GET", "/ssl_for_saas/list_ssl_jobs"),
    ("GET", "/ssl_for_saas/cert_list"),
    ("GET", "/ssl_for_saas/list_cloudfront_arn_with_jobId"),
    ("GET", "/ssl_for_saas/list_ssl_certification_with_jobId"),
    ("DELETE", "/ssl_for_saas/jobs/{job_id}"),
    ("POST", "/ssl_for_saas/jobs/{job_id}/retry"),
    ("PUT", "/ssl_for_saas/jobs/{job_id}/items/{key}/certificate"),
}


class Idle(Supervisor):
    """Starts no step: these tests look at the API, not at jobs running."""

    def launch(self, job_id: str) -> None:
        return None


@pytest.fixture(name="settings")  # the name hypothesis's settings has in this module
def with_templates(aws: str, settings: Settings) -> Settings:
    """The service's settings, with the example templates in moto."""
    create_templates(aws, LocalStore(Path(settings.config_store_url)))
    return settings


@pytest.fixture
def app(service: Service) -> FastAPI:
    return create_app(service, Idle(service), watch=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"x-api-key": KEY}) as http:
        yield http


def test_document_is_behind_the_key_and_no_docs_are_served(app: FastAPI) -> None:
    with TestClient(app) as anonymous:
        refused = anonymous.get("/ssl_for_saas/openapi.json")
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
        wrong = anonymous.get("/ssl_for_saas/openapi.json", headers={"x-api-key": "nope"})
        assert wrong.status_code == 401
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert anonymous.get(path, headers={"x-api-key": KEY}).status_code == 404


def typed(schema: dict[str, Any]) -> bool:
    """A model, or a list or union of them, or a string: not "any JSON"."""
    if "$ref" in schema or schema.get("type") == "string":
        return True
    if schema.get("type") == "array":
        return typed(schema["items"])
    return "anyOf" in schema and all(typed(option) for option in schema["anyOf"])


def test_every_route_is_described_with_its_request_and_answers(client: TestClient) -> None:
    document = client.get("/ssl_for_saas/openapi.json").json()
    described = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert described == ROUTES
    assert document["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "the service's key",
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            answers = operation["responses"]
            success = next(code for code in answers if code.startswith("2"))
            assert typed(answers[success]["content"]["application/json"]["schema"]), (method, path)
            assert "401" in answers and "422" not in answers, (method, path)
            assert operation["security"] == [{"APIKeyHeader": []}]
    for path in ("/ssl_for_saas", "/ssl_for_saas/preview"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": "#/components/schemas/SslRequestIn"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert {"SslRequestIn", "CnameItemIn", "PemItemIn", "ExistingCfInfoIn"} <= set(
        document["components"]["schemas"]
    )


def fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_described_request_has_the_contracts_fields() -> None:
    """The document's request model can't drift from the contract the
    service validates with."""
    pairs = [
        (SslRequestIn, contract.SslRequest),
        (models.CnameItemIn, contract.CnameItem),
        (models.PemItemIn, contract.PemItem),
        (models.ExistingCfInfoIn, contract.ExistingCfInfo),
    ]
    for described, validated in pairs:
        assert fields(described) == fields(validated), described.__name__


@pytest.mark.parametrize("example", sorted(p.name for p in REQUESTS.glob("*.json")))
def test_published_examples_fit_the_described_request(example: str) -> None:
    text = (REQUESTS / example).read_text()
    SslRequestIn.model_validate_json(re.sub(r",(\s*[}\]])", r"\1", text))


def outputs(item_key: str, status: str, **more: Any) -> dict[str, Any]:
    return {
        "key": item_key,
        "names": ["a.example.com", "b.example.com"],
        "certificateArn": f"arn:aws:acm:us-east-1:123456789012:certificate/{item_key}",
        "certificateStatus": status,
        "validationRecords": [
            {"name": "_x.a.example.com.", "type": "CNAME", "value": "_y.acm-validations.aws."}
        ],
        "sourceDistributionId": "E195R1W5GIVPF5",
        "configVersion": 1,
        **more,
    }


def shapes() -> list[dict[str, Any]]:
    """Job records as the service computes them, every optional part shown
    at least once: an item's error and checkError, a damaged job."""
    record = job_record(
        "job-1",
        creationDate="2025-01-01T00:00:00+00:00",
        job_input={"acm_op": "create", "cnameList": []},
        items=2,
        phase=Phase.WAITING,
        item_errors={"cnameList[1]": "CNAMEAlreadyExists"},
        check_error="ACM ListCertificates throttled",
    )
    made = {
        "items": [
            outputs(
                "cnameList[0]",
                "PENDING_VALIDATION",
                distributionId="E2ABCDEFGHIJKL",
                distributionArn="arn:aws:cloudfront::123456789012:distribution/E2ABCDEFGHIJKL",
                distributionDomainName="d1.cloudfront.net",
                distributionStatus="InProgress",
                warnings=["a warning"],
            ),
            outputs("cnameList[1]", "FAILED"),
        ]
    }
    damaged = DamagedJob("job-2", "record", "not JSON", "2025-01-02T00:00:00+00:00")
    return [job_status(record, made), job_status(record, None), damaged_status(damaged, None)]


@pytest.mark.parametrize("shown", shapes())
def test_job_record_model_keeps_the_shape_exactly(shown: dict[str, Any]) -> None:
    """Serialised through its model, a record is what the service computed:
    no key added, none lost, none null that was absent."""
    sent = JobRecordOut.model_validate(shown).model_dump(mode="json", exclude_unset=True)
    assert sent == json.loads(json.dumps(shown))


def test_routes_answer_what_the_service_computes(client: TestClient, service: Service) -> None:
    body = json.dumps(EXAMPLE_REQUEST).encode()
    preview = client.post("/ssl_for_saas/preview", content=body)
    assert preview.status_code == 200
    assert preview.json() == job_calls.preview(service, body)

    submitted = client.post("/ssl_for_saas", content=(REQUESTS / "create-two.json").read_bytes())
    assert submitted.status_code == 200
    job_id = submitted.json()["body"]
    assert submitted.json() == {"statusCode": 200, "body": job_id}
    record = client.get("/ssl_for_saas/get_ssl_job", params={"jobId": job_id})
    assert record.json() == json.loads(json.dumps(job_calls.status(service, job_id)))
    listed = client.get("/ssl_for_saas/list_ssl_jobs")
    assert listed.json() == [record.json()]
    paged = client.get("/ssl_for_saas/list_ssl_jobs", params={"limit": 1})
    assert paged.json() == {"jobs": [record.json()], "next": None}
    assert client.get("/ssl_for_saas/cert_list").json() == json.loads(
        json.dumps(certificate_summaries(service.aws))
    )
    deleted = client.delete(f"/ssl_for_saas/jobs/{job_id}")
    assert deleted.status_code == 202
    assert deleted.json() == {"jobId": job_id, "status": "DESTROYING"}


def test_refused_query_is_a_described_400(client: TestClient) -> None:
    missing = client.get("/ssl_for_saas/get_ssl_job")
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    assert missing.json()["errors"][0]["location"] == "query.jobId"
    too_many = client.get("/ssl_for_saas/list_ssl_jobs", params={"limit": 0})
    assert too_many.status_code == 400


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


# Routes whose requests can be made invalid: cert_list takes nothing, and
# any path segment is a job id (unknown: 404). The renewal's body can be.
NEGATABLE = ROUTES - {
    ("GET", "/ssl_for_saas/cert_list"),
    ("DELETE", "/ssl_for_saas/jobs/{job_id}"),
    ("POST", "/ssl_for_saas/jobs/{job_id}/retry"),
}


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [(*route, GenerationMode.POSITIVE) for route in sorted(ROUTES)]
    + [(*route, GenerationMode.NEGATIVE) for route in sorted(NEGATABLE)],
)
def test_generated_requests_find_no_error_and_no_undescribed_answer(
    app: FastAPI, method: str, path: str, mode: GenerationMode
) -> None:
    """Requests that fit the document (positive) and that don't (negative),
    bounded: 25 per route and mode, each answered well within a second."""
    schema = schemathesis.openapi.from_asgi(
        "/ssl_for_saas/openapi.json", app, headers={"x-api-key": KEY}
    )
    operation = schema[path][method]

    @given(case=operation.as_strategy(mode, headers={"x-api-key": KEY}))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answered(case: Any) -> None:
        case.call_and_validate(headers={"x-api-key": KEY}, checks=CHECKS)

    answered()
