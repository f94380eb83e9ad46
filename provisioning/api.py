"""The HTTP shim: the published ``/ssl_for_saas`` routes, plus deleting a job
and previewing a request.

Handlers never block the event loop: everything that touches disk, AWS or a
process runs in a thread. Errors are JSON with a stable shape — never a
traceback or raw exception text.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from provisioning import aws_clients, jobs
from provisioning.errors import RequestRejected
from provisioning.job_store import BadPageToken
from provisioning.service import Service
from provisioning.supervisor import Supervisor

log = logging.getLogger("provisioning.api")
MAX_BODY = 8 * 1024 * 1024  # 100 items with full chains are well under 2 MiB


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message, **extra}


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
        yield
        stop.set()

    def authorised(x_api_key: str | None = Header(default=None)) -> None:
        if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), key.encode()):
            raise ApiError(401, "unauthorized", "a valid x-api-key header is required")

    # No interactive docs: FastAPI serves them outside the API-key check.
    app = FastAPI(
        title="SSL for SaaS",
        lifespan=lifespan,
        dependencies=[Depends(authorised)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body, status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def bad_query(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()
        ]
        return JSONResponse({"error": "invalid_request", "errors": errors}, status_code=400)

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
            return await run_in_threadpool(call, *args)
        except RequestRejected as rejected:
            errors = [{"location": p.location, "message": p.message} for p in rejected.problems]
            raise ApiError(
                400, "invalid_request", "the request was refused", errors=errors
            ) from None
        except jobs.UnknownJob:
            raise ApiError(404, "not_found", "no job has this jobId") from None
        except BadPageToken:
            raise ApiError(
                400, "invalid_request", "next is not a token this service handed out"
            ) from None

    @app.post("/ssl_for_saas")
    async def submit(request: Request) -> dict[str, Any]:
        body = await body_of(request)
        job_id = await guarded(jobs.submit, service, body, workers.launch)
        return {"statusCode": 200, "body": job_id}

    @app.post("/ssl_for_saas/preview")
    async def preview(request: Request) -> dict[str, Any]:
        return await guarded(jobs.preview, service, await body_of(request))

    @app.get("/ssl_for_saas/get_ssl_job")
    async def get_ssl_job(jobId: str = Query(...)) -> dict[str, Any]:
        return await guarded(jobs.status, service, jobId)

    @app.get("/ssl_for_saas/list_ssl_jobs", response_model=None)
    async def list_ssl_jobs(
        limit: int | None = Query(default=None, ge=1, le=jobs.DEFAULT_PAGE),
        next: str | None = Query(default=None, max_length=2048),
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """The published answer (a list) unless the caller pages: then one
        page and the token for the next."""
        found, following = await guarded(jobs.statuses, service, limit or jobs.DEFAULT_PAGE, next)
        if limit is None and next is None:
            return found
        return {"jobs": found, "next": following}

    @app.get("/ssl_for_saas/list_cloudfront_arn_with_jobId")
    async def distribution_arns(jobId: str = Query(...)) -> list[str]:
        return (await guarded(jobs.status, service, jobId))["distList"]

    @app.get("/ssl_for_saas/list_ssl_certification_with_jobId")
    async def certificate_arns(jobId: str = Query(...)) -> list[str]:
        return (await guarded(jobs.status, service, jobId))["certList"]

    @app.get("/ssl_for_saas/cert_list")
    async def cert_list() -> list[dict[str, Any]]:
        return await guarded(certificate_summaries)

    @app.delete("/ssl_for_saas/jobs/{job_id}", status_code=202)
    async def delete_job(job_id: str) -> dict[str, Any]:
        """Accepted whatever the job is doing: a running step destroys it as
        soon as its update ends."""
        await guarded(jobs.request_destroy, service, job_id)
        await run_in_threadpool(workers.launch, job_id)
        return {"jobId": job_id, "status": "DESTROYING"}

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
            "notBefore": summary.get("NotBefore"),
            "notAfter": summary.get("NotAfter"),
            "inUse": summary.get("InUse"),
        }
        for page in pages
        for summary in page["CertificateSummaryList"]
    ]
