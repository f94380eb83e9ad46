"""What every front (HTTP, command line, supervisor, step) works with: the
settings, the job store and the Pulumi backend, made once per process."""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.backend import Backend
from provisioning.job_store import JobStore, open_job_store
from provisioning.settings import Settings


@dataclass(frozen=True)
class Service:
    settings: Settings
    store: JobStore
    backend: Backend

    @classmethod
    def start(cls, settings: Settings) -> Service:
        return cls(settings, open_job_store(settings), Backend.of(settings))
