"""The HTTP shim: the published ``/ssl_for_saas`` routes, plus deleting a job
and previewing a request, the API's OpenAPI document and the operator
console (``/console/``).

Handlers never block the event loop: everything that touches disk, AWS or a
process runs in a thread. Errors are JSON with a stable shape — never a
traceback or raw exception text. AWS out of reach, or throttling past the
retries, is a 503 naming the service and operation that failed.

Every route declares its answer's model (``provisioning.api.models``):
FastAPI checks each answer against it, and the OpenAPI document, served
behind the key like everything else that shows data, describes exactly
what is sent.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException

from provisioning import aws_clients
from provisioning.actions import job_calls, renewal, retry
from provisioning.api import console
from provisioning.api.models import (
    ApiErrorBody,
    CertificateFilesIn,
    CertificateSummary,
    DeleteAnswer,
    JobPage,
    JobRecordOut,
    PreviewAnswer,
    RenewAnswer,
    RetryAnswer,
    SslRequestIn,
    SubmitAnswer,
)
from provisioning.errors import RequestRejected
from provisioning.events import outbox
from provisioning.jobs.store import BadPageToken
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor

log = logging.getLogger("provisioning.api.app")
MAX_BODY = 8 * 1024 * 1024  # 100 items with full chains are well under 2 MiB


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message, **extra}


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


class Api(FastAPI):
    """The document describes what the handlers do: the request body they
    read themselves, and a refused query as the 400 it is, not FastAPI's
    422."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()
            for path in document["paths"].values():
                for operation in path.values():
                    operation["responses"].pop("422", None)
            schemas = document["components"]["schemas"]
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            _, request = models_json_schema(
                [(SslRequestIn, "validation"), (CertificateFilesIn, "validation")],
                ref_template="#/components/schemas/{model}",
            )
            schemas.update(request["$defs"])
            self.openapi_schema = document
        return self.openapi_schema


def create_app(
    service: Service, supervisor: Supervisor | None = None, watch: bool = True
) -> FastAPI:
    """``watch`` runs the supervisor's poll loop in the server; tests turn it
    off to drive ticks themselves."""
    key = service.settings.required_api_key()
    workers = supervisor or Supervisor(service)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        watcher = threading.Thread(target=workers.run_forever, args=(stop,), daemon=True)
        if watch:
            watcher.start()
            outbox.start(service, stop)
        yield
        stop.set()

    api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="the service's key")

    def authorised(x_api_key: str | None = Security(api_key)) -> None:
        if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), key.encode()):
            raise ApiError(401, "unauthorized", "a valid x-api-key header is required")

    # No interactive docs: FastAPI would serve them outside the API-key
    # check. The document itself is a route behind the key (below).
    app = Api(
        title="SSL for SaaS",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # The console's pages are shells without data (a browser can't send the
    # key with a page request); what they show comes from these routes.
    routes = APIRouter(dependencies=[Security(authorised)], responses=UNAUTHORISED)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def bad_query(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()
        ]
        return JSONResponse(
            {"error": "invalid_request", "message": "the request was refused", "errors": errors},
            status_code=400,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http_error", "message": str(error.detail)}, status_code=error.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.error("unexpected %s", type(error).__name__)
        return JSONResponse(
            {"error": "internal", "message": "the request failed unexpectedly; see the server log"},
            status_code=500,
        )

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            raise ApiError(413, "too_large", f"the body exceeds {MAX_BODY} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise ApiError(413, "too_large", f"the body exceeds {MAX_BODY} bytes")
        return body

    async def guarded(call: Callable[..., Any], *args: Any) -> Any:
        try:
            return await run_in_threadpool(aws_clients.named, call, *args)
        except aws_clients.AwsFailure as trouble:
            log.warning("%s", trouble)
            raise ApiError(
                503,
                "aws_unavailable",
                str(trouble),
                service=trouble.service,
                operation=trouble.operation,
            ) from None
        except RequestRejected as rejected:
            errors = [{"location": p.location, "message": p.message} for p in rejected.problems]
            raise ApiError(
                400, "invalid_request", "the request was refused", errors=errors
            ) from None
        except job_calls.UnknownJob:
            raise ApiError(404, "not_found", "no job has this jobId") from None
        except job_calls.IdempotencyConflict as conflict:
            raise ApiError(409, "idempotency_conflict", str(conflict)) from None
        except job_calls.JobConflict as conflict:
            raise ApiError(409, "conflict", str(conflict)) from None
        except renewal.UnknownItem:
            raise ApiError(404, "not_found", "the job has no item with this key") from None
        except BadPageToken:
            raise ApiError(
                400, "invalid_request", "next is not a token this service handed out"
            ) from None

    @routes.post(
        "/ssl_for_saas",
        response_model=SubmitAnswer,
        responses={**REFUSED, **KEY_REUSED, **TOO_LARGE, **AWS_DOWN},
        openapi_extra={**REQUEST_BODY, **IDEMPOTENCY_KEY},
    )
    async def submit(request: Request) -> dict[str, Any]:
        body = await body_of(request)
        key = request.headers.get(job_calls.IDEMPOTENCY_HEADER)
        job_id = await guarded(job_calls.submit, service, body, workers.launch, key)
        return {"statusCode": 200, "body": job_id}

    @routes.post(
        "/ssl_for_saas/preview",
        response_model=PreviewAnswer,
        responses={**REFUSED, **TOO_LARGE, **AWS_DOWN},
        openapi_extra=REQUEST_BODY,
    )
    async def preview(request: Request) -> dict[str, Any]:
        return await guarded(job_calls.preview, service, await body_of(request))

    @routes.get(
        "/ssl_for_saas/get_ssl_job",
        response_model=JobRecordOut,
        response_model_exclude_unset=True,
        responses={**REFUSED, **UNKNOWN_JOB, **AWS_DOWN},
    )
    async def get_ssl_job(jobId: str = Query(...)) -> dict[str, Any]:
        return await guarded(job_calls.status, service, jobId)

    @routes.get(
        "/ssl_for_saas/list_ssl_jobs",
        response_model=list[JobRecordOut] | JobPage,
        response_model_exclude_unset=True,
        responses={**REFUSED, **AWS_DOWN},
    )
    async def list_ssl_jobs(
        limit: int | None = Query(default=None, ge=1, le=job_calls.DEFAULT_PAGE),
        next: str | None = Query(default=None, max_length=2048),
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """The published answer (a list) unless the caller pages: then one
        page and the token for the next."""
        found, following = await guarded(
            job_calls.statuses, service, limit or job_calls.DEFAULT_PAGE, next
        )
        if limit is None and next is None:
            return found
        return {"jobs": found, "next": following}

    @routes.get(
        "/ssl_for_saas/list_cloudfront_arn_with_jobId",
        response_model=list[str],
        responses={**REFUSED, **UNKNOWN_JOB, **AWS_DOWN},
    )
    async def distribution_arns(jobId: str = Query(...)) -> list[str]:
        return (await guarded(job_calls.status, service, jobId))["distList"]

    @routes.get(
        "/ssl_for_saas/list_ssl_certification_with_jobId",
        response_model=list[str],
        responses={**REFUSED, **UNKNOWN_JOB, **AWS_DOWN},
    )
    async def certificate_arns(jobId: str = Query(...)) -> list[str]:
        return (await guarded(job_calls.status, service, jobId))["certList"]

    @routes.get(
        "/ssl_for_saas/cert_list",
        response_model=list[CertificateSummary],
        responses=AWS_DOWN,
    )
    async def cert_list() -> list[dict[str, Any]]:
        return await guarded(certificate_summaries)

    @routes.delete(
        "/ssl_for_saas/jobs/{job_id}",
        status_code=202,
        response_model=DeleteAnswer,
        responses={**UNKNOWN_JOB, **AWS_DOWN},
    )
    async def delete_job(job_id: str) -> dict[str, Any]:
        """Accepted whatever the job is doing: a running step destroys it as
        soon as its update ends."""
        await guarded(job_calls.request_destroy, service, job_id)
        await run_in_threadpool(workers.launch, job_id)
        return {"jobId": job_id, "status": "DESTROYING"}

    @routes.post(
        "/ssl_for_saas/jobs/{job_id}/retry",
        status_code=202,
        response_model=RetryAnswer,
        responses={**UNKNOWN_JOB, **BUSY, **AWS_DOWN},
    )
    async def retry_job(job_id: str) -> dict[str, Any]:
        """Runs the job's failed items again (a failed certificate is made
        anew), leaving every other item as it is."""
        retried = await guarded(retry.retry, service, job_id, workers.launch)
        return {"jobId": job_id, "retried": retried, "status": "QUEUED"}

    @routes.put(
        "/ssl_for_saas/jobs/{job_id}/items/{key}/certificate",
        status_code=202,
        response_model=RenewAnswer,
        responses={**REFUSED, **UNKNOWN_JOB, **BUSY, **TOO_LARGE, **AWS_DOWN},
        openapi_extra=RENEWAL_BODY,
    )
    async def renew_certificate(job_id: str, key: str, request: Request) -> dict[str, Any]:
        """Re-imports an imported item's certificate in place (same ARN, the
        distribution untouched): CertPem, PrivateKeyPem and ChainPem for the
        item's names."""
        body = await body_of(request)
        return await guarded(renewal.renew, service, job_id, key, body, workers.launch)

    @routes.get("/ssl_for_saas/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    app.include_router(routes)
    console.attach(app)
    return app


def certificate_summaries() -> list[dict[str, Any]]:
    """Every certificate in the region CloudFront uses, all pages of them."""
    acm = aws_clients.acm()
    pages = acm.get_paginator("list_certificates").paginate(
        Includes={
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
    )
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
        for page in pages
        for summary in page["CertificateSummaryList"]
    ]


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
