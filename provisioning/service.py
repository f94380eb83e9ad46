"""What every front (HTTP, command line, supervisor, step) works with: the
settings, the job store and the Pulumi backend, made once per process."""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.engine.state import Backend
from provisioning.jobs.dynamodb_store import DynamoDBJobStore
from provisioning.jobs.local_store import LocalJobStore
from provisioning.jobs.store import JobStore
from provisioning.settings import Settings


@dataclass(frozen=True)
class Service:
    settings: Settings
    store: JobStore
    backend: Backend

    @classmethod
    def start(cls, settings: Settings) -> Service:
        if settings.webhook_urls:
            settings.required_webhook_secret()
        return cls(settings, open_job_store(settings), Backend.of(settings))


def open_job_store(settings: Settings) -> JobStore:
    """DynamoDB when several instances share jobs, else the local directory."""
    if settings.job_store.startswith("dynamodb://"):
        return DynamoDBJobStore(settings.job_store.removeprefix("dynamodb://"))
    return LocalJobStore(settings.root / "jobs")
