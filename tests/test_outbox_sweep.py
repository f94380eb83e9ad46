"""Events read off a job's status (post_job_events) and the periodic sweep over every
job: events a step never posted, and certificates nearing their end
(imported ones ending in 30/7/1 days, managed renewals ACM reports failing),
each posted once. No Pulumi engine: stack outputs are written as the
checkpoint the engine would leave, certificates live in moto's ACM."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from moto.acm.models import acm_backends

from provisioning.aws_clients import AwsClients
from provisioning.engine.state import stack_key
from provisioning.events import outbox
from provisioning.events.outbox import Dispatcher
from provisioning.jobs.states import Phase
from provisioning.jobs.store import EMITTED
from provisioning.service import Service
from tests.clients import ACM, PROCESS, StandIn
from tests.helpers import make_service
from tests.material import issue
from tests.records import stored

HOOK = "https://hooks.example.com/ssl"
STATUS_EVENTS = ["certificate.issued", "distribution.deployed", "job.succeeded"]


pytestmark = pytest.mark.usefixtures("no_event_settings")


def hooked(tmp_path: Path, aws: AwsClients = PROCESS, **settings: Any) -> Service:
    return make_service(tmp_path, aws=aws, webhook_url=HOOK, **settings)


def job_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def item(arn: str, deployed: bool = True) -> dict[str, Any]:
    return {
        "key": "cnameList[0]",
        "names": ["shop.example.com"],
        "certificateArn": arn,
        "certificateStatus": "ISSUED",
        "distributionId": "E1",
        "distributionArn": "arn:aws:cloudfront::123456789012:distribution/E1",
        "distributionDomainName": "d1.cloudfront.net",
        "distributionStatus": "Deployed" if deployed else "InProgress",
    }


def add_job(
    service: Service, n: int, items: list[dict[str, Any]] | None = None, **changes: Any
) -> str:
    """A job with ``items`` in its stack outputs (no stack without them)."""
    made = stored(service, job_id(n), **{"phase": Phase.DONE, **changes})
    if items is not None:
        path = Path(service.backend.root) / stack_key(made.jobId)
        path.parent.mkdir(parents=True, exist_ok=True)
        stack = {"type": "pulumi:pulumi:Stack", "outputs": {"items": items}}
        path.write_text(json.dumps({"checkpoint": {"latest": {"resources": [stack]}}}))
    return made.jobId


def taken(service: Service) -> list[dict[str, Any]]:
    """The events waiting for the webhook, oldest first, taken out of the
    outbox as a dispatcher would: what a later call posts is new."""
    found = service.store.deliveries(HOOK, 10_000)
    for delivery in found:
        service.store.drop_delivery(delivery)
    return [json.loads(d.body) for d in found]


def types(found: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in found]


def imported(days: float, arn: str | None = None) -> tuple[str, datetime]:
    """An IMPORTED certificate in moto's ACM ending ``days`` from now (in
    place of ``arn`` when given, as a re-import does)."""
    not_after = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    pem = issue(["shop.example.com"], key="ec-p256", not_after=not_after)
    answer = PROCESS.acm().import_certificate(
        Certificate=pem.cert_pem.encode(),
        PrivateKey=pem.key_pem.encode(),
        CertificateChain=pem.chain_pem.encode(),
        **({"CertificateArn": arn} if arn else {}),
    )
    return answer["CertificateArn"], not_after


# post_job_events


def test_observe_posts_what_a_finished_job_shows_once(tmp_path: Path) -> None:
    service = hooked(tmp_path)
    job = add_job(service, 1, [item("arn:aws:acm:us-east-1:123456789012:certificate/a")])
    outbox.post_job_events(service, job)
    first = taken(service)
    assert types(first) == STATUS_EVENTS
    assert {e["jobId"] for e in first} == {job}
    emitted = service.store.get_blob(job, EMITTED)
    assert emitted is not None and set(json.loads(emitted)) == {e["id"] for e in first}
    outbox.post_job_events(service, job)
    assert taken(service) == []


def test_observe_without_a_target_writes_nothing(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    job = add_job(service, 1, [item("arn:aws:acm:us-east-1:123456789012:certificate/a")])
    outbox.post_job_events(service, job)
    assert service.store.get_blob(job, EMITTED) is None
    assert not (tmp_path / "jobs" / ".outbox").exists()


# sweep: imported certificates


def test_an_imported_certificate_ending_in_5_days_gets_the_7_day_warning_once(
    aws: str, tmp_path: Path
) -> None:
    service = hooked(tmp_path)
    arn, not_after = imported(5)
    job = add_job(service, 1, [item(arn)])
    outbox.sweep(service)
    found = taken(service)
    assert types(found) == [*STATUS_EVENTS, "certificate.expiring"]
    data = found[-1]["data"]
    assert "7 days" in data["reason"] and data["certificateArn"] == arn
    assert datetime.fromisoformat(data["notAfter"]) == not_after
    assert data["daysLeft"] == 4 and found[-1]["jobId"] == job
    outbox.sweep(service)
    assert taken(service) == []


def test_an_imported_certificate_ending_in_40_days_gets_no_warning(
    aws: str, tmp_path: Path
) -> None:
    service = hooked(tmp_path)
    add_job(service, 1, [item(imported(40)[0])])
    outbox.sweep(service)
    assert types(taken(service)) == STATUS_EVENTS


def test_a_reimported_certificate_ending_sooner_gets_the_1_day_warning_as_a_new_event(
    aws: str, tmp_path: Path
) -> None:
    service = hooked(tmp_path)
    arn, _ = imported(20)
    add_job(service, 1, [item(arn)])
    outbox.sweep(service)
    *_, thirty = taken(service)
    assert thirty["type"] == "certificate.expiring" and "30 days" in thirty["data"]["reason"]
    assert imported(0.5, arn)[0] == arn
    outbox.sweep(service)
    (one,) = taken(service)
    assert one["type"] == "certificate.expiring" and one["id"] != thirty["id"]
    assert one["data"]["reason"] == "the certificate ends within 1 day"
    assert one["data"]["daysLeft"] == 0
    outbox.sweep(service)
    assert taken(service) == []


# sweep: managed certificates


def test_a_failing_managed_renewal_gets_a_warning_once(aws: str, tmp_path: Path) -> None:
    acm = PROCESS.acm()
    arn = acm.request_certificate(DomainName="shop.example.com", ValidationMethod="DNS")[
        "CertificateArn"
    ]
    acm_backends["123456789012"]["us-east-1"].get_certificate(arn).status = "ISSUED"
    real = acm.describe_certificate

    def renewal_failed(**asked: Any) -> dict[str, Any]:
        """moto knows no RenewalSummary: added to its real answer."""
        answer = real(**asked)
        assert answer["Certificate"]["Type"] == "AMAZON_ISSUED"
        answer["Certificate"]["RenewalSummary"] = {
            "RenewalStatus": "FAILED",
            "RenewalStatusReason": "CAA_ERROR",
            "DomainValidationOptions": [],
            "UpdatedAt": datetime.now(UTC),
        }
        return answer

    service = hooked(tmp_path, StandIn({ACM: SimpleNamespace(describe_certificate=renewal_failed)}))
    add_job(service, 1, [item(arn)])
    outbox.sweep(service)
    found = taken(service)
    assert types(found) == [*STATUS_EVENTS, "certificate.expiring"]
    data = found[-1]["data"]
    assert data["reason"] == "ACM's managed renewal is failing: CAA_ERROR"
    assert "notAfter" not in data and data["certificateArn"] == arn
    outbox.sweep(service)
    assert taken(service) == []


# sweep: which jobs


@pytest.mark.parametrize(
    ("phase", "changes", "status_events"),
    [
        (Phase.WAITING, {}, ["certificate.issued", "distribution.deployed"]),
        (Phase.RUNNING, {}, ["certificate.issued", "distribution.deployed"]),
        (Phase.FAILED, {"error": "boom"}, [*STATUS_EVENTS[:2], "job.failed"]),
        (Phase.DESTROYING, {}, ["certificate.issued", "distribution.deployed"]),
    ],
)
def test_jobs_that_did_not_succeed_get_no_expiry_warnings(
    aws: str, tmp_path: Path, phase: Phase, changes: dict[str, Any], status_events: list[str]
) -> None:
    service = hooked(tmp_path)
    add_job(service, 1, [item(imported(5)[0])], phase=phase, **changes)
    outbox.sweep(service)
    assert types(taken(service)) == status_events


def test_a_damaged_job_is_skipped_and_the_others_are_swept(
    aws: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = hooked(tmp_path)
    arn, _ = imported(5)
    jobs = [add_job(service, n, [item(arn)]) for n in range(1, 5)]
    (tmp_path / "jobs" / jobs[1] / "record.json").write_bytes(b"\x00garbage{")
    (Path(service.backend.root) / stack_key(jobs[2])).write_text("not json")
    with caplog.at_level(logging.WARNING, logger="provisioning.events.outbox"):
        outbox.sweep(service)
    found = taken(service)
    for healthy in (jobs[0], jobs[3]):
        mine = [e for e in found if e["jobId"] == healthy]
        assert types(mine) == [*STATUS_EVENTS, "certificate.expiring"]
    assert {e["jobId"] for e in found} == {jobs[0], jobs[3]}
    assert service.store.get_blob(jobs[1], EMITTED) is None
    assert jobs[2] in caplog.text


def test_every_job_is_swept_past_the_first_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = hooked(tmp_path)
    jobs = {add_job(service, n, phase=Phase.FAILED, error="boom") for n in range(205)}
    pages = []
    page = service.store.page
    monkeypatch.setattr(service.store, "page", lambda *a: pages.append(a) or page(*a))
    outbox.sweep(service)
    found = taken(service)
    assert len(pages) == 3
    assert types(found) == ["job.failed"] * len(jobs)
    assert {e["jobId"] for e in found} == jobs


# the dispatcher's rounds


@pytest.mark.parametrize(("interval", "every_round"), [(3600, False), (0.01, True)])
def test_the_dispatcher_sweeps_once_per_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: float, every_round: bool
) -> None:
    service = hooked(tmp_path, expiry_check_seconds=interval)
    sweeps: list[Service] = []
    rounds: list[float] = []
    monkeypatch.setattr(outbox, "sweep", sweeps.append)
    dispatcher = Dispatcher(service)
    monkeypatch.setattr(dispatcher, "deliver_due", lambda: rounds.append(time.time()) or 0)
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.run_forever, args=(stop,), daemon=True)
    thread.start()
    time.sleep(1.5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert len(rounds) >= 2
    assert sweeps == [service] * (len(rounds) if every_round else 1)


# found wanting


def test_an_expiry_warnings_id_does_not_depend_on_the_time_zone(aws: str, tmp_path: Path) -> None:
    arn, _ = imported(5)
    found = {}
    for zone in ("UTC", "Asia/Tokyo"):
        service = hooked(tmp_path / zone)
        add_job(service, 1, [item(arn)])
        saved = os.environ.get("TZ")
        os.environ["TZ"] = zone
        time.tzset()
        try:
            outbox.sweep(service)
        finally:
            if saved is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = saved
            time.tzset()
        found[zone] = taken(service)[-1]
    assert found["UTC"]["id"] == found["Asia/Tokyo"]["id"]
    assert found["Asia/Tokyo"]["data"]["notAfter"].endswith("+00:00")


def test_a_certificate_acm_cannot_describe_does_not_hold_back_status_events(
    aws: str, tmp_path: Path
) -> None:
    service = hooked(tmp_path)
    add_job(service, 1, [item("arn:aws:acm:us-east-1:123456789012:certificate/gone")])
    outbox.sweep(service)
    assert types(taken(service)) == STATUS_EVENTS
