"""What every front (HTTP, command line, supervisor, step) works with: the
settings, the job store, the Pulumi backend and the AWS clients, made once
per process."""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.aws_clients import AwsClients
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
    aws: AwsClients

    @classmethod
    def start(cls, settings: Settings, aws: AwsClients | None = None) -> Service:
        """``aws``: clients the process already has (tests share one set);
        by default the process's own, made here."""
        if settings.webhook_urls:
            settings.required_webhook_secret()
        aws = AwsClients() if aws is None else aws
        return cls(settings, open_job_store(settings, aws), Backend.of(settings, aws), aws)


def open_job_store(settings: Settings, aws: AwsClients) -> JobStore:
    """DynamoDB when several instances share jobs, else the local directory."""
    if settings.job_store.startswith("dynamodb://"):
        table = settings.job_store.removeprefix("dynamodb://")
        return DynamoDBJobStore(table, aws.client("dynamodb"))
    return LocalJobStore(settings.root / "jobs")
