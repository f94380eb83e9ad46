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
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError

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


def read_backend(key: str) -> bytes | None:
    url = urlparse(backend_url())
    if url.scheme == "file":
        path = Path(url.path) / key
        return path.read_bytes() if path.exists() else None
    if url.scheme == "s3":
        try:
            body = boto3.client("s3").get_object(Bucket=url.netloc, Key=prefixed(url.path, key))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(body["Body"].read())
    raise ValueError(f"unsupported backend {url.scheme}://; use file:// or s3://")


def list_backend(prefix: str) -> list[str]:
    url = urlparse(backend_url())
    if url.scheme == "file":
        folder = Path(url.path) / prefix
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if url.scheme == "s3":
        pages = (
            boto3.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=url.netloc, Prefix=prefixed(url.path, prefix))
        )
        return sorted(
            o["Key"].rsplit("/", 1)[-1] for page in pages for o in page.get("Contents", [])
        )
    raise ValueError(f"unsupported backend {url.scheme}://; use file:// or s3://")


def prefixed(path: str, key: str) -> str:
    return f"{path.strip('/')}/{key}".lstrip("/")


def job_ids() -> list[str]:
    return [
        name.removesuffix(".json")
        for name in list_backend(stacks_prefix())
        if name.endswith(".json")
    ]


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
    url = urlparse(backend_url())
    if url.scheme == "file":
        (Path(url.path) / key).unlink(missing_ok=True)
    elif url.scheme == "s3":
        boto3.client("s3").delete_object(Bucket=url.netloc, Key=prefixed(url.path, key))


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
