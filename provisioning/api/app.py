"""The HTTP shim: the app around the routes (``provisioning.api.routes``),
the operator console (``/console/``) and how errors are answered.

Errors are JSON with a stable shape — never a traceback or raw exception
text: an error of the project answers its class's status, code and public
body (``provisioning.errors``), all in one handler; AWS out of reach, or
throttling past the retries, is a 503 naming the service and operation
that failed. Anything else is a 500 that says only to see the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException

from provisioning.api import console, routes
from provisioning.api.models import CertificateFilesIn, SslRequestIn
from provisioning.errors import Problem, ProvisioningError, RequestRejected
from provisioning.events import outbox
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor

log = logging.getLogger("provisioning.api.app")


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


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With ``watch``, the supervisor's poll loop and the outbox run in the
    server until it stops."""
    stop = threading.Event()
    if app.state.watch:
        watcher = threading.Thread(
            target=app.state.supervisor.run_forever, args=(stop,), daemon=True
        )
        watcher.start()
        outbox.start(app.state.service, stop)
    yield
    stop.set()


async def provisioning_error(_: Request, error: ProvisioningError) -> JSONResponse:
    """Every error of the project: its class says the status and the body."""
    if error.status == 500:
        log.error("unexpected %s", type(error).__name__)
    elif error.status > 500:
        log.warning("%s", error)
    return JSONResponse(error.body(), status_code=error.status)


async def bad_query(request: Request, error: RequestValidationError) -> JSONResponse:
    """A query FastAPI refuses is a refusal like any other."""
    problems = [Problem(".".join(map(str, e["loc"])), e["msg"]) for e in error.errors()]
    return await provisioning_error(request, RequestRejected(problems))


async def http_error(_: Request, error: HTTPException) -> JSONResponse:
    """No such path, or not with this method."""
    return JSONResponse(
        {"error": "http_error", "message": str(error.detail)}, status_code=error.status_code
    )


async def unexpected(_: Request, error: Exception) -> JSONResponse:
    log.error("unexpected %s", type(error).__name__)
    return JSONResponse(
        {"error": "internal", "message": "the request failed unexpectedly; see the server log"},
        status_code=500,
    )


def create_app(
    service: Service, supervisor: Supervisor | None = None, watch: bool = True
) -> FastAPI:
    """``watch`` runs the supervisor's poll loop in the server; tests turn it
    off to drive ticks themselves."""
    # No interactive docs: FastAPI would serve them outside the API-key
    # check. The document itself is a route behind the key.
    app = Api(
        title="SSL for SaaS",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        exception_handlers={
            ProvisioningError: provisioning_error,
            RequestValidationError: bad_query,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
    app.state.api_key = service.settings.required_api_key()
    app.state.service = service
    app.state.supervisor = supervisor or Supervisor(service)
    app.state.watch = watch
    app.include_router(routes.router)
    console.attach(app)
    return app
