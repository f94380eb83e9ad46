"""The HTTP app as unit tests drive it, shared (loaded by tests/conftest.py):
a service on local defaults with moto for AWS, a supervisor whose launches
and step processes are recorded, never run, and the app in front of them."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from provisioning.api.app import create_app
from provisioning.engine.state import Backend, stack_key
from provisioning.jobs.local_store import LocalJobStore
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.worker import supervisor as watcher
from provisioning.worker.supervisor import Supervisor

KEY = "the-api-key"
PASSPHRASE = "unit test passphrase"


@pytest.fixture
def service(aws: str, tmp_path: Path) -> Service:
    settings = Settings(
        state_dir=tmp_path,
        api_key=SecretStr(KEY),
        passphrase=SecretStr(PASSPHRASE),
        poll_seconds=1,
    )
    return Service(settings, LocalJobStore(tmp_path / "jobs"), Backend.of(settings))


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The step processes a supervisor would start: recorded, never run."""
    started: list[list[str]] = []

    def popen(args: list[str], **_: Any) -> SimpleNamespace:
        started.append(args)
        return SimpleNamespace(poll=lambda: None)

    monkeypatch.setattr(
        watcher, "subprocess", SimpleNamespace(Popen=popen, DEVNULL=subprocess.DEVNULL)
    )
    return started


@pytest.fixture
def launched() -> list[str]:
    return []


@pytest.fixture
def supervisor(service: Service, launched: list[str], steps: list[list[str]]) -> Supervisor:
    recorded = Supervisor(service)
    recorded.launch = launched.append  # type: ignore[method-assign]
    return recorded


@pytest.fixture
def app(service: Service, supervisor: Supervisor) -> FastAPI:
    return create_app(service, supervisor=supervisor, watch=False)


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
