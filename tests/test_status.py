"""The published job record computed from a job's lifecycle and outputs."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.job_store import JobRecord
from provisioning.status import job_status


def record(**changes: Any) -> JobRecord:
    base = JobRecord(
        jobId="11111111-2222-3333-4444-555555555555",
        jobType="create",
        creationDate="2026-11-29T00:00:00+00:00",
        job_input={"acm_op": "create", "auto_creation": True, "cnameList": []},
        items=2,
        auto_creation=True,
        phase="waiting",
    )
    return base.model_copy(update=changes)


def item(key: str, status: str, dist: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {
        "key": key,
        "names": [f"{key}.example.com"],
        "certificateArn": f"arn:cert/{key}",
        "certificateStatus": status,
        "validationRecords": [{"name": f"_x.{key}.example.com.", "type": "CNAME", "value": "_v."}],
    }
    if dist:
        found |= {
            "distributionId": f"E{key.upper()}",
            "distributionArn": f"arn:dist/{key}",
            "distributionStatus": "InProgress",
        }
    return found


def test_queued_job_has_not_started() -> None:
    job = job_status(record(phase="queued"), None)
    assert job["status"] == "QUEUED"
    assert (job["certCreateStageStatus"], job["certValidationStageStatus"]) == (
        "NOTSTART",
        "NOTSTART",
    )
    assert job["distStageStatus"] == "NOTSTART"
    assert job["cert_total_number"] == job["cloudfront_distribution_total_number"] == 2


def test_pending_validation_shows_records_and_counts() -> None:
    outputs = {"items": [item("a", "PENDING_VALIDATION"), item("b", "ISSUED", dist=True)]}
    job = job_status(record(), outputs)
    assert job["status"] == "INPROGRESS"
    assert job["certCreateStageStatus"] == "SUCCESS"
    assert job["certValidationStageStatus"] == "INPROGRESS"
    assert job["distStageStatus"] == "INPROGRESS"
    assert job["cert_completed_number"] == 1
    assert job["cloudfront_distribution_created_number"] == 1
    assert job["dcv_validation_msg"] == {"_x.a.example.com.": {"type": "CNAME", "value": "_v."}}
    assert job["certList"] == ["arn:cert/a", "arn:cert/b"]
    assert job["distList"] == ["arn:dist/b"]


def test_all_issued_and_distributed_is_success() -> None:
    outputs = {"items": [item("a", "ISSUED", dist=True), item("b", "ISSUED", dist=True)]}
    job = job_status(record(phase="done"), outputs)
    assert job["status"] == "SUCCESS"
    assert job["promptInfo"] == ""


@pytest.mark.parametrize("status", ["VALIDATION_TIMED_OUT", "FAILED"])
def test_failed_validation_fails_the_job_with_the_reason(status: str) -> None:
    outputs = {"items": [item("a", status), item("b", "ISSUED", dist=True)]}
    reason = f"certificate {status}: ADDITIONAL_VERIFICATION_REQUIRED"
    job = job_status(record(item_errors={"a": reason}), outputs)
    assert job["status"] == "FAILED"
    assert job["certValidationStageStatus"] == "FAILED"
    assert job["distStageStatus"] == "FAILED"
    assert job["promptInfo"] == f"a: {reason}"
    assert job["items"][0]["error"] == reason


def test_failed_update_is_reported_in_prompt_info() -> None:
    job = job_status(record(phase="failed", error="update failed: error: throttled"), None)
    assert job["status"] == "FAILED"
    assert job["certCreateStageStatus"] == "FAILED"
    assert job["promptInfo"] == "update failed: error: throttled"


def test_without_auto_creation_distributions_are_not_needed() -> None:
    outputs = {"items": [item("a", "ISSUED"), item("b", "ISSUED")]}
    job = job_status(record(auto_creation=False, phase="done"), outputs)
    assert job["distStageStatus"] == "NONEED"
    assert job["cloudfront_distribution_total_number"] == 0
    assert job["status"] == "SUCCESS"
