"""What happened to a job, as events for its operator: read off the job's
published status, so an event says exactly what a caller polling the job
would see, whichever instance or step saw it first.

Each event's id is derived from what it reports (the job, the type, the
item, and what makes it new, such as an expiry date), so every instance that
sees the same fact makes the same event, and the job's record lists the ids
already posted: each event is posted once, delivered at least once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from provisioning.jobs.states import CertificateStatus, DistributionStatus, JobStatus
from provisioning.program.outputs import ItemOutputs, items_of

NAMESPACE = uuid.UUID("6f1d1c3e-4a8e-4f57-9a0b-2f5c1e9d7b10")
EXPIRY_WARNINGS = (30, 7, 1)  # days before an imported certificate ends


class EventType(StrEnum):
    JOB_ACCEPTED = "job.accepted"
    DCV_RECORDS_READY = "dcv.records_ready"
    CERTIFICATE_ISSUED = "certificate.issued"
    DISTRIBUTION_DEPLOYED = "distribution.deployed"
    ITEM_FAILED = "item.failed"
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
    CERTIFICATE_EXPIRING = "certificate.expiring"
    JOB_DESTROYED = "job.destroyed"


class Event(BaseModel):
    id: str
    type: EventType
    time: str
    jobId: str
    data: dict[str, Any]

    def body(self) -> str:
        """The exact text sent (and signed)."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))


def event(job_id: str, kind: EventType, data: dict[str, Any], *facts: str) -> Event:
    """``facts`` is what makes this event different from another of its type
    for the job (the item, the date): the same facts give the same id."""
    name = "/".join((job_id, kind.value, *facts))
    return Event(
        id=str(uuid.uuid5(NAMESPACE, name)),
        type=kind,
        time=datetime.now(UTC).isoformat(timespec="milliseconds"),
        jobId=job_id,
        data=data,
    )


def accepted(job_id: str, job_type: str, items: int) -> Event:
    return event(job_id, EventType.JOB_ACCEPTED, {"jobType": job_type, "items": items})


def destroyed(job_id: str) -> Event:
    return event(job_id, EventType.JOB_DESTROYED, {})


def from_status(job: dict[str, Any]) -> list[Event]:
    """Every event the job's status shows has happened, in the order they
    happen: per item its records, its certificate, its distribution or its
    failure; then the job's end."""
    job_id = job["jobId"]
    found = []
    for shown, item in zip(job.get("items", []), items_of(job), strict=True):
        key = item.key
        about = {"key": key, "names": item.names}
        if item.validation_records and item.certificate_from is None:
            records = [r.model_dump() for r in item.validation_records]
            found.append(
                event(job_id, EventType.DCV_RECORDS_READY, {**about, "records": records}, key)
            )
        if item.certificate_status == CertificateStatus.ISSUED:
            arn = item.certificate_arn
            found.append(
                event(
                    job_id,
                    EventType.CERTIFICATE_ISSUED,
                    {**about, "certificateArn": arn},
                    key,
                    str(arn),
                )
            )
        if item.distribution_status == DistributionStatus.DEPLOYED:
            found.append(
                event(
                    job_id,
                    EventType.DISTRIBUTION_DEPLOYED,
                    {
                        **about,
                        "distributionId": item.distribution_id,
                        "domainName": item.distribution_domain_name,
                    },
                    key,
                    str(item.distribution_id),
                )
            )
        if shown.get("error"):
            found.append(
                event(
                    job_id,
                    EventType.ITEM_FAILED,
                    {**about, "reason": shown["error"]},
                    key,
                    shown["error"],
                )
            )
    if job.get("status") == JobStatus.SUCCESS:
        found.append(event(job_id, EventType.JOB_SUCCEEDED, {"items": len(job["items"])}))
    elif job.get("status") == JobStatus.FAILED:
        reason = job.get("promptInfo", "")
        # A job that fails again after a retry fails anew.
        found.append(event(job_id, EventType.JOB_FAILED, {"reason": reason}, reason))
    return found


def expiring(job_id: str, item: ItemOutputs, not_after: datetime, now: datetime) -> Event | None:
    """The latest warning due for a certificate ending at ``not_after``: 30,
    7 and 1 days before. A certificate renewed in place ends later, so its
    warnings are new events."""
    days = (not_after - now).total_seconds() / 86400
    due = [d for d in EXPIRY_WARNINGS if days <= d]
    if not due or days <= 0:
        return None
    warning = min(due)
    return event(
        job_id,
        EventType.CERTIFICATE_EXPIRING,
        {
            "key": item.key,
            "names": item.names,
            "certificateArn": item.certificate_arn,
            "notAfter": not_after.isoformat(),
            "daysLeft": int(days),
            "reason": f"the certificate ends within {warning} day{'s' if warning > 1 else ''}",
        },
        item.key,
        not_after.isoformat(),
        str(warning),
    )


def renewal_failing(job_id: str, item: ItemOutputs, reason: str) -> Event:
    return event(
        job_id,
        EventType.CERTIFICATE_EXPIRING,
        {
            "key": item.key,
            "names": item.names,
            "certificateArn": item.certificate_arn,
            "reason": f"ACM's managed renewal is failing: {reason}",
        },
        item.key,
        "renewal",
        reason,
    )


def readable(found: Event) -> tuple[str, str]:
    """Subject and text for people (SNS e-mail subscribers): what happened
    and what to do, with the DNS records to add."""
    data, job = found.data, found.jobId
    names = ", ".join(data.get("names", []))
    lines: list[str]
    if found.type == EventType.DCV_RECORDS_READY:
        subject = f"Add DNS records to validate {names}"
        lines = [f"Job {job}: add these DNS records so ACM can validate {names}:", ""]
        lines += [f"  {r['name']}  {r['type']}  {r['value']}" for r in data["records"]]
    elif found.type == EventType.ITEM_FAILED:
        subject = f"Failed: {names}"
        lines = [f"Job {job}: {names} failed: {data['reason']}"]
    elif found.type == EventType.JOB_FAILED:
        subject = f"Job {job} failed"
        lines = [f"Job {job} failed.", "", data["reason"]]
    elif found.type == EventType.CERTIFICATE_EXPIRING:
        subject = f"Certificate for {names} needs attention"
        lines = [f"Job {job}: the certificate for {names} ({data['certificateArn']}): "]
        lines[0] += data["reason"] + "."
        if "notAfter" in data:
            lines.append(f"It ends {data['notAfter']}; renew it with a new certificate.")
    elif found.type == EventType.DISTRIBUTION_DEPLOYED:
        subject = f"Serving {names}"
        lines = [
            f"Job {job}: {names} is deployed on {data['distributionId']}.",
            f"Point the names at {data['domainName']} (CNAME).",
        ]
    else:
        subject = f"{found.type.value}: job {job}" + (f" ({names})" if names else "")
        lines = [f"Job {job}: {found.type.value}" + (f" for {names}" if names else "") + "."]
    lines += ["", f"Event {found.id} at {found.time}."]
    return subject[:100], "\n".join(lines)
