"""Events read off a job's published status: which, in what order, with ids
that name the fact (so every instance makes the same one), the expiry
warnings, the exact body sent, and the text people get."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from provisioning.events import catalog
from provisioning.events.catalog import EventType
from provisioning.program.outputs import ItemOutputs

JOB = "11111111-2222-4333-8444-555555555555"
OTHER_JOB = "11111111-2222-4333-8444-666666666666"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def record(key: str) -> dict[str, str]:
    return {"name": f"_a1b2.{key}.example.com.", "type": "CNAME", "value": f"_c3d4.{key}.acm."}


def item(key: str, **changes: Any) -> dict[str, Any]:
    """An item as job_status shows it: its certificate issued, its
    distribution deployed."""
    found: dict[str, Any] = {
        "key": key,
        "names": [f"{key}.example.com", f"www.{key}.example.com"],
        "certificateArn": f"arn:aws:acm:us-east-1:123456789012:certificate/{key}",
        "certificateStatus": "ISSUED",
        "validationRecords": [record(key), record(f"www.{key}")],
        "distributionId": f"E{key.upper()}123",
        "distributionDomainName": f"d{key}.cloudfront.net",
        "distributionStatus": "Deployed",
    }
    return found | changes


NO_DIST = {"distributionId": None, "distributionDomainName": None, "distributionStatus": None}


def status(items: list[dict[str, Any]], state: str = "INPROGRESS", prompt: str = "") -> dict:
    return {"jobId": JOB, "status": state, "promptInfo": prompt, "items": items}


def kinds(found: list[catalog.Event]) -> list[tuple[str, str | None]]:
    return [(e.type.value, e.data.get("key")) for e in found]


def test_events_follow_each_item_then_the_job() -> None:
    job = status(
        [
            item("a"),
            item("b", distributionStatus="InProgress"),
            item("c", certificateStatus="PENDING_VALIDATION", **NO_DIST),
            item("d", certificateStatus="FAILED", **NO_DIST, error="validation failed"),
        ]
    )
    assert kinds(catalog.from_status(job)) == [
        ("dcv.records_ready", "a"),
        ("certificate.issued", "a"),
        ("distribution.deployed", "a"),
        ("dcv.records_ready", "b"),
        ("certificate.issued", "b"),
        ("dcv.records_ready", "c"),
        ("dcv.records_ready", "d"),
        ("item.failed", "d"),
    ]


def test_event_data_carries_what_the_status_shows() -> None:
    found = catalog.from_status(status([item("a")]))
    ready, issued, deployed = found
    assert all(e.jobId == JOB for e in found)
    assert ready.data == {
        "key": "a",
        "names": ["a.example.com", "www.a.example.com"],
        "records": [record("a"), record("www.a")],
    }
    assert issued.data["certificateArn"] == "arn:aws:acm:us-east-1:123456789012:certificate/a"
    assert deployed.data["distributionId"] == "EA123"
    assert deployed.data["domainName"] == "da.cloudfront.net"


def test_an_item_without_records_or_news_makes_no_event() -> None:
    bare = item(
        "a",
        certificateArn=None,
        certificateStatus=None,
        validationRecords=[],
        distributionId=None,
        distributionStatus=None,
    )
    assert catalog.from_status(status([bare])) == []
    assert catalog.from_status({"jobId": JOB, "status": "QUEUED", "items": []}) == []


def test_an_item_reusing_a_certificate_has_no_records_to_add() -> None:
    reusing = item("b", certificateFrom="a", validationRecords=[record("a")])
    found = kinds(catalog.from_status(status([item("a"), reusing])))
    assert ("dcv.records_ready", "a") in found
    assert ("dcv.records_ready", "b") not in found
    assert ("distribution.deployed", "b") in found


def test_a_succeeded_job_ends_with_job_succeeded() -> None:
    found = catalog.from_status(status([item("a"), item("b")], state="SUCCESS"))
    assert found[-1].type == EventType.JOB_SUCCEEDED
    assert found[-1].data == {"items": 2}
    assert [e.type for e in found].count(EventType.JOB_SUCCEEDED) == 1
    assert EventType.JOB_FAILED not in [e.type for e in found]


def test_a_failed_job_ends_with_job_failed_and_its_prompt_as_reason() -> None:
    prompt = "d: validation failed\nchecking with AWS failed: throttled"
    failed = item("d", certificateStatus="FAILED", **NO_DIST, error="validation failed")
    found = catalog.from_status(status([failed], state="FAILED", prompt=prompt))
    assert [e.type for e in found][-2:] == [EventType.ITEM_FAILED, EventType.JOB_FAILED]
    assert found[-2].data["reason"] == "validation failed"
    assert found[-1].data == {"reason": prompt}
    assert EventType.JOB_SUCCEEDED not in [e.type for e in found]


def test_a_job_failing_again_for_another_reason_is_a_new_event() -> None:
    first = catalog.from_status(status([item("a")], state="FAILED", prompt="update failed: x"))
    again = catalog.from_status(status([item("a")], state="FAILED", prompt="update failed: y"))
    same = catalog.from_status(status([item("a")], state="FAILED", prompt="update failed: x"))
    assert first[-1].id != again[-1].id
    assert first[-1].id == same[-1].id


@pytest.mark.parametrize("state", ["QUEUED", "INPROGRESS", "DESTROYING", "DAMAGED"])
def test_an_unfinished_job_has_no_end_event(state: str) -> None:
    found = catalog.from_status(status([item("a")], state=state))
    assert {EventType.JOB_SUCCEEDED, EventType.JOB_FAILED}.isdisjoint(e.type for e in found)


def complete_job() -> dict[str, Any]:
    failed = item("b", certificateStatus="FAILED", **NO_DIST, error="CAA forbids it")
    return status([item("a"), failed], state="FAILED", prompt="b: CAA forbids it")


def test_ids_are_stable_for_the_same_facts() -> None:
    first = catalog.from_status(complete_job())
    again = catalog.from_status(copy.deepcopy(complete_job()))
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.id for e in first}) == len(first)  # and each event has its own


def test_ids_differ_when_the_facts_differ() -> None:
    before = {(e.type, e.data.get("key")): e.id for e in catalog.from_status(complete_job())}

    moved = complete_job()
    moved["items"][0]["distributionId"] = "ENEW999"
    after = {(e.type, e.data.get("key")): e.id for e in catalog.from_status(moved)}
    assert (
        after[EventType.DISTRIBUTION_DEPLOYED, "a"] != before[EventType.DISTRIBUTION_DEPLOYED, "a"]
    )
    assert after[EventType.CERTIFICATE_ISSUED, "a"] == before[EventType.CERTIFICATE_ISSUED, "a"]

    other_error = complete_job()
    other_error["items"][1]["error"] = "validation timed out"
    after = {(e.type, e.data.get("key")): e.id for e in catalog.from_status(other_error)}
    assert after[EventType.ITEM_FAILED, "b"] != before[EventType.ITEM_FAILED, "b"]
    assert after[EventType.DCV_RECORDS_READY, "b"] == before[EventType.DCV_RECORDS_READY, "b"]

    reissued = complete_job()
    reissued["items"][0]["certificateArn"] += "-2"
    after = {(e.type, e.data.get("key")): e.id for e in catalog.from_status(reissued)}
    assert after[EventType.CERTIFICATE_ISSUED, "a"] != before[EventType.CERTIFICATE_ISSUED, "a"]

    elsewhere = complete_job() | {"jobId": OTHER_JOB}
    assert {e.id for e in catalog.from_status(elsewhere)}.isdisjoint(before.values())


def test_the_same_event_of_two_items_has_two_ids() -> None:
    found = catalog.from_status(status([item("a"), item("b")]))
    ready = [e.id for e in found if e.type == EventType.DCV_RECORDS_READY]
    assert len(ready) == 2 and ready[0] != ready[1]


CERT = ItemOutputs(key="a", names=["a.example.com"], certificate_arn="arn:aws:acm:cert/a")


def expiring_in(days: float, now: datetime = NOW) -> catalog.Event | None:
    return catalog.expiring(JOB, CERT, NOW + timedelta(days=days), now)


@pytest.mark.parametrize("days", [31, 30.5, 365])
def test_no_warning_more_than_30_days_before(days: float) -> None:
    assert expiring_in(days) is None


@pytest.mark.parametrize(
    ("days", "warning"),
    [(29.5, "30 days"), (8, "30 days"), (6, "7 days"), (1.5, "7 days"), (0.5, "1 day")],
)
def test_the_latest_warning_due(days: float, warning: str) -> None:
    found = expiring_in(days)
    assert found is not None
    assert found.type == EventType.CERTIFICATE_EXPIRING
    assert found.data["reason"] == f"the certificate ends within {warning}"
    assert found.data["daysLeft"] == int(days)
    assert found.data["notAfter"] == (NOW + timedelta(days=days)).isoformat()
    assert found.data["certificateArn"] == CERT.certificate_arn


@pytest.mark.parametrize("days", [0, -0.5, -30])
def test_no_warning_once_expired(days: float) -> None:
    assert expiring_in(days) is None


def test_each_threshold_is_one_event() -> None:
    end = NOW + timedelta(days=29.5)
    first = catalog.expiring(JOB, CERT, end, NOW)
    hours_later = catalog.expiring(JOB, CERT, end, NOW + timedelta(hours=20))
    week = catalog.expiring(JOB, CERT, end, NOW + timedelta(days=23))
    assert first is not None and hours_later is not None and week is not None
    assert first.id == hours_later.id
    assert week.id != first.id


def test_a_renewed_certificate_is_warned_about_again() -> None:
    old = catalog.expiring(JOB, CERT, NOW + timedelta(days=20), NOW)
    renewed = catalog.expiring(JOB, CERT, NOW + timedelta(days=25), NOW)
    assert old is not None and renewed is not None
    assert old.data["reason"] == renewed.data["reason"]  # both the 30-day warning
    assert old.id != renewed.id


def test_body_is_compact_json_of_exactly_the_event() -> None:
    found = catalog.accepted(JOB, "create", 2)
    body = found.body()
    parsed = json.loads(body)
    assert set(parsed) == {"id", "type", "time", "jobId", "data"}
    assert parsed == {
        "id": found.id,
        "type": "job.accepted",
        "time": found.time,
        "jobId": JOB,
        "data": {"jobType": "create", "items": 2},
    }
    assert body == json.dumps(parsed, separators=(",", ":"))
    assert " " not in body and "\n" not in body
    assert catalog.Event.model_validate_json(body) == found


def test_accepted_and_destroyed_ids_are_per_job() -> None:
    assert catalog.accepted(JOB, "create", 2).id == catalog.accepted(JOB, "create", 3).id
    assert catalog.accepted(JOB, "create", 2).id != catalog.accepted(OTHER_JOB, "create", 2).id
    assert catalog.destroyed(JOB).id != catalog.accepted(JOB, "create", 2).id


def test_records_ready_text_lists_every_record() -> None:
    ready = catalog.from_status(status([item("a")]))[0]
    subject, text = catalog.readable(ready)
    assert subject == "Add DNS records to validate a.example.com, www.a.example.com"
    for dns in (record("a"), record("www.a")):
        line = rf"{re.escape(dns['name'])}\s+CNAME\s+{re.escape(dns['value'])}"
        assert re.search(line, text), f"{dns} not in {text!r}"
    assert JOB in text and ready.id in text


def test_subject_fits_sns_even_with_many_long_names() -> None:
    names = [f"{'x' * 30}-{n}.customer-{n}.example.com" for n in range(60)]
    many = item("a", names=names)
    found = catalog.from_status(status([many], state="FAILED", prompt="bad"))
    shown = ItemOutputs.model_validate(many)
    found.append(catalog.expiring(JOB, shown, NOW + timedelta(days=3), NOW))  # type: ignore[arg-type]
    for each in found:
        subject, text = catalog.readable(each)
        assert 0 < len(subject) <= 100
        assert "\n" not in subject
        assert each.jobId in text
    subject, text = catalog.readable(found[0])
    assert subject.startswith(f"Add DNS records to validate {names[0]}")
    assert all(name in text for name in names)


def test_readable_texts_say_what_to_do() -> None:
    failed = item("d", certificateStatus="FAILED", **NO_DIST, error="CAA forbids it")
    found = catalog.from_status(status([item("a"), failed], state="FAILED", prompt="d: CAA"))
    text = {e.type: catalog.readable(e) for e in found}
    assert "da.cloudfront.net" in text[EventType.DISTRIBUTION_DEPLOYED][1]
    assert "CAA forbids it" in text[EventType.ITEM_FAILED][1]
    assert text[EventType.JOB_FAILED][0] == f"Job {JOB} failed"
    warning = catalog.expiring(
        JOB, ItemOutputs.model_validate(item("a")), NOW + timedelta(days=6), NOW
    )
    assert warning is not None
    subject, body = catalog.readable(warning)
    assert "a.example.com" in subject
    assert "7 days" in body and (NOW + timedelta(days=6)).isoformat() in body
