"""Helpers for tests (the shared fixtures are in tests/conftest.py): the API
key and passphrase the service is set up with, a call to the app, a job's
stack outputs, and a service whose settings a test states itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from provisioning.aws_clients import AwsClients
from provisioning.engine.state import Backend, stack_key
from provisioning.jobs.local_store import LocalJobStore
from provisioning.jobs.store import JobStore
from provisioning.service import Service
from provisioning.settings import Settings
from tests.clients import PROCESS

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


def make_service(
    tmp_path: Path,
    store: JobStore | None = None,
    aws: AwsClients = PROCESS,
    secret: str = "s3cret",
    **settings: Any,
) -> Service:
    """A service on ``settings`` alone (webhooks, a topic, intervals: what a
    test varies within itself), on the local job store unless given
    another, with the process's AWS clients unless given stand-ins."""
    configured = Settings(state_dir=tmp_path, webhook_secret=SecretStr(secret), **settings)
    jobs = store or LocalJobStore(tmp_path / "jobs")
    return Service(configured, jobs, Backend.of(configured, aws), aws)
