"""The published job record computed from a job's lifecycle and outputs."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from provisioning.errors import DamagedJob
from provisioning.jobs.published import advice, damaged_status, job_status, stage
from provisioning.jobs.states import JobStatus, Phase, Stage
from tests.records import JOB, job_record

# A job of two items, waiting for AWS.
record = functools.partial(job_record, items=2, phase=Phase.WAITING)


def item(key: str, status: str, dist: bool = False, deployed: bool = False) -> dict[str, Any]:
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
            "distributionStatus": "Deployed" if deployed else "InProgress",
        }
    return found


def stages(job: dict[str, Any]) -> tuple[str, str, str]:
    return job["certCreateStageStatus"], job["certValidationStageStatus"], job["distStageStatus"]


ALL_DONE = {"items": [item("a", "ISSUED", True, True), item("b", "ISSUED", True, True)]}


@pytest.mark.parametrize(
    ("total", "done", "failed", "started", "expected"),
    [
        (2, 0, False, False, Stage.NOTSTART),
        (2, 0, False, True, Stage.INPROGRESS),
        (2, 1, False, True, Stage.INPROGRESS),
        (2, 2, False, True, Stage.SUCCESS),
        (2, 2, False, False, Stage.SUCCESS),
        (2, 2, True, True, Stage.FAILED),
        (2, 0, True, False, Stage.FAILED),
        # A job of no items (a damaged job's stand-in) has nothing to succeed at.
        (0, 0, False, False, Stage.NOTSTART),
        (0, 0, False, True, Stage.INPROGRESS),
    ],
)
def test_a_stage_succeeds_only_when_every_item_has_done_it(
    total: int, done: int, failed: bool, started: bool, expected: Stage
) -> None:
    assert stage(total, done, failed, started) is expected


def test_queued_job_has_not_started() -> None:
    job = job_status(record(phase="queued"), None)
    assert job["status"] == "QUEUED"
    assert stages(job) == ("NOTSTART", "NOTSTART", "NOTSTART")
    assert job["cert_total_number"] == job["cloudfront_distribution_total_number"] == 2


def test_a_started_job_without_certificates_creates_but_validates_nothing_yet() -> None:
    job = job_status(record(phase="running"), {})
    assert job["status"] == "INPROGRESS"
    assert stages(job) == ("INPROGRESS", "NOTSTART", "NOTSTART")
    assert job["items"] == [] and job["certList"] == [] and job["distList"] == []


def test_the_record_shows_every_published_field_and_each_item() -> None:
    outputs = {
        "items": [
            {
                **item("a", "ISSUED", dist=True),
                "sourceDistributionId": "ETEMPLATE",
                "configVersion": 3,
                "distributionDomainName": "d1.cloudfront.net",
                "warnings": ["a warning"],
            },
            {"key": "b", "names": ["b.example.com"], "certificateArn": "arn:cert/b"},
        ]
    }
    job = job_status(record(phase="running"), outputs)
    assert job == {
        "jobId": JOB,
        "jobType": "create",
        "creationDate": "2026-11-30T00:00:00+00:00",
        "job_input": {"acm_op": "create"},
        "cert_total_number": 2,
        "cert_completed_number": 1,
        "cloudfront_distribution_total_number": 2,
        "cloudfront_distribution_created_number": 1,
        "certCreateStageStatus": "SUCCESS",
        "certValidationStageStatus": "INPROGRESS",
        "distStageStatus": "INPROGRESS",
        "certList": ["arn:cert/a", "arn:cert/b"],
        "distList": ["arn:dist/a"],
        "promptInfo": "",
        "dcv_validation_msg": {},
        "status": "INPROGRESS",
        "phase": "running",
        "items": [
            {
                "key": "a",
                "names": ["a.example.com"],
                "certificateArn": "arn:cert/a",
                "certificateStatus": "ISSUED",
                "validationRecords": [
                    {"name": "_x.a.example.com.", "type": "CNAME", "value": "_v."}
                ],
                "sourceDistributionId": "ETEMPLATE",
                "configVersion": 3,
                "distributionId": "EA",
                "distributionArn": "arn:dist/a",
                "distributionDomainName": "d1.cloudfront.net",
                "distributionStatus": "InProgress",
                "warnings": ["a warning"],
            },
            {
                "key": "b",
                "names": ["b.example.com"],
                "certificateArn": "arn:cert/b",
                "certificateStatus": None,
                "validationRecords": [],
                "sourceDistributionId": None,
                "configVersion": None,
                "distributionId": None,
                "distributionArn": None,
                "distributionDomainName": None,
                "distributionStatus": None,
                "warnings": [],
            },
        ],
    }


def test_pending_validation_shows_records_and_counts() -> None:
    outputs = {"items": [item("a", "PENDING_VALIDATION"), item("b", "ISSUED", dist=True)]}
    job = job_status(record(), outputs)
    assert job["status"] == "INPROGRESS"
    assert stages(job) == ("SUCCESS", "INPROGRESS", "INPROGRESS")
    assert job["cert_completed_number"] == 1
    assert job["cloudfront_distribution_created_number"] == 1
    assert job["dcv_validation_msg"] == {"_x.a.example.com.": {"type": "CNAME", "value": "_v."}}
    assert job["certList"] == ["arn:cert/a", "arn:cert/b"]
    assert job["distList"] == ["arn:dist/b"]


def reusing(key: str, source: str, status: str, dist: bool = False) -> dict[str, Any]:
    """An item served by ``source``'s certificate (dist_aggregate)."""
    shared = item(source, status, dist)
    return {
        **shared,
        **(
            {"distributionId": f"E{key.upper()}", "distributionArn": f"arn:dist/{key}"}
            if dist
            else {}
        ),
        "key": key,
        "names": [f"{key}.example.com"],
        "certificateFrom": source,
    }


def test_a_reused_certificate_is_counted_and_listed_once_and_named_on_its_items() -> None:
    outputs = {"items": [item("a", "PENDING_VALIDATION"), reusing("b", "a", "PENDING_VALIDATION")]}
    job = job_status(record(phase="waiting"), outputs)
    assert job["cert_total_number"] == 1
    assert job["cloudfront_distribution_total_number"] == 2
    assert job["certList"] == ["arn:cert/a"]
    assert "certificateFrom" not in job["items"][0]
    assert job["items"][1]["certificateFrom"] == "a"
    assert job["items"][1]["certificateArn"] == "arn:cert/a"
    assert job["dcv_validation_msg"] == {"_x.a.example.com.": {"type": "CNAME", "value": "_v."}}
    assert stages(job) == ("SUCCESS", "INPROGRESS", "NOTSTART")

    issued = {"items": [item("a", "ISSUED", True, True), reusing("b", "a", "ISSUED", True)]}
    job = job_status(record(phase="waiting"), issued)
    assert job["cert_completed_number"] == job["cert_total_number"] == 1
    assert job["cloudfront_distribution_created_number"] == 2
    assert job["distList"] == ["arn:dist/a", "arn:dist/b"]
    assert stages(job) == ("SUCCESS", "SUCCESS", "SUCCESS")


def test_a_failed_shared_certificate_fails_every_item_it_serves() -> None:
    outputs = {"items": [item("a", "FAILED"), reusing("b", "a", "FAILED")]}
    job = job_status(record(phase="failed", error="x"), outputs)
    assert stages(job) == ("SUCCESS", "FAILED", "FAILED")
    assert job["status"] == "FAILED"


def test_one_certificate_of_two_made_is_still_in_progress() -> None:
    job = job_status(record(phase="running"), {"items": [item("a", "PENDING_VALIDATION")]})
    assert stages(job) == ("INPROGRESS", "INPROGRESS", "NOTSTART")
    assert job["status"] == "INPROGRESS"


@pytest.mark.parametrize(
    ("phase", "status"),
    [
        # Outputs may say everything is done while the last step still runs:
        # SUCCESS only once that step recorded the job DONE.
        (Phase.DONE, JobStatus.SUCCESS),
        (Phase.WAITING, JobStatus.INPROGRESS),
        (Phase.RUNNING, JobStatus.INPROGRESS),
        (Phase.QUEUED, JobStatus.QUEUED),
        (Phase.DESTROYING, JobStatus.DESTROYING),
        (Phase.FAILED, JobStatus.FAILED),
    ],
)
def test_the_overall_status_of_each_phase(phase: Phase, status: JobStatus) -> None:
    job = job_status(record(phase=phase), ALL_DONE)
    assert job["status"] is status
    assert job["phase"] == phase


def test_all_issued_and_distributed_is_success() -> None:
    job = job_status(record(phase="done"), ALL_DONE)
    assert job["status"] == "SUCCESS"
    assert stages(job) == ("SUCCESS", "SUCCESS", "SUCCESS")
    assert job["promptInfo"] == ""


def test_a_done_job_with_a_stage_not_finished_is_not_success() -> None:
    outputs = {"items": [item("a", "ISSUED", True, True), item("b", "ISSUED")]}
    job = job_status(record(phase="done"), outputs)
    assert stages(job) == ("SUCCESS", "SUCCESS", "INPROGRESS")
    assert job["status"] == "INPROGRESS"


def test_a_job_being_destroyed_says_so_even_with_a_failed_item() -> None:
    outputs = {"items": [item("a", "FAILED"), item("b", "ISSUED", True, True)]}
    job = job_status(record(phase="destroying"), outputs)
    assert job["status"] == "DESTROYING"
    assert job["certValidationStageStatus"] == "FAILED"


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
    assert "error" not in job["items"][1]


def test_an_item_error_fails_validation_whatever_acm_said() -> None:
    outputs = {"items": [item("a", "PENDING_VALIDATION"), item("b", "ISSUED", True, True)]}
    job = job_status(record(phase="done", item_errors={"a": "gave up"}), outputs)
    assert stages(job) == ("SUCCESS", "FAILED", "FAILED")
    assert job["status"] == "FAILED"


def test_failed_update_is_reported_in_prompt_info() -> None:
    job = job_status(record(phase="failed", error="update failed: error: throttled"), None)
    assert job["status"] == "FAILED"
    assert stages(job) == ("FAILED", "NOTSTART", "FAILED")
    assert job["promptInfo"] == "update failed: error: throttled"


def test_a_job_failing_after_its_certificates_were_made_fails_later_stages_only() -> None:
    outputs = {"items": [item("a", "ISSUED"), item("b", "ISSUED")]}
    job = job_status(record(phase="failed", error="distribution refused"), outputs)
    assert stages(job) == ("SUCCESS", "SUCCESS", "FAILED")
    assert job["status"] == "FAILED"


def test_without_auto_creation_distributions_are_not_needed() -> None:
    outputs = {"items": [item("a", "ISSUED"), item("b", "ISSUED")]}
    job = job_status(record(auto_creation=False, phase="done"), outputs)
    assert job["distStageStatus"] == "NONEED"
    assert job["cloudfront_distribution_total_number"] == 0
    assert job["status"] == "SUCCESS"


def test_without_auto_creation_a_failed_job_needs_no_distribution_either() -> None:
    job = job_status(record(auto_creation=False, phase="failed", error="x"), None)
    assert stages(job) == ("FAILED", "NOTSTART", "NONEED")


def test_prompt_info_gives_every_reason_at_once_in_order() -> None:
    outputs = {"items": [item("a", "PENDING_VALIDATION"), item("b", "ISSUED", True, True)]}
    job = job_status(
        record(
            error="the job's own error",
            item_errors={"a": "a's reason", "b": "b's reason"},
            check_error="acm DescribeCertificate failed: throttled",
            next_check=0.0,
        ),
        outputs,
    )
    assert job["promptInfo"] == (
        "the job's own error\n"
        "a: a's reason\n"
        "b: b's reason\n"
        "checking with AWS failed: acm DescribeCertificate failed: throttled; "
        "trying again at 1970-01-01T00:00:00+00:00"
    )


def test_a_failing_check_is_shown_on_the_items_that_wait_on_aws_only() -> None:
    outputs = {
        "items": [
            item("a", "PENDING_VALIDATION"),
            item("b", "ISSUED", dist=True),
            item("c", "ISSUED", True, True),
        ]
    }
    waiting = record(items=3, check_error="cloudfront GetDistribution failed: x", next_check=90.5)
    job = job_status(waiting, outputs)
    assert [i.get("checkError") for i in job["items"]] == [
        "cloudfront GetDistribution failed: x",
        "cloudfront GetDistribution failed: x",
        None,
    ]
    assert job["promptInfo"].endswith("trying again at 1970-01-01T00:01:30+00:00")


@pytest.mark.parametrize("phase", [Phase.RUNNING, Phase.QUEUED, Phase.DONE])
def test_an_old_check_failure_is_no_news_once_the_job_moved_on(phase: Phase) -> None:
    outputs = {"items": [item("a", "PENDING_VALIDATION")]}
    job = job_status(record(phase=phase, check_error="acm failed"), outputs)
    assert job["promptInfo"] == ""
    assert "checkError" not in job["items"][0]


def test_a_damaged_record_is_shown_as_its_damage_with_advice() -> None:
    damage = DamagedJob(JOB, "record", "record.json: jobId: Field required", "2026-11-28")
    job = damaged_status(damage, None)
    assert job["status"] is JobStatus.DAMAGED
    assert job["phase"] is None
    assert (job["jobId"], job["jobType"], job["creationDate"]) == (JOB, "", "2026-11-28")
    assert (job["job_input"], job["cert_total_number"]) == ({}, 0)
    assert stages(job) == ("FAILED", "FAILED", "FAILED")
    assert job["promptInfo"] == (
        f"job {JOB}: its record can't be read (record.json: jobId: Field required); "
        f"delete the job (DELETE /ssl_for_saas/jobs/{JOB}) to remove what is left of it"
    )


def test_a_damaged_checkpoint_keeps_what_the_record_says() -> None:
    damage = DamagedJob(JOB, "stack checkpoint", "not valid JSON")
    job = damaged_status(damage, record(auto_creation=False, phase="waiting"))
    assert job["status"] is JobStatus.DAMAGED
    assert job["phase"] == "waiting"
    assert (job["jobType"], job["cert_total_number"]) == ("create", 2)
    assert stages(job) == ("FAILED", "FAILED", "NONEED")
    assert job["promptInfo"] == advice(damage)


def test_the_advice_for_a_lost_checkpoint_says_what_stays_in_aws() -> None:
    damage = DamagedJob(JOB, "stack checkpoint", "truncated")
    assert advice(damage) == (
        f"job {JOB}: its stack checkpoint can't be read (truncated); delete the job "
        f"(DELETE /ssl_for_saas/jobs/{JOB}) to remove its records and stack files; what it "
        "made in AWS (tagged with this job's id) can't be destroyed without its checkpoint "
        "and stays, to remove by hand"
    )
