"""The Pulumi backend's files, read and removed directly: a local folder
(``file://``, the default) or a bucket (``s3://``, shared).

Status reads go straight to the checkpoint instead of through the CLI: a CLI
call costs a process start and hundreds of milliseconds, and listing 200 jobs
would cost minutes. The checkpoint is the engine's own record, so the
outputs read are exactly what the engine wrote. A checkpoint that can't be
read (truncated, not the engine's JSON) is that one job's damage.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from provisioning.aws_clients import AwsClients
from provisioning.errors import DamagedJob
from provisioning.settings import PROJECT, Settings


@dataclass(frozen=True)
class Backend:
    """Parsed as Pulumi does (``file://~/state``, ``s3://bucket/path?region=x``),
    not as a generic URL, which would take ``~`` for a host name. ``aws``:
    the process's clients, which reach a bucket."""

    scheme: str
    bucket: str
    root: str
    aws: AwsClients = field(compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings, aws: AwsClients) -> Backend:
        url = settings.pulumi_backend
        if url.startswith("file://"):
            return cls("file", "", str(Path(url.removeprefix("file://")).expanduser()), aws)
        if url.startswith("s3://"):
            bucket, _, root = url.removeprefix("s3://").split("?", 1)[0].partition("/")
            return cls("s3", bucket, root, aws)
        raise ValueError(f"unsupported backend {url!r}; use file:// or s3://")

    def key(self, key: str) -> str:
        return f"{self.root.strip('/')}/{key}".lstrip("/")

    def read(self, key: str) -> bytes | None:
        if self.scheme == "file":
            path = Path(self.root) / key
            return path.read_bytes() if path.exists() else None
        try:
            body = self.aws.client("s3").get_object(Bucket=self.bucket, Key=self.key(key))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(body["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix``, at any depth, relative to the
        root, as S3 lists them."""
        if self.scheme == "file":
            base = Path(self.root) / prefix
            folder = base if prefix.endswith("/") else base.parent
            if not folder.is_dir():
                return []
            found = (str(p.relative_to(self.root)) for p in folder.rglob("*") if p.is_file())
            return sorted(k for k in found if k.startswith(prefix))
        pages = (
            self.aws.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=self.key(prefix))
        )
        strip = len(self.key(""))
        return sorted(o["Key"][strip:] for page in pages for o in page.get("Contents", []))

    def delete_folder(self, prefix: str) -> None:
        if self.scheme == "file":
            shutil.rmtree(Path(self.root) / prefix, ignore_errors=True)
        else:
            self.delete(self.keys(prefix))

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            if self.scheme == "file":
                (Path(self.root) / key).unlink(missing_ok=True)
            else:
                self.aws.client("s3").delete_object(Bucket=self.bucket, Key=self.key(key))


def stack_key(job_id: str) -> str:
    return f".pulumi/stacks/{PROJECT}/{job_id}.json"


def lock_prefix(job_id: str) -> str:
    return f".pulumi/locks/organization/{PROJECT}/{job_id}/"


def checkpoint(backend: Backend, job_id: str) -> dict[str, Any] | None:
    """The stack's checkpoint as the engine last wrote it; None when there is
    no such stack; DamagedJob when it can't be read as one."""
    key = stack_key(job_id)
    try:
        raw = backend.read(key)
        found = None if raw is None else json.loads(raw)
    except BotoCoreError:
        raise  # AWS out of reach (some of botocore's errors are OSErrors too), not damage
    except OSError as error:
        raise DamagedJob(job_id, "stack checkpoint", f"{key}: {error.strerror}") from None
    except ValueError as error:
        where = f" at character {error.pos}" if isinstance(error, json.JSONDecodeError) else ""
        raise DamagedJob(job_id, "stack checkpoint", f"{key}: not valid JSON{where}") from None
    if found is None:
        return None
    if not (isinstance(found, dict) and isinstance(found.get("checkpoint"), dict)):
        raise DamagedJob(job_id, "stack checkpoint", f"{key}: not a stack checkpoint")
    return found


def resources_in(found: dict[str, Any] | None) -> list[dict[str, Any]]:
    latest = (found or {}).get("checkpoint", {}).get("latest") or {}
    return list(latest.get("resources") or [])


def stack_resources(backend: Backend, job_id: str) -> list[dict[str, Any]]:
    return resources_in(checkpoint(backend, job_id))


def stack_outputs(backend: Backend, job_id: str) -> dict[str, Any] | None:
    """The root stack's outputs as of the last finished update; {} before
    the first, None when there is no such stack."""
    found = checkpoint(backend, job_id)
    if found is None:
        return None
    for resource in resources_in(found):
        if resource.get("type") == "pulumi:pulumi:Stack":
            return dict(resource.get("outputs") or {})
    return {}


def clear_locks(backend: Backend, job_id: str) -> None:
    """Only a lease holder calls this: with the lease, any engine lock on the
    job's stack was left by a step that is gone (the engine's documented
    remedy for a crash is deleting the lock)."""
    backend.delete(backend.keys(lock_prefix(job_id)))


def purge(backend: Backend, job_id: str) -> None:
    """Everything the backend keeps of a removed stack: the checkpoint and its
    .bak, history, backups and locks; some hold the stack's secrets."""
    backend.delete(backend.keys(f".pulumi/stacks/{PROJECT}/{job_id}."))
    for folder in (
        f".pulumi/history/{PROJECT}/{job_id}/",
        f".pulumi/backups/{PROJECT}/{job_id}/",
        lock_prefix(job_id),
    ):
        backend.delete_folder(folder)
