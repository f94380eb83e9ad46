"""The published ``/ssl_for_saas`` routes, plus deleting a job, retrying
it, renewing an item's certificate, previewing a request, and the API's
OpenAPI document: one module-level router, every route behind the API key.

Handlers are plain functions taking what they need as typed dependencies
(``provisioning.api.deps``). They never block the event loop: everything
that touches disk, AWS or a process runs in a thread. They catch nothing:
an error of the project is answered by the app's one handler, from its
class's status, code and public body (``provisioning.errors``).

Every route declares its answer's model (``provisioning.api.models``):
FastAPI checks each answer against it, and the OpenAPI document describes
exactly what is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Security
from fastapi.concurrency import run_in_threadpool

from provisioning import aws_clients
from provisioning.actions import job_calls, renewal, retry
from provisioning.api.deps import (
    MAX_BODY,
    BodyDep,
    IdempotencyKeyDep,
    ServiceDep,
    SupervisorDep,
    authorised,
)
from provisioning.api.models import (
    ApiErrorBody,
    CertificateSummary,
    DeleteAnswer,
    JobPage,
    JobRecordOut,
    PreviewAnswer,
    RenewAnswer,
    RetryAnswer,
    SubmitAnswer,
)
from provisioning.aws_clients import AwsClients

# Error answers each kind of route can give, for the document.
UNAUTHORISED = {401: {"model": ApiErrorBody, "description": "no valid x-api-key header"}}
REFUSED = {400: {"model": ApiErrorBody, "description": "the request was refused; every error"}}
UNKNOWN_JOB = {404: {"model": ApiErrorBody, "description": "no job has this jobId"}}
TOO_LARGE = {413: {"model": ApiErrorBody, "description": f"the body exceeds {MAX_BODY} bytes"}}
KEY_REUSED = {
    409: {
        "model": ApiErrorBody,
        "description": f"the {job_calls.IDEMPOTENCY_HEADER} was used for another request "
        "(a different body) within the last 24 hours",
    }
}
BUSY = {409: {"model": ApiErrorBody, "description": "the job can't do this now; says why"}}
AWS_DOWN = {
    503: {"model": ApiErrorBody, "description": "AWS out of reach, or throttling past the retries"}
}
# The published "create one" example, as it is normalised.
EXAMPLE_REQUEST = {
    "acm_op": "create",
    "auto_creation": "true",
    "cnameList": [
        {
            "domainName": "yourdomainname.com",
            "sanList": ["yourdomainname.com", "yourdomainnamealias1.com"],
            "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5", "config_version_id": "1"},
        }
    ],
}
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "the published request; trailing commas (as in its examples) are accepted",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/SslRequestIn"},
                "examples": {"create-one": {"value": EXAMPLE_REQUEST}},
            }
        },
    }
}

RENEWAL_BODY = {
    "requestBody": {
        "required": True,
        "description": "the new certificate for the item's names",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CertificateFilesIn"}}
        },
    }
}

# The submission checks the key, so that the command line and the API refuse
# the same keys the same way; the document only says what it takes.
IDEMPOTENCY_KEY = {
    "parameters": [
        {
            "name": job_calls.IDEMPOTENCY_HEADER,
            "in": "header",
            "required": False,
            "description": "the same key with the same body (byte for byte) within 24 hours "
            "answers the first submission's jobId instead of making a second job, even once "
            "that job is deleted; with another body, 409",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": f"^{job_calls.KEY_PATTERN}$",
            },
        }
    ]
}


# The console's pages are shells without data (a browser can't send the key
# with a page request); what they show comes from these routes.
router = APIRouter(dependencies=[Security(authorised)], responses=UNAUTHORISED)


async def threaded(call: Callable[..., Any], *args: Any) -> Any:
    """``call`` in a worker thread, its AWS calls named if they fail."""
    return await run_in_threadpool(aws_clients.named, call, *args)


@router.post(
    "/ssl_for_saas",
    response_model=SubmitAnswer,
    responses={**REFUSED, **KEY_REUSED, **TOO_LARGE, **AWS_DOWN},
    openapi_extra={**REQUEST_BODY, **IDEMPOTENCY_KEY},
)
async def submit(
    body: BodyDep, key: IdempotencyKeyDep, service: ServiceDep, workers: SupervisorDep
) -> dict[str, Any]:
    job_id = await threaded(job_calls.submit, service, body, workers.launch, key)
    return {"statusCode": 200, "body": job_id}


@router.post(
    "/ssl_for_saas/preview",
    response_model=PreviewAnswer,
    responses={**REFUSED, **TOO_LARGE, **AWS_DOWN},
    openapi_extra=REQUEST_BODY,
)
async def preview(body: BodyDep, service: ServiceDep) -> dict[str, Any]:
    return await threaded(job_calls.preview, service, body)


@router.get(
    "/ssl_for_saas/get_ssl_job",
    response_model=JobRecordOut,
    response_model_exclude_unset=True,
    responses={**REFUSED, **UNKNOWN_JOB, **AWS_DOWN},
)
async def get_ssl_job(service: ServiceDep, jobId: str = Query(...)) -> dict[str, Any]:
    return await threaded(job_calls.status, service, jobId)


@router.get(
    "/ssl_for_saas/list_ssl_jobs",
    response_model=list[JobRecordOut] | JobPage,
    response_model_exclude_unset=True,
    responses={**REFUSED, **AWS_DOWN},
)
async def list_ssl_jobs(
    service: ServiceDep,
    limit: int | None = Query(default=None, ge=1, le=job_calls.DEFAULT_PAGE),
    next: str | None = Query(default=None, max_length=2048),
) -> list[dict[str, Any]] | dict[str, Any]:
    """The published answer (a list) unless the caller pages: then one
    page and the token for the next."""
    found, following = await threaded(
        job_calls.statuses, service, limit or job_calls.DEFAULT_PAGE, next
    )
    if limit is None and next is None:
        return found
    return {"jobs": found, "next": following}


@router.get(
    "/ssl_for_saas/list_cloudfront_arn_with_jobId",
    response_model=list[str],
    responses={**REFUSED, **UNKNOWN_JOB, **AWS_DOWN},
)
async def distribution_arns(service: ServiceDep, jobId: str = Query(...)) -> list[str]:
    return (await threaded(job_calls.status, service, jobId))["distList"]


@router.get(
    "/ssl_for_saas/list_ssl_certification_with_jobId",
    response_model=list[str],
    responses={**REFUSED, **UNKNOWN_JOB, **AWS_DOWN},
)
async def certificate_arns(service: ServiceDep, jobId: str = Query(...)) -> list[str]:
    return (await threaded(job_calls.status, service, jobId))["certList"]


@router.get(
    "/ssl_for_saas/cert_list",
    response_model=list[CertificateSummary],
    responses=AWS_DOWN,
)
async def cert_list(service: ServiceDep) -> list[dict[str, Any]]:
    return await threaded(certificate_summaries, service.aws)


@router.delete(
    "/ssl_for_saas/jobs/{job_id}",
    status_code=202,
    response_model=DeleteAnswer,
    responses={**UNKNOWN_JOB, **AWS_DOWN},
)
async def delete_job(job_id: str, service: ServiceDep, workers: SupervisorDep) -> dict[str, Any]:
    """Accepted whatever the job is doing: a running step destroys it as
    soon as its update ends."""
    await threaded(job_calls.request_destroy, service, job_id)
    await run_in_threadpool(workers.launch, job_id)
    return {"jobId": job_id, "status": "DESTROYING"}


@router.post(
    "/ssl_for_saas/jobs/{job_id}/retry",
    status_code=202,
    response_model=RetryAnswer,
    responses={**UNKNOWN_JOB, **BUSY, **AWS_DOWN},
)
async def retry_job(job_id: str, service: ServiceDep, workers: SupervisorDep) -> dict[str, Any]:
    """Runs the job's failed items again (a failed certificate is made
    anew), leaving every other item as it is."""
    retried = await threaded(retry.retry, service, job_id, workers.launch)
    return {"jobId": job_id, "retried": retried, "status": "QUEUED"}


@router.put(
    "/ssl_for_saas/jobs/{job_id}/items/{key}/certificate",
    status_code=202,
    response_model=RenewAnswer,
    responses={**REFUSED, **UNKNOWN_JOB, **BUSY, **TOO_LARGE, **AWS_DOWN},
    openapi_extra=RENEWAL_BODY,
)
async def renew_certificate(
    job_id: str, key: str, body: BodyDep, service: ServiceDep, workers: SupervisorDep
) -> dict[str, Any]:
    """Re-imports an imported item's certificate in place (same ARN, the
    distribution untouched): CertPem, PrivateKeyPem and ChainPem for the
    item's names."""
    return await threaded(renewal.renew, service, job_id, key, body, workers.launch)


@router.get("/ssl_for_saas/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    document: dict[str, Any] = request.app.openapi()
    return document


def certificate_summaries(aws: AwsClients) -> list[dict[str, Any]]:
    """Every certificate in the region CloudFront uses, all pages of them."""
    acm = aws.acm()
    return [
        {
            "arn": summary["CertificateArn"],
            "domainName": summary.get("DomainName"),
            "subjectAlternativeNames": summary.get("SubjectAlternativeNameSummaries", []),
            "status": summary.get("Status"),
            "type": summary.get("Type"),
            "keyAlgorithm": summary.get("KeyAlgorithm"),
            "notBefore": iso(summary.get("NotBefore")),
            "notAfter": iso(summary.get("NotAfter")),
            "inUse": summary.get("InUse"),
        }
        for summary in aws_clients.list_certificates(acm)
    ]


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
