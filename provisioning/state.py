"""Where jobs live: the Pulumi backend (local directory by default, or
``PULUMI_BACKEND_URL``, s3:// for shared use) and the workspace that holds
each job stack's config.

Status reads go straight to the backend's checkpoint files instead of
through the CLI: a CLI call costs a process start and hundreds of
milliseconds, and listing 200 jobs would cost minutes. The checkpoint is the
engine's own record, so the outputs read are exactly what the engine wrote.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from provisioning import aws_clients

PROJECT = "cf-ssl-saas"
STATE_DIR_ENV = "SSL_SAAS_STATE_DIR"
DEFAULT_STATE_DIR = ".state"


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV, DEFAULT_STATE_DIR)).resolve()


def backend_url() -> str:
    return os.environ.get("PULUMI_BACKEND_URL") or (state_dir() / "pulumi").as_uri()


def workspace_dir() -> Path:
    """Holds Pulumi.yaml and each job's Pulumi.<jobId>.yaml config; inline
    programs would otherwise get a throw-away directory and lose it."""
    return state_dir() / "workspace"


def stacks_prefix() -> str:
    return f".pulumi/stacks/{PROJECT}/"


@dataclass(frozen=True)
class Backend:
    """Where the backend URL points: a local folder, or a bucket and prefix.
    Parsed as Pulumi does (``file://~/state``, ``s3://bucket/path?region=x``),
    not as a generic URL, which would take ``~`` for a host name."""

    scheme: str
    bucket: str
    root: str

    def key(self, key: str) -> str:
        return f"{self.root.strip('/')}/{key}".lstrip("/")


def backend() -> Backend:
    url = backend_url()
    if url.startswith("file://"):
        return Backend("file", "", str(Path(url.removeprefix("file://")).expanduser()))
    if url.startswith("s3://"):
        bucket, _, root = url.removeprefix("s3://").split("?", 1)[0].partition("/")
        return Backend("s3", bucket, root)
    raise ValueError(f"unsupported backend {url!r}; use file:// or s3://")


def read_backend(key: str) -> bytes | None:
    where = backend()
    if where.scheme == "file":
        path = Path(where.root) / key
        return path.read_bytes() if path.exists() else None
    try:
        body = aws_clients.client("s3").get_object(Bucket=where.bucket, Key=where.key(key))
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise
    return bytes(body["Body"].read())


def list_backend(prefix: str) -> list[str]:
    where = backend()
    if where.scheme == "file":
        folder = Path(where.root) / prefix
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    pages = (
        aws_clients.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=where.bucket, Prefix=where.key(prefix))
    )
    return sorted(o["Key"].rsplit("/", 1)[-1] for page in pages for o in page.get("Contents", []))


def stack_outputs(job_id: str) -> dict[str, Any] | None:
    """The root stack's outputs as of the last finished update; {} before
    the first, None when there is no such stack."""
    raw = read_backend(f"{stacks_prefix()}{job_id}.json")
    if raw is None:
        return None
    latest = json.loads(raw).get("checkpoint", {}).get("latest") or {}
    for resource in latest.get("resources") or []:
        if resource["type"] == "pulumi:pulumi:Stack":
            return dict(resource.get("outputs") or {})
    return {}


def delete_backend(key: str) -> None:
    where = backend()
    if where.scheme == "file":
        (Path(where.root) / key).unlink(missing_ok=True)
    else:
        aws_clients.client("s3").delete_object(Bucket=where.bucket, Key=where.key(key))


def lock_prefix(job_id: str) -> str:
    return f".pulumi/locks/organization/{PROJECT}/{job_id}/"


def locks(job_id: str) -> dict[str, dict[str, Any]]:
    """The engine's lock files of a stack: who holds it (pid, hostname)."""
    found = {}
    for name in list_backend(lock_prefix(job_id)):
        if not name.endswith(".json"):  # e.g. the file backend's .attrs sidecars
            continue
        raw = read_backend(lock_prefix(job_id) + name)
        if raw is not None:
            found[lock_prefix(job_id) + name] = json.loads(raw)
    return found


def alive(holder: dict[str, Any]) -> bool:
    """A holder on another machine is presumed alive: only the machine that
    ran an update can tell that it died. Here, a zombie counts as dead."""
    if holder.get("hostname") != socket.gethostname():
        return True
    pid = int(holder.get("pid", 0))
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return "\nState:\tZ" not in status and "\nState:\tX" not in status


def locked_by_live_process(job_id: str) -> bool:
    return any(alive(holder) for holder in locks(job_id).values())


def clear_dead_locks(job_id: str) -> None:
    """A crash leaves the stack locked forever; the engine's documented
    remedy is deleting the lock, which is safe once its holder is gone."""
    for key, holder in locks(job_id).items():
        if not alive(holder):
            delete_backend(key)
            delete_backend(f"{key}.attrs")
