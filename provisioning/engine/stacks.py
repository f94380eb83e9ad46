"""The Automation API driver: each job is one stack whose name is the jobId.

A step works in a workspace of its own, made from the job store: the
project file and the job's stack config (ciphertext only), which is written
back to the store whenever the step changes it. Nothing of a job lives only
on the disk of the instance that runs one of its steps.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pydantic import SecretStr

from provisioning.jobs.store import STACK_CONFIG, JobStore
from provisioning.program import resources
from provisioning.program.spec import JobSpec
from provisioning.settings import PROJECT, Settings

KEYS = "keys"  # stack config: the imported items' private keys, one Pulumi secret


def key(name: str) -> str:
    return f"{PROJECT}:{name}"


@functools.cache
def pulumi_command() -> auto.PulumiCommand:
    """Each PulumiCommand runs `pulumi version` when made: one per process."""
    return auto.PulumiCommand()


@contextmanager
def job_workspace(
    settings: Settings, store: JobStore, job_id: str
) -> Iterator[auto.LocalWorkspace]:
    """A throw-away folder holding the project file and, once the stack is
    configured, the job's stack config from the store."""
    settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{job_id}-", dir=settings.scratch_dir))
    try:
        backend = settings.pulumi_backend
        if backend.startswith("file://"):
            Path(backend.removeprefix("file://")).expanduser().mkdir(parents=True, exist_ok=True)
        (folder / "Pulumi.yaml").write_text(
            f"name: {PROJECT}\nruntime: python\nbackend:\n  url: {backend}\n"
        )
        config = store.get_blob(job_id, STACK_CONFIG)
        if config is not None:
            (folder / f"Pulumi.{job_id}.yaml").write_bytes(config)
        yield auto.LocalWorkspace(
            work_dir=str(folder),
            pulumi_command=pulumi_command(),
            secrets_provider=settings.secrets_provider or None,
            env_vars=settings.engine_env(),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        workspace_file(settings, folder).unlink(missing_ok=True)


def workspace_file(settings: Settings, folder: Path) -> Path:
    """The CLI's record of the stack last selected in ``folder`` (named by a
    hash of the project file's path): one per step, so removed with it."""
    digest = hashlib.sha1(str(folder / "Pulumi.yaml").encode()).hexdigest()
    return settings.pulumi_home / "workspaces" / f"{PROJECT}-{digest}-workspace.json"


def delete_logs(settings: Settings, job_id: str) -> None:
    """The CLI's own logs of the job's stack, named by it: gone with the job."""
    for log in (settings.pulumi_home / "logs").glob(f"organization+{PROJECT}+{job_id}-*.log"):
        log.unlink(missing_ok=True)


def create_stack(
    ws: auto.LocalWorkspace,
    store: JobStore,
    job_id: str,
    keys: dict[str, SecretStr],
    settings: Settings,
) -> None:
    """Creates the job's stack with its keys as Pulumi secrets and the
    service's stack config, then keeps the stack config in the store, whose
    copy is what marks the stack as configured. A stack left by a start
    that died before that is empty, so it is made again."""
    try:
        ws.create_stack(job_id)
    except auto.StackAlreadyExistsError:
        ws.remove_stack(job_id, force=True)
        ws.create_stack(job_id)
    if settings.stack_config:
        values = {k: auto.ConfigValue(v) for k, v in settings.stack_config.items()}
        ws.set_all_config(job_id, values, path=True)
    store_keys(ws, store, job_id, keys)


def store_keys(
    ws: auto.LocalWorkspace, store: JobStore, job_id: str, keys: dict[str, SecretStr]
) -> None:
    """Sets the imported items' keys (all of them) as the stack's secret and
    keeps the stack config in the store."""
    if keys:
        secrets = {k: v.get_secret_value() for k, v in keys.items()}
        set_from_stdin(ws, job_id, KEYS, json.dumps(secrets), secret=True)
    store.put_blob(job_id, STACK_CONFIG, (Path(ws.work_dir) / f"Pulumi.{job_id}.yaml").read_bytes())


def set_from_stdin(
    ws: auto.LocalWorkspace, job_id: str, name: str, value: str, *, secret: bool
) -> None:
    """The Automation API passes config values as arguments, and Linux caps
    one argument at 128 KiB: about 30 import items' keys. Given no value, the
    CLI reads it from stdin, with no such limit, and a key never shows in a
    process listing."""
    command = [ws.pulumi_command.command, "config", "set", key(name), "--stack", job_id]
    command += ["--secret" if secret else "--plaintext", "--non-interactive"]
    subprocess.run(
        command,
        input=value.encode(),
        cwd=ws.work_dir,
        env={**os.environ, **ws.env_vars},
        check=True,
        capture_output=True,
    )


def stored_keys(ws: auto.LocalWorkspace, job_id: str) -> dict[str, SecretStr]:
    """The imported items' private keys, decrypted by the CLI from the
    stack's config."""
    config = ws.get_all_config(job_id)
    if key(KEYS) not in config:
        return {}
    return {k: SecretStr(v) for k, v in json.loads(config[key(KEYS)].value).items()}


def update(
    ws: auto.LocalWorkspace,
    spec: JobSpec,
    settings: Settings,
    *,
    refresh: bool = False,
    on_event: Callable[[auto.events.EngineEvent], Any] | None = None,
) -> auto.UpResult:
    """One `up` of the job: certificates first; distributions for items
    whose certificate is usable. Later updates add the rest; ``refresh``
    re-reads certificate and deployment status into the outputs. A few
    resource operations at a time keep a job under ACM's and CloudFront's
    rates, with the SDK's retries absorbing bursts."""
    stack = auto.Stack.select(spec.job_id, ws)
    return stack.up(
        program=lambda: resources.run(spec),
        refresh=refresh,
        parallel=settings.parallelism,
        show_secrets=False,  # the summary would hold every decrypted key; unused
        on_event=on_event,
    )


def destroy(ws: auto.LocalWorkspace, job_id: str) -> None:
    """Deletes every resource of the job, then the stack itself."""
    stack = auto.Stack.select(job_id, ws)
    stack.destroy(program=lambda: None, remove=True, show_secrets=False)
