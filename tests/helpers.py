"""Helpers for tests that drive the HTTP app (its fixtures, and the
service's, are in tests/conftest.py): the API key and passphrase the
service is set up with, a call to the app, and a job's stack outputs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from provisioning.engine.state import stack_key
from provisioning.service import Service

KEY = "the-api-key"
PASSPHRASE = "unit test passphrase"


def call(
    app: FastAPI, method: str, path: str, key: str | None = KEY, **sent: Any
) -> httpx.Response:
    headers = {"x-api-key": key} if key is not None else {}
    headers |= sent.pop("headers", {})

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.request(method, path, headers=headers, **sent)

    return asyncio.run(go())


def write_outputs(service: Service, job_id: str, outputs: dict[str, Any]) -> None:
    """The job's stack checkpoint holding ``outputs``, as the engine writes it."""
    path = Path(service.backend.root) / stack_key(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    stack = {"type": "pulumi:pulumi:Stack", "outputs": outputs}
    path.write_text(json.dumps({"checkpoint": {"latest": {"resources": [stack]}}}))
