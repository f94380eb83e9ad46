"""The watcher's judgement of open jobs, without the engine: what it hands
to a step, what it leaves alone, and what news from AWS it records."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.acm.models import acm_backends

from provisioning.backend import Backend
from provisioning.job_store import JobRecord, Lease
from provisioning.lifecycle import Phase
from provisioning.local_job_store import LocalJobStore
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.supervisor import Supervisor, news_from_aws

ACCOUNT = "123456789012"
JOB = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def service(tmp_path: Path) -> Service:
    settings = Settings(state_dir=tmp_path)
    return Service(settings, LocalJobStore(tmp_path / "jobs"), Backend.of(settings))


@pytest.fixture
def launched(service: Service, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(Supervisor, "launch", lambda self, job_id: calls.append(job_id))
    return calls


def stored(service: Service, **changes: object) -> JobRecord:
    made = JobRecord(
        jobId=JOB,
        jobType="create",
        creationDate="2026-11-30T00:00:00+00:00",
        job_input={},
        items=1,
        auto_creation=True,
    ).model_copy(update=changes)
    service.store.create(made, {})
    found = service.store.get(JOB)
    assert found is not None
    return found


def requested_certificate() -> str:
    acm = boto3.client("acm", region_name="us-east-1")
    return str(
        acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS")[
            "CertificateArn"
        ]
    )


def outputs(arn: str) -> dict[str, Any]:
    return {
        "items": [
            {
                "key": "cnameList[0]",
                "certificateArn": arn,
                "certificateStatus": "PENDING_VALIDATION",
            }
        ]
    }


@pytest.mark.parametrize("phase", [Phase.QUEUED, Phase.RUNNING, Phase.DESTROYING])
def test_an_unheld_job_that_needs_a_step_gets_one(
    service: Service, launched: list[str], phase: Phase
) -> None:
    stored(service, phase=phase, lease=Lease(owner="dead", expires=time.time() - 1))
    Supervisor(service).tick()
    assert launched == [JOB]


@pytest.mark.parametrize("phase", [Phase.QUEUED, Phase.RUNNING, Phase.DESTROYING, Phase.WAITING])
def test_a_held_job_is_left_to_its_holder(
    service: Service, launched: list[str], phase: Phase
) -> None:
    stored(service, phase=phase, refresh=True, lease=Lease(owner="x", expires=time.time() + 60))
    Supervisor(service).tick()
    assert launched == []


@pytest.mark.parametrize("phase", [Phase.DONE, Phase.FAILED])
def test_an_ended_job_is_not_watched(service: Service, launched: list[str], phase: Phase) -> None:
    stored(service, phase=phase)
    Supervisor(service).tick()
    assert launched == []


def test_a_waiting_job_without_news_waits(
    aws: str, service: Service, launched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = requested_certificate()
    stored(service, phase=Phase.WAITING)
    monkeypatch.setattr("provisioning.supervisor.stack_outputs", lambda *_: outputs(arn))
    Supervisor(service).tick()
    assert launched == []
    record = service.store.get(JOB)
    assert record is not None and not record.refresh


def test_an_issued_certificate_sends_the_job_to_a_refreshing_step(
    aws: str, service: Service, launched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = requested_certificate()
    acm_backends[ACCOUNT]["us-east-1"]._certificates[arn].status = "ISSUED"
    stored(service, phase=Phase.WAITING)
    monkeypatch.setattr("provisioning.supervisor.stack_outputs", lambda *_: outputs(arn))
    Supervisor(service).tick()
    assert launched == [JOB]
    record = service.store.get(JOB)
    assert record is not None and record.refresh and record.item_errors == {}


@pytest.mark.parametrize("status", ["VALIDATION_TIMED_OUT", "FAILED"])
def test_failed_validation_is_recorded_on_the_item(aws: str, service: Service, status: str) -> None:
    arn = requested_certificate()
    acm_backends[ACCOUNT]["us-east-1"]._certificates[arn].status = status
    job = stored(service, phase=Phase.WAITING)
    assert news_from_aws(service, job, outputs(arn)) is True
    record = service.store.get(JOB)
    assert record is not None
    assert list(record.item_errors) == ["cnameList[0]"]
    assert record.item_errors["cnameList[0]"].startswith(f"certificate {status}")


def test_a_finished_deployment_is_news(aws: str, service: Service) -> None:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    made = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "x",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o",
                        "DomainName": "o.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )["Distribution"]
    job = stored(service, phase=Phase.WAITING)
    item = {
        "key": "k",
        "certificateArn": "arn",
        "certificateStatus": "ISSUED",
        "distributionId": made["Id"],
        "distributionStatus": "InProgress",
    }
    # moto reports a new distribution Deployed at once.
    assert news_from_aws(service, job, {"items": [item]}) is True
    assert (
        news_from_aws(service, job, {"items": [{**item, "distributionStatus": "Deployed"}]})
        is False
    )
