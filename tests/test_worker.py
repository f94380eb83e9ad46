"""The watcher's judgement of a waiting job, and a step's handling of a job
it can't start, without the engine."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto.acm.models import acm_backends

from provisioning import job_records
from provisioning.job_records import JobRecord
from provisioning.worker import RESTARTED_IMPORT, finished, news_from_aws, step

ACCOUNT = "123456789012"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SSL_SAAS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    return tmp_path


def record(job_type: str = "create", **changes: object) -> JobRecord:
    made = JobRecord(
        jobId="11111111-2222-3333-4444-555555555555",
        jobType=job_type,
        creationDate=job_records.now(),
        job_input={},
        items=1,
        auto_creation=True,
        minimumProtocolVersion="TLSv1.2_2021",
        phase="waiting",
    ).model_copy(update=changes)
    job_records.write(made)
    return made


def requested_certificate() -> str:
    acm = boto3.client("acm", region_name="us-east-1")
    return str(
        acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS")[
            "CertificateArn"
        ]
    )


def outputs(arn: str) -> dict[str, object]:
    return {
        "items": [
            {
                "key": "cnameList[0]",
                "certificateArn": arn,
                "certificateStatus": "PENDING_VALIDATION",
            }
        ]
    }


def test_pending_certificate_is_no_news(aws: str, state: Path) -> None:
    arn = requested_certificate()
    assert news_from_aws(record(), outputs(arn)) is False


def test_issued_certificate_is_news(aws: str, state: Path) -> None:
    arn = requested_certificate()
    acm_backends[ACCOUNT]["us-east-1"]._certificates[arn].status = "ISSUED"
    assert news_from_aws(record(), outputs(arn)) is True
    assert job_records.read(record().jobId).item_errors == {}


@pytest.mark.parametrize("status", ["VALIDATION_TIMED_OUT", "FAILED"])
def test_failed_validation_is_recorded_on_the_item(aws: str, state: Path, status: str) -> None:
    arn = requested_certificate()
    acm_backends[ACCOUNT]["us-east-1"]._certificates[arn].status = status
    job = record()
    assert news_from_aws(job, outputs(arn)) is True
    errors = job_records.read(job.jobId).item_errors
    assert list(errors) == ["cnameList[0]"]
    assert errors["cnameList[0]"].startswith(f"certificate {status}")


def test_import_job_whose_keys_were_lost_to_a_restart_fails_clearly(state: Path) -> None:
    job = record("import", phase="queued")
    step(job.jobId, None, refresh=False)
    failed = job_records.read(job.jobId)
    assert failed.phase == "failed"
    assert failed.error == RESTARTED_IMPORT


def item_output(key: str, status: str, dist: str | None = None) -> dict[str, object]:
    return {
        "key": key,
        "names": [f"{key}.example.com"],
        "certificateArn": f"arn:{key}",
        "certificateStatus": status,
        "distributionId": dist,
        "distributionStatus": "Deployed" if dist else None,
    }


def test_one_failed_item_does_not_end_the_others(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = record(items=2, item_errors={"a": "certificate VALIDATION_TIMED_OUT"})
    outputs = {
        "items": [item_output("a", "VALIDATION_TIMED_OUT"), item_output("b", "PENDING_VALIDATION")]
    }
    monkeypatch.setattr("provisioning.worker.state.stack_outputs", lambda _: outputs)
    assert finished(job.jobId, job) is False
    outputs["items"][1] = item_output("b", "ISSUED", dist="EB")
    assert finished(job.jobId, job) is True
