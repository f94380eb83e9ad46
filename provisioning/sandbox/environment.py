"""Everything a sandbox run of the Pulumi engine needs: moto standing in for
AWS, and either the real pulumi-aws plugin pointed at moto or, where it can't
be installed, the stand-in provider for the engine to attach to.

The stand-in runs in its own process so engines working at the same time
don't share a GIL with each other or with the caller. moto's access log and
the stand-in's output go to files in the sandbox's state directory
(``moto.log``, ``provider.log``), not to the terminal of whoever runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provisioning.sandbox.moto_server import FAKE_CREDENTIALS, moto_server
from provisioning.sandbox.pulumi_cli import matching_binary, sdk_version

REGION = "us-east-1"
# Sandbox state is throwaway, but the engine refuses to run without one.
PASSPHRASE = "sandbox"
_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SandboxEnv:
    """``env`` holds the variables to set on top of the caller's environment,
    for the engine (``LocalWorkspaceOptions.env_vars``) and for boto3;
    ``stack_config`` is path-style stack config for
    ``Stack.set_all_config(..., path=True)``. ``state_dir`` holds the Pulumi
    state (``pulumi/``) and the logs."""

    cli: Path
    endpoint: str
    state_dir: Path
    env: dict[str, str]
    stack_config: dict[str, str]


def real_aws_plugin_installed(cli: Path, env: dict[str, str]) -> bool:
    listing = subprocess.run(
        [str(cli), "plugin", "ls", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return any(
        p.get("name") == "aws" and p.get("kind") == "resource" for p in json.loads(listing or "[]")
    )


def endpoints_config(endpoint: str) -> dict[str, str]:
    """Points the real plugin at moto and stops it from reaching for AWS."""
    return {
        "aws:endpoints[0].acm": endpoint,
        "aws:endpoints[0].cloudfront": endpoint,
        "aws:skipCredentialsValidation": "true",
        "aws:skipRequestingAccountId": "true",
        "aws:skipMetadataApiCheck": "true",
        "aws:s3UsePathStyle": "true",
    }


@contextmanager
def stand_in_provider(env: dict[str, str], log: Path) -> Iterator[int]:
    """The provider exits when its stdin closes, so even a caller killed
    outright doesn't leave it running."""
    with log.open("a") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "provisioning.sandbox.provider", "--watch-stdin"],
            cwd=_REPO,
            env={**os.environ, **env, "PYTHONPATH": str(_REPO)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(
                f"sandbox provider failed to start (exit {process.poll()}); see {log}"
            )
        yield int(line)
    finally:
        process.kill()
        process.wait(timeout=30)


@contextmanager
def sandbox(state_dir: Path) -> Iterator[SandboxEnv]:
    """The file:// backend's directory is made here: the CLI refuses to use
    one that doesn't exist, and nothing else makes it before a first
    ``pulumi stack init``."""
    cli = matching_binary(sdk_version())
    if cli is None:
        raise RuntimeError(f"no Pulumi CLI {sdk_version()}; run scripts/install-pulumi")
    backend = state_dir / "pulumi"
    backend.mkdir(parents=True, exist_ok=True)
    with moto_server(state_dir / "moto.log") as endpoint:
        env = {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "PULUMI_BACKEND_URL": backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PATH": os.pathsep.join([str(cli.parent), os.environ.get("PATH", "")]),
        }
        config = {"aws:region": REGION}
        if real_aws_plugin_installed(cli, {**os.environ, **env}):
            yield SandboxEnv(
                cli, endpoint, state_dir, env, {**config, **endpoints_config(endpoint)}
            )
            return
        with stand_in_provider(env, state_dir / "provider.log") as port:
            env["PULUMI_DEBUG_PROVIDERS"] = f"aws:{port}"
            yield SandboxEnv(cli, endpoint, state_dir, env, config)
