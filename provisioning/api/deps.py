"""What the routes take, as typed dependencies: the service and supervisor
the app was made with (kept on ``app.state``), the API-key check, the
request body read within its limit, and the Idempotency-Key header.

A route declares what it needs by type (``service: ServiceDep``) and gets
it from the app serving the request, so routes are plain module-level
functions and one app's state never leaks into another's.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from provisioning.actions import job_calls
from provisioning.errors import TooLarge, Unauthorised
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor

MAX_BODY = 8 * 1024 * 1024  # 100 items with full chains are well under 2 MiB

api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="the service's key")


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def get_supervisor(request: Request) -> Supervisor:
    supervisor: Supervisor = request.app.state.supervisor
    return supervisor


async def authorised(request: Request, x_api_key: Annotated[str | None, Security(api_key)]) -> None:
    """Compared in constant time with the key the app was made with."""
    key: str = request.app.state.api_key
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), key.encode()):
        raise Unauthorised()


async def read_body(request: Request) -> bytes:
    """The body, refused as soon as it is known to exceed MAX_BODY: by its
    declared length, or while it streams in."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(MAX_BODY)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TooLarge(MAX_BODY)
    return body


async def idempotency_key(request: Request) -> str | None:
    """Read from the request, not declared as a header parameter: the
    submission checks the key itself, so that the command line and the API
    refuse the same keys the same way (the document describes it apart)."""
    return request.headers.get(job_calls.IDEMPOTENCY_HEADER)


ServiceDep = Annotated[Service, Depends(get_service)]
SupervisorDep = Annotated[Supervisor, Depends(get_supervisor)]
BodyDep = Annotated[bytes, Depends(read_body)]
IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]
