"""The Automation API driver: each job is one stack whose name is the jobId.

A job's stack config holds everything its program is a function of — the
normalised request (private keys as Pulumi secrets) and the template
versions it was pinned to at submission — so every later update, after a
restart or on another worker, builds exactly the same program.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from provisioning import program
from provisioning.job_spec import (
    JobSpec,
    Source,
    accept,
    issued_items,
)
from provisioning.job_spec import (
    minimum_protocol_version as checked_minimum,
)
from provisioning.source_config import default_store_url, open_store
from provisioning.state import PROJECT, backend, backend_url, workspace_dir
from provisioning.validation import ValidRequest, validate

# Stack config every job gets, path-style JSON: provider settings such as
# aws:assumeRoles in production, or aws:endpoints in the sandbox.
EXTRA_CONFIG_ENV = "SSL_SAAS_STACK_CONFIG"


def key(name: str) -> str:
    return f"{PROJECT}:{name}"


def workspace() -> auto.LocalWorkspace:
    folder = workspace_dir()
    folder.mkdir(parents=True, exist_ok=True)
    where = backend()
    if where.scheme == "file":
        Path(where.root).mkdir(parents=True, exist_ok=True)
    write_project_file(folder)
    return auto.LocalWorkspace(work_dir=str(folder), pulumi_command=pulumi_command())


@functools.cache
def pulumi_command() -> auto.PulumiCommand:
    """Each PulumiCommand runs `pulumi version` when made: one per process."""
    return auto.PulumiCommand()


def write_project_file(folder: Path) -> None:
    """Written once and atomically: the Automation API rewrites Pulumi.yaml in
    place on every LocalWorkspace it makes with project settings, and a
    worker reading it mid-write at the same moment fails."""
    wanted = f"name: {PROJECT}\nruntime: python\nbackend:\n  url: {backend_url()}\n"
    project_file = folder / "Pulumi.yaml"
    if project_file.exists() and project_file.read_text() == wanted:
        return
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as tmp:
        tmp.write(wanted)
    os.replace(tmp.name, project_file)


def create_job(
    job_id: str,
    job_input: dict[str, Any],
    pems: list[dict[str, Any]] | None,
    pins: dict[str, dict[str, Any]],
    minimum_protocol_version: str,
    accepted_at: str,
) -> None:
    """Creates the job's stack and stores its inputs; no resource yet. An
    existing stack (a retried start) is reused, so a start can be repeated."""
    ws = workspace()
    try:
        ws.create_stack(job_id)
    except auto.StackAlreadyExistsError:
        pass
    if pems:
        set_from_stdin(ws, job_id, "pems", json.dumps(pems), secret=True)
    extra = json.loads(os.environ.get(EXTRA_CONFIG_ENV) or "{}")
    if extra:
        ws.set_all_config(job_id, {k: auto.ConfigValue(v) for k, v in extra.items()}, path=True)
    job = {
        "jobInput": job_input,
        "sources": pins,
        "minimumProtocolVersion": minimum_protocol_version,
        "acceptedAt": accepted_at,
    }
    # Last: its presence is what marks the stack as fully configured.
    set_from_stdin(ws, job_id, "job", json.dumps(job), secret=False)


def set_from_stdin(
    ws: auto.LocalWorkspace, job_id: str, name: str, value: str, *, secret: bool
) -> None:
    """The Automation API passes config values as arguments, and Linux caps
    one argument at 128 KiB: about 30 import items' PEMs, or a large
    request's names. Given no value, the CLI reads it from stdin, with no
    such limit, and a key never shows in a process listing."""
    command = [ws.pulumi_command.command, "config", "set", key(name), "--stack", job_id]
    command += ["--secret" if secret else "--plaintext", "--non-interactive"]
    subprocess.run(
        command,
        input=value.encode(),
        cwd=ws.work_dir,
        env={**os.environ, **ws.env_vars, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        check=True,
        capture_output=True,
    )


def pins_of(sources: dict[str, Source]) -> dict[str, dict[str, Any]]:
    return {
        k: {"distributionId": s.distribution_id, "version": s.version} for k, s in sources.items()
    }


def pems_of(valid: ValidRequest) -> list[dict[str, Any]]:
    """The request's PEM items with the key in clear, for Pulumi to encrypt."""
    return [
        {
            "CertPem": pem.CertPem,
            "PrivateKeyPem": pem.PrivateKeyPem.get_secret_value(),
            "ChainPem": pem.ChainPem,
            "existing_cf_info": pem.existing_cf_info and pem.existing_cf_info.model_dump(),
        }
        for pem in valid.request.pemList
    ]


def spec_from_config(job_id: str, config: dict[str, auto.ConfigValue]) -> JobSpec:
    job = json.loads(config[key("job")].value)
    request = job["jobInput"]
    if key("pems") in config:
        request["pemList"] = json.loads(config[key("pems")].value)
    store = open_store(default_store_url())
    sources = {
        item_key: Source(
            pin["distributionId"],
            pin["version"],
            store.load(pin["distributionId"], pin["version"]),
        )
        for item_key, pin in job["sources"].items()
    }
    return JobSpec(
        job_id=job_id,
        # Checked as of acceptance: a job accepted stays accepted, even once
        # a certificate it imported nears its end.
        request=validate(request, now=datetime.fromisoformat(job["acceptedAt"])),
        sources=sources,
        issued=issued_items(job_id),
        minimum_protocol_version=job["minimumProtocolVersion"],
    )


def project_spec(job_id: str, request_file: Path, minimum_protocol_version: str | None) -> JobSpec:
    """`pulumi up` on the project: the request file is read on every run and
    templates are fetched live (and saved as versions) each time."""
    valid, sources = accept(request_file.read_bytes())
    return JobSpec(
        job_id=job_id,
        request=valid,
        sources=sources,
        issued=issued_items(job_id),
        minimum_protocol_version=checked_minimum(minimum_protocol_version),
    )


def update(
    job_id: str,
    *,
    refresh: bool = False,
    on_event: Callable[[auto.events.EngineEvent], Any] | None = None,
) -> auto.UpResult:
    """One `up` of the job: certificates first; distributions for items
    whose certificate is usable. Later updates add the rest; ``refresh``
    re-reads certificate and deployment status into the outputs."""
    ws = workspace()
    stack = auto.Stack.select(job_id, ws)
    spec = spec_from_config(job_id, ws.get_all_config(job_id))
    return stack.up(
        program=lambda: program.run(spec),
        refresh=refresh,
        parallel=parallelism(),
        on_event=on_event,
    )


def parallelism() -> int:
    """ACM imports at about 1 call/s and requests at 5/s; a few resource
    operations at a time keep a job under those rates, with the SDK's
    retries absorbing bursts."""
    return int(os.environ.get("SSL_SAAS_PARALLELISM", "4"))


def destroy(job_id: str) -> None:
    """Deletes every resource of the job, then the stack itself."""
    ws = workspace()
    stack = auto.Stack.select(job_id, ws)
    stack.destroy(program=lambda: None, remove=True)


def forget(job_id: str) -> None:
    """Drops the job's stack config file, whose stack is gone."""
    (workspace_dir() / f"Pulumi.{job_id}.yaml").unlink(missing_ok=True)


def configured(job_id: str) -> bool:
    """Whether the job's stack exists with its inputs stored (a start that
    died between creating the stack and storing its config is redone)."""
    config_file = workspace_dir() / f"Pulumi.{job_id}.yaml"
    return config_file.exists() and f"{key('job')}:" in config_file.read_text()
