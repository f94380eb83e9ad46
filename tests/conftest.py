"""Fixtures shared by every test: a moto server on loopback standing in for AWS."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from provisioning.sandbox.moto_server import FAKE_CREDENTIALS, moto_server, reset

pytest_plugins = ["tests.api_fixtures"]  # the app's fixtures, for the tests that drive it


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
