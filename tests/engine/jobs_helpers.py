"""Helpers for engine tests that run whole jobs: where the published
examples are, moving a job along as a worker would, and comparing a clone
with its template as CloudFront (moto) stores them. Shared by every job test
so each compares clones the same way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3

from provisioning.actions import job_calls
from provisioning.sandbox.moto_server import FAKE_CREDENTIALS
from provisioning.worker.supervisor import Supervisor

REPO = Path(__file__).resolve().parents[2]
REQUESTS = REPO / "requests"
API_KEY = "test-key"
TEMPLATE = "E195R1W5GIVPF5"
# What a clone changes on purpose; everything else must equal the template.
# The program leaves out a continuous deployment policy (with a warning): it
# belongs to the template's distribution alone.
OVERRIDDEN = {
    "Aliases",
    "ViewerCertificate",
    "Comment",
    "CallerReference",
    "ContinuousDeploymentPolicyId",
}


def aws(service_name: str) -> Any:
    return boto3.client(
        service_name,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def drive(job_id: str, supervisor: Supervisor, want: str, timeout: float = 180) -> dict[str, Any]:
    """Moves the job along as a worker would until it reaches ``want``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        supervisor.tick()
        job = job_calls.status(supervisor.service, job_id)
        if job["status"] == want and not supervisor.busy(job_id):
            return job
        assert job["status"] != "FAILED", job["promptInfo"]
        time.sleep(0.5)
    raise AssertionError(
        f"job {job_id} did not reach {want}: {job_calls.status(supervisor.service, job_id)}"
    )


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration less the fields a clone overrides, with every
    spelling of "unset" (empty string, empty list, false Staging) removed:
    CloudFront and moto write them either way."""
    return meaningful({k: v for k, v in config.items() if k not in OVERRIDDEN})


def meaningful(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: meaningful(v) for k, v in value.items()}
        return {
            k: v
            for k, v in kept.items()
            if v not in ("", [], None) and (k, v) != ("Staging", False)
        }
    if isinstance(value, list):
        return [meaningful(v) for v in value]
    return value
