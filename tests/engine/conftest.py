"""Fixtures for tests that drive the real Pulumi engine: the CLI, one sandbox
(moto plus the stand-in aws provider) for the session, an empty moto
account for each test, and a fresh service state for tests that run jobs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import moto.settings
import pytest
from pydantic import SecretStr

from provisioning.sandbox.environment import PASSPHRASE, SandboxEnv, sandbox
from provisioning.sandbox.moto_server import reset
from provisioning.sandbox.pulumi_cli import matching_binary, sdk_version
from provisioning.sandbox.session import create_templates
from provisioning.settings import Settings
from provisioning.templates.versions import LocalStore
from tests.engine.jobs_helpers import API_KEY


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


@pytest.fixture
def settings(engine: SandboxEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh service state (jobs, stacks, template versions) on local
    defaults, and the example templates in an empty moto. Only AWS's and the
    engine's own variables are set in the environment; the service's
    configuration is this object (``service`` is tests/conftest.py's, started
    from it)."""
    env = {
        **engine.env,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), engine.env["PATH"]]),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 2)
    state_dir = tmp_path / "state"
    made = Settings(
        state_dir=state_dir,
        backend_url=(state_dir / "pulumi").as_uri(),
        passphrase=SecretStr(PASSPHRASE),
        api_key=SecretStr(API_KEY),
        poll_seconds=1,
        lease_seconds=10,
        stack_config=engine.stack_config,
    )
    create_templates(engine.endpoint, LocalStore(Path(made.config_store_url)))
    return made
