"""The published job record (``get_ssl_job``), computed from a job's
lifecycle record and its stack's outputs, plus what the published system
lacks: per-item detail and one overall status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from provisioning.errors import DamagedJob
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import (
    CertificateStatus,
    JobStatus,
    Phase,
    Stage,
    awaits_aws,
    item_failed,
)
from provisioning.program.outputs import ItemOutputs, items_of

STAGES = ("certCreateStageStatus", "certValidationStageStatus", "distStageStatus")


def stage(total: int, done: int, failed: bool, started: bool) -> Stage:
    if failed:
        return Stage.FAILED
    if total and done >= total:
        return Stage.SUCCESS
    return Stage.INPROGRESS if started else Stage.NOTSTART


def item_detail(item: ItemOutputs, record: JobRecord) -> dict[str, Any]:
    """The item's outputs, every field shown (``certificateFrom`` only on
    items reusing another's certificate), plus why it failed and why AWS
    could not be asked about it, when so."""
    reused = item.certificate_from is not None
    detail = item.model_dump(mode="json", exclude=None if reused else {"certificate_from"})
    if item.key in record.item_errors:
        detail["error"] = record.item_errors[item.key]
    if checks_failing(record) and any(awaits_aws(item)):
        detail["checkError"] = record.check_error
    return detail


def job_status(record: JobRecord, outputs: dict[str, Any] | None) -> dict[str, Any]:
    """Presentation only: every decision comes from the record and the
    lifecycle rules. Certificates are counted as made: an item reusing
    another's certificate (dist_aggregate) adds none, which the outputs
    tell from the job's first update on."""
    items = items_of(outputs)
    auto_creation, total = record.auto_creation, record.items
    own = [i for i in items if i.certificate_from is None]
    certs_total = total - (len(items) - len(own))
    failed_job = record.phase == Phase.FAILED
    certs_made = sum(1 for i in own if i.certificate_arn)
    issued = sum(1 for i in own if i.certificate_status == CertificateStatus.ISSUED)
    cert_failed = any(item_failed(i, record.item_errors) for i in items)
    dists = [i for i in items if i.distribution_id]
    started = record.phase != Phase.QUEUED

    cert_create = stage(certs_total, certs_made, failed_job and certs_made < certs_total, started)
    cert_validation = stage(certs_total, issued, cert_failed, certs_made > 0)
    if auto_creation:
        dist_stage = stage(total, len(dists), failed_job or cert_failed, bool(dists))
    else:
        dist_stage = Stage.NONEED
    stages = (cert_create, cert_validation, dist_stage)
    return {
        "jobId": record.jobId,
        "jobType": record.jobType,
        "creationDate": record.creationDate,
        "job_input": record.job_input,
        "cert_total_number": certs_total,
        "cert_completed_number": issued,
        "cloudfront_distribution_total_number": total if auto_creation else 0,
        "cloudfront_distribution_created_number": len(dists),
        "certCreateStageStatus": cert_create,
        "certValidationStageStatus": cert_validation,
        "distStageStatus": dist_stage,
        "certList": [i.certificate_arn for i in own if i.certificate_arn],
        "distList": [i.distribution_arn for i in dists],
        "promptInfo": prompt(record),
        "dcv_validation_msg": {
            r.name: {"type": r.type, "value": r.value}
            for i in items
            if i.certificate_status == CertificateStatus.PENDING_VALIDATION
            for r in i.validation_records
        },
        "status": overall(record, stages),
        "phase": record.phase,
        "items": [item_detail(i, record) for i in items],
    }


def overall(record: JobRecord, stages: tuple[Stage, Stage, Stage]) -> JobStatus:
    """SUCCESS only once the job's last step has ended and recorded it: the
    outputs may say everything is done while that step is still finishing. A
    job being deleted says so first, as the DELETE answered, failed or not."""
    if record.phase == Phase.DESTROYING:
        return JobStatus.DESTROYING
    if Stage.FAILED in stages:
        return JobStatus.FAILED
    if record.phase == Phase.DONE and all(s in (Stage.SUCCESS, Stage.NONEED) for s in stages):
        return JobStatus.SUCCESS
    return JobStatus.QUEUED if record.phase == Phase.QUEUED else JobStatus.INPROGRESS


def prompt(record: JobRecord) -> str:
    """The published field for error text: the job's error, then each failed
    item's, then why AWS could not be asked for news, so a caller sees every
    reason at once."""
    lines = [record.error] if record.error else []
    lines += [f"{key}: {reason}" for key, reason in record.item_errors.items()]
    if checks_failing(record):
        again = datetime.fromtimestamp(record.next_check, UTC).isoformat(timespec="seconds")
        lines.append(f"checking with AWS failed: {record.check_error}; trying again at {again}")
    return "\n".join(lines)


def checks_failing(record: JobRecord) -> bool:
    """Only a waiting job is checked: once it moves on, an old failure is
    no longer news."""
    return record.phase == Phase.WAITING and record.check_error is not None


def damaged_status(damage: DamagedJob, record: JobRecord | None) -> dict[str, Any]:
    """A job something of which can't be read: what its record says, if it
    can be read, no stage to wait for, and in promptInfo what failed and
    what to do."""
    known = record or JobRecord(
        jobId=damage.job_id,
        jobType="",
        creationDate=damage.created,
        job_input={},
        items=0,
        auto_creation=True,
    )
    job = job_status(known, None)
    return {
        **job,
        **{stage: Stage.FAILED for stage in STAGES if job[stage] != Stage.NONEED},
        "status": JobStatus.DAMAGED,
        "phase": record.phase if record else None,
        "promptInfo": advice(damage),
    }


def advice(damage: DamagedJob) -> str:
    remedy = f"delete the job (DELETE /ssl_for_saas/jobs/{damage.job_id}) to remove"
    if damage.part == "record":
        return f"{damage}; {remedy} what is left of it"
    return (
        f"{damage}; {remedy} its records and stack files; what it made in AWS (tagged with "
        "this job's id) can't be destroyed without its checkpoint and stays, to remove by hand"
    )
