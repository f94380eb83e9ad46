"""Event ids and texts pinned down: two items alike in everything but their
key never share an event id (the same failure, a shared certificate, two
certificates ending at the same moment), ids are the same from one version
to the next (instances of two versions running side by side during an
upgrade must make the same event), and the exact text people get."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from provisioning.events import catalog
from provisioning.events.catalog import EventType
from provisioning.program.outputs import ItemOutputs

JOB = "11111111-2222-4333-8444-555555555555"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ARN = "arn:aws:acm:us-east-1:123456789012:certificate/shared"


def item(key: str) -> ItemOutputs:
    """A twin as the program's outputs type it."""
    return ItemOutputs.model_validate(twin(key))


def twin(key: str, **changes: Any) -> dict[str, Any]:
    """An item like every other twin but for its key: same certificate,
    distribution, records and names."""
    found: dict[str, Any] = {
        "key": key,
        "names": ["shop.example.com"],
        "certificateArn": ARN,
        "certificateStatus": "ISSUED",
        "validationRecords": [{"name": "_a.shop.example.com.", "type": "CNAME", "value": "_b."}],
        "distributionId": "ESHARED",
        "distributionDomainName": "dshared.cloudfront.net",
        "distributionStatus": "Deployed",
    }
    return found | changes


def by_type(found: list[catalog.Event]) -> dict[EventType, list[str]]:
    grouped: dict[EventType, list[str]] = {}
    for event in found:
        grouped.setdefault(event.type, []).append(event.id)
    return grouped


def test_items_alike_but_for_their_key_never_share_an_event_id() -> None:
    """Two items failing for the same reason, two items served by one
    certificate (and distribution): one event each."""
    job = {
        "jobId": JOB,
        "status": "INPROGRESS",
        "items": [twin("a", error="CAA forbids it"), twin("b", error="CAA forbids it")],
    }
    grouped = by_type(catalog.from_status(job))
    assert set(grouped) == {
        EventType.DCV_RECORDS_READY,
        EventType.CERTIFICATE_ISSUED,
        EventType.DISTRIBUTION_DEPLOYED,
        EventType.ITEM_FAILED,
    }
    for kind, ids in grouped.items():
        assert len(ids) == 2 and ids[0] != ids[1], kind


def test_two_certificates_ending_at_the_same_moment_get_two_warnings() -> None:
    ends = NOW + timedelta(days=5)
    first = catalog.expiring(JOB, item("a"), ends, NOW)
    second = catalog.expiring(JOB, item("b"), ends, NOW)
    assert first is not None and second is not None
    assert first.id != second.id


def test_two_items_with_a_failing_renewal_of_one_certificate_get_two_warnings() -> None:
    first = catalog.renewal_failing(JOB, item("a"), "CAA_ERROR")
    second = catalog.renewal_failing(JOB, item("b"), "CAA_ERROR")
    assert first.id != second.id


def test_ids_are_the_same_in_every_version() -> None:
    """The id is the name-based UUID of the job, the type and the facts,
    joined with "/"."""

    def named(*parts: str) -> str:
        return str(uuid.uuid5(catalog.NAMESPACE, "/".join(parts)))

    assert catalog.NAMESPACE == uuid.UUID("6f1d1c3e-4a8e-4f57-9a0b-2f5c1e9d7b10")
    assert catalog.accepted(JOB, "create", 1).id == named(JOB, "job.accepted")
    assert catalog.destroyed(JOB).id == named(JOB, "job.destroyed")
    found = catalog.from_status(
        {"jobId": JOB, "status": "FAILED", "promptInfo": "a: boom", "items": [twin("a")]}
    )
    assert [e.id for e in found] == [
        named(JOB, "dcv.records_ready", "a"),
        named(JOB, "certificate.issued", "a", ARN),
        named(JOB, "distribution.deployed", "a", "ESHARED"),
        named(JOB, "job.failed", "a: boom"),
    ]
    ends = NOW + timedelta(days=5)
    warning = catalog.expiring(JOB, item("a"), ends, NOW)
    assert warning is not None
    assert warning.id == named(JOB, "certificate.expiring", "a", ends.isoformat(), "7")
    failing = catalog.renewal_failing(JOB, item("a"), "CAA_ERROR")
    assert failing.id == named(JOB, "certificate.expiring", "a", "renewal", "CAA_ERROR")


def test_an_events_time_is_utc_to_the_millisecond() -> None:
    before = datetime.now(UTC)
    found = catalog.accepted(JOB, "create", 1)
    after = datetime.now(UTC)
    when = datetime.fromisoformat(found.time)
    assert found.time.endswith("+00:00")
    assert when.utcoffset() == timedelta(0)
    assert before - timedelta(milliseconds=1) <= when <= after
    assert len(found.time) == len("2026-11-30T12:00:00.000+00:00")


def test_a_failed_job_without_a_prompt_fails_with_an_empty_reason() -> None:
    (failed,) = catalog.from_status({"jobId": JOB, "status": "FAILED"})
    assert (failed.type, failed.data) == (EventType.JOB_FAILED, {"reason": ""})


def test_a_status_without_items_makes_only_the_jobs_events() -> None:
    assert catalog.from_status({"jobId": JOB, "status": "QUEUED"}) == []
    (done,) = catalog.from_status({"jobId": JOB, "status": "SUCCESS", "items": []})
    assert (done.type, done.data) == (EventType.JOB_SUCCEEDED, {"items": 0})


def test_a_warning_exactly_7_days_before_is_the_7_day_one() -> None:
    found = catalog.expiring(JOB, item("a"), NOW + timedelta(days=7), NOW)
    assert found is not None
    assert found.data == {
        "key": "a",
        "names": ["shop.example.com"],
        "certificateArn": ARN,
        "notAfter": (NOW + timedelta(days=7)).isoformat(),
        "daysLeft": 7,
        "reason": "the certificate ends within 7 days",
    }


def test_a_failing_renewal_warning_carries_the_item_and_acms_reason() -> None:
    found = catalog.renewal_failing(JOB, item("a"), "CAA_ERROR")
    assert (found.type, found.jobId) == (EventType.CERTIFICATE_EXPIRING, JOB)
    assert found.data == {
        "key": "a",
        "names": ["shop.example.com"],
        "certificateArn": ARN,
        "reason": "ACM's managed renewal is failing: CAA_ERROR",
    }


def made(kind: EventType, data: dict[str, Any]) -> catalog.Event:
    return catalog.Event(
        id="e1", type=kind, time="2026-11-30T12:00:00.000+00:00", jobId=JOB, data=data
    )


FOOTER = ["", "Event e1 at 2026-11-30T12:00:00.000+00:00."]
NAMES = ["shop.example.com", "www.shop.example.com"]


@pytest.mark.parametrize(
    ("kind", "data", "subject", "lines"),
    [
        (
            EventType.DCV_RECORDS_READY,
            {"names": NAMES, "records": [{"name": "_a.", "type": "CNAME", "value": "_b."}]},
            "Add DNS records to validate shop.example.com, www.shop.example.com",
            [
                f"Job {JOB}: add these DNS records so ACM can validate "
                "shop.example.com, www.shop.example.com:",
                "",
                "  _a.  CNAME  _b.",
            ],
        ),
        (
            EventType.ITEM_FAILED,
            {"names": NAMES[:1], "reason": "CAA forbids it"},
            "Failed: shop.example.com",
            [f"Job {JOB}: shop.example.com failed: CAA forbids it"],
        ),
        (
            EventType.JOB_FAILED,
            {"reason": "a: boom"},
            f"Job {JOB} failed",
            [f"Job {JOB} failed.", "", "a: boom"],
        ),
        (
            EventType.CERTIFICATE_EXPIRING,
            {"names": NAMES[:1], "certificateArn": ARN, "reason": "the renewal is failing"},
            "Certificate for shop.example.com needs attention",
            [f"Job {JOB}: the certificate for shop.example.com ({ARN}): the renewal is failing."],
        ),
        (
            EventType.CERTIFICATE_EXPIRING,
            {
                "names": NAMES[:1],
                "certificateArn": ARN,
                "reason": "it ends within 7 days",
                "notAfter": "2026-12-07T12:00:00+00:00",
            },
            "Certificate for shop.example.com needs attention",
            [
                f"Job {JOB}: the certificate for shop.example.com ({ARN}): it ends within 7 days.",
                "It ends 2026-12-07T12:00:00+00:00; renew it with a new certificate.",
            ],
        ),
        (
            EventType.DISTRIBUTION_DEPLOYED,
            {"names": NAMES[:1], "distributionId": "E1", "domainName": "d1.cloudfront.net"},
            "Serving shop.example.com",
            [
                f"Job {JOB}: shop.example.com is deployed on E1.",
                "Point the names at d1.cloudfront.net (CNAME).",
            ],
        ),
        (
            EventType.CERTIFICATE_ISSUED,
            {"names": NAMES[:1], "certificateArn": ARN},
            f"certificate.issued: job {JOB} (shop.example.com)",
            [f"Job {JOB}: certificate.issued for shop.example.com."],
        ),
        (
            EventType.JOB_ACCEPTED,
            {"jobType": "create", "items": 1},
            f"job.accepted: job {JOB}",
            [f"Job {JOB}: job.accepted."],
        ),
    ],
    ids=[
        "records",
        "item-failed",
        "job-failed",
        "renewal",
        "expiring",
        "deployed",
        "named",
        "unnamed",
    ],
)
def test_the_exact_text_people_get(
    kind: EventType, data: dict[str, Any], subject: str, lines: list[str]
) -> None:
    assert catalog.readable(made(kind, data)) == (subject, "\n".join(lines + FOOTER))
