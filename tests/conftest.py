"""Fixtures shared by every test: a moto server on loopback standing in for
AWS, the service on local defaults (its settings the one thing a module
changes), a job store of each kind, and the HTTP app with a supervisor whose
launches and step processes are recorded, never run."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from provisioning.api.app import create_app
from provisioning.jobs.dynamodb_store import DynamoDBJobStore
from provisioning.jobs.local_store import LocalJobStore
from provisioning.jobs.store import JobStore
from provisioning.sandbox.moto_server import FAKE_CREDENTIALS, moto_server, reset
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.worker import supervisor as watcher
from provisioning.worker.supervisor import Supervisor
from tests.clients import PROCESS
from tests.helpers import KEY, PASSPHRASE

_tables = itertools.count(1)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One server per session, pointed to by the standard AWS variables so
    boto3 and child processes find it without extra plumbing."""
    saved = {k: os.environ.get(k) for k in [*FAKE_CREDENTIALS, "AWS_ENDPOINT_URL"]}
    with moto_server() as endpoint:
        os.environ.update(FAKE_CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        try:
            yield endpoint
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def aws(moto_endpoint: str) -> str:
    """An empty moto account for this test; yields the endpoint URL."""
    reset(moto_endpoint)
    return moto_endpoint


@pytest.fixture(autouse=True)
def fresh_event_loop() -> Iterator[None]:
    """Pulumi's test mocks run on the main thread's event loop, which an
    earlier test's ``asyncio.run`` leaves unset: each test gets its own."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


# -- the service -------------------------------------------------------------


@pytest.fixture
def settings(aws: str, tmp_path: Path) -> Settings:
    """The service's configuration: local defaults under ``tmp_path``, AWS an
    empty moto account. A module that needs other settings overrides this
    fixture, asking for it and returning a changed copy::

        @pytest.fixture
        def settings(settings: Settings) -> Settings:
            return settings.model_copy(update={"lease_seconds": 3})
    """
    return Settings(
        state_dir=tmp_path,
        api_key=SecretStr(KEY),
        passphrase=SecretStr(PASSPHRASE),
        poll_seconds=1,
    )


@pytest.fixture
def service(settings: Settings) -> Service:
    """The service as it starts in production, from ``settings``, with the
    test process's AWS clients (a module wanting stand-ins replaces them:
    ``dataclasses.replace(service, aws=StandIn(...))``)."""
    return Service.start(settings, PROCESS)


@pytest.fixture(params=["local", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> JobStore:
    """An empty job store of each kind: a test asking for it runs on both.
    The local one is where the service's jobs are (``tmp_path / "jobs"``)."""
    if request.param == "local":
        return LocalJobStore(tmp_path / "jobs")
    request.getfixturevalue("aws")
    return DynamoDBJobStore(f"jobs-{next(_tables)}", PROCESS.client("dynamodb"))


# -- the HTTP app ------------------------------------------------------------


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


@pytest.fixture
def no_event_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of events state their targets and intervals themselves; none
    leak in from the environment."""
    for name in (
        "SSL_SAAS_WEBHOOK_URL",
        "SSL_SAAS_WEBHOOK_SECRET",
        "SSL_SAAS_SNS_TOPIC_ARN",
        "SSL_SAAS_EXPIRY_CHECK_SECONDS",
        "PULUMI_BACKEND_URL",
    ):
        monkeypatch.delenv(name, raising=False)
