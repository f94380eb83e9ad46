"""Fixtures for tests that drive the real Pulumi engine: the CLI, one sandbox
(moto plus the stand-in aws provider) for the session, and an empty moto
account for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioning.sandbox.environment import SandboxEnv, sandbox
from provisioning.sandbox.moto_server import reset
from provisioning.sandbox.pulumi_cli import matching_binary, sdk_version


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """A missing CLI fails the suite rather than skipping it, so a green run
    always means the engine was exercised."""
    binary = matching_binary(sdk_version())
    if binary is None:
        pytest.fail(
            f"no Pulumi CLI {sdk_version()} found; run scripts/install-pulumi", pytrace=False
        )
    return binary


@pytest.fixture(scope="session")
def sandbox_env(pulumi_cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxEnv]:
    with sandbox(tmp_path_factory.mktemp("pulumi-state")) as env:
        yield env


@pytest.fixture
def engine(sandbox_env: SandboxEnv) -> SandboxEnv:
    """Stacks get unique names, so the state they leave behind in the shared
    backend never meets another test's."""
    reset(sandbox_env.endpoint)
    return sandbox_env
