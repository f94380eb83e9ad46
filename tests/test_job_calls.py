"""Jobs as callers see them, without the engine: what a submission stores
(and never stores), what a preview creates (nothing), how a job is read,
listed a page at a time, and marked for destruction whatever it is doing."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from provisioning.actions import job_calls, preflight
from provisioning.engine.state import stack_key
from provisioning.errors import DamagedJob, Problem, RequestRejected, StaleRecord, UnknownJob
from provisioning.events import outbox
from provisioning.events.catalog import Event, EventType
from provisioning.jobs.ids import valid_id
from provisioning.jobs.record import JobRecord, Lease
from provisioning.jobs.sealed_keys import unseal
from provisioning.jobs.states import JobStatus, Phase
from provisioning.jobs.store import INPUTS, SEALED_KEYS
from provisioning.program.inputs import JobInputs
from provisioning.service import Service
from provisioning.settings import Settings
from tests.helpers import write_outputs
from tests.material import Issued, issue, private_ca
from tests.moto_account import distribution
from tests.records import stored

UNKNOWN = "99999999-2222-4333-8444-555555555555"
CREATE = {
    "acm_op": "create",
    "auto_creation": "false",
    "cnameList": [
        {"domainName": "Shop.Example.com", "sanList": ["www.shop.example.com"]},
        {"domainName": "blog.example.com"},
    ],
}


@functools.cache
def certificate() -> Issued:
    return issue(
        ["shop.example.com", "www.shop.example.com"], key="ec-p256", ca=private_ca(key="ec-p256")
    )


def import_request(issued: Issued, **item: Any) -> dict[str, Any]:
    return {
        "acm_op": "import",
        "auto_creation": "false",
        "pemList": [
            {
                "CertPem": issued.cert_pem,
                "PrivateKeyPem": issued.key_pem,
                "ChainPem": issued.chain_pem,
                **item,
            }
        ],
    }


def body(request: dict[str, Any]) -> bytes:
    return json.dumps(request).encode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"minimum_protocol_version": "TLSv1.2_2019"})


@pytest.fixture
def store_reads(service: Service, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The job ids the store is asked for."""
    asked: list[str] = []
    read = service.store.get

    def get(job_id: str) -> JobRecord | None:
        asked.append(job_id)
        return read(job_id)

    monkeypatch.setattr(service.store, "get", get)
    return asked


def job_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def corrupt(service: Service, job: str) -> None:
    (service.settings.root / "jobs" / job / "record.json").write_bytes(b"{")


def every_file(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


# -- submission ---------------------------------------------------------------


def test_a_submission_stores_the_job_and_hands_it_to_a_step(service: Service) -> None:
    launched: list[str] = []
    before = datetime.now(UTC)
    job = job_calls.submit(service, body(CREATE), launched.append)
    after = datetime.now(UTC)

    assert valid_id(job) and launched == [job]
    record = service.store.get(job)
    assert record is not None
    assert (record.jobId, record.jobType, record.items) == (job, "create", 2)
    assert (record.auto_creation, record.phase) == (False, Phase.QUEUED)
    created = datetime.fromisoformat(record.creationDate)
    assert created.utcoffset() is not None and before <= created <= after
    assert record.job_input == {
        "acm_op": "create",
        "auto_creation": False,
        "dist_aggregate": False,
        "enable_cname_check": False,
        "cnameList": [
            {
                "domainName": "shop.example.com",
                "sanList": ["shop.example.com", "www.shop.example.com"],
                "existing_cf_info": None,
            },
            {
                "domainName": "blog.example.com",
                "sanList": ["blog.example.com"],
                "existing_cf_info": None,
            },
        ],
    }

    inputs = JobInputs.model_validate_json(service.store.get_blob(job, INPUTS) or b"")
    assert (inputs.job_type, inputs.auto_creation) == ("create", False)
    assert inputs.minimum_protocol_version == "TLSv1.2_2019"
    assert inputs.accepted_at == created
    assert [(i.key, i.names, i.pin, i.imported) for i in inputs.items] == [
        ("cnameList[0]", ("shop.example.com", "www.shop.example.com"), None, False),
        ("cnameList[1]", ("blog.example.com",), None, False),
    ]
    assert service.store.get_blob(job, SEALED_KEYS) is None
    assert service.store.holders(
        ("shop.example.com", "www.shop.example.com", "blog.example.com")
    ) == {
        "shop.example.com": job,
        "www.shop.example.com": job,
        "blog.example.com": job,
    }


def test_an_imported_key_is_stored_only_sealed(service: Service) -> None:
    issued = certificate()
    job = job_calls.submit(service, body(import_request(issued)), lambda _: None)
    record = service.store.get(job)
    assert record is not None
    assert (record.jobType, record.items) == ("import", 1)
    assert "pemList" not in record.job_input

    sealed = service.store.get_blob(job, SEALED_KEYS)
    assert sealed is not None
    keys = unseal(sealed, service.settings, service.aws)
    assert {k: v.get_secret_value() for k, v in keys.items()} == {"pemList[0]": issued.key_pem}
    key_body = "".join(issued.key_pem.splitlines()[1:-1]).encode()
    assert key_body[:40] not in every_file(service.settings.root)

    inputs = JobInputs.model_validate_json(service.store.get_blob(job, INPUTS) or b"")
    [item] = inputs.items
    assert (item.key, item.certificate_pem, item.chain_pem) == (
        "pemList[0]",
        issued.cert_pem,
        issued.chain_pem,
    )


def test_submission_and_preview_ask_the_accounts_pre_flight(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the account would refuse (pre-flight) refuses both, with the
    service's own AWS clients and the validated request, and nothing is
    stored or launched."""
    asked: list[tuple[object, list[str], dict[str, object]]] = []

    def refusing(aws: object, valid: Any, templates: dict[str, object]) -> None:
        asked.append((aws, [i.key for i in valid.items], dict(templates)))
        raise RequestRejected([Problem("cnameList[0]", "already an alias elsewhere")])

    monkeypatch.setattr(preflight, "check", refusing)
    launched: list[str] = []
    for call in (
        lambda: job_calls.submit(service, body(CREATE), launched.append),
        lambda: job_calls.preview(service, body(CREATE)),
    ):
        with pytest.raises(RequestRejected) as refused:
            call()
        assert [str(p) for p in refused.value.problems] == [
            "cnameList[0]: already an alias elsewhere"
        ]
    expected = (service.aws, ["cnameList[0]", "cnameList[1]"], {})
    assert asked == [expected, expected]
    assert launched == []
    assert job_calls.statuses(service) == ([], None)


def test_an_accepted_job_posts_its_acceptance(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[tuple[Service, list[Event]]] = []
    monkeypatch.setattr(outbox, "post", lambda to, events: posted.append((to, events)))
    job = job_calls.submit(service, body(CREATE), lambda _: None)
    [(to, events)] = posted
    assert to is service
    assert [(e.type, e.jobId, e.data) for e in events] == [
        (EventType.JOB_ACCEPTED, job, {"jobType": "create", "items": 2})
    ]


def test_a_refused_request_stores_and_launches_nothing(service: Service) -> None:
    launched: list[str] = []
    with pytest.raises(RequestRejected):
        job_calls.submit(service, b'{"acm_op": "delete"}', launched.append)
    assert launched == []
    assert job_calls.statuses(service) == ([], None)


def test_names_another_job_holds_refuse_a_submission_at_their_place(service: Service) -> None:
    launched: list[str] = []
    holder = job_calls.submit(service, body(CREATE), launched.append)
    other = {
        **CREATE,
        "cnameList": [
            {"domainName": "new.example.com"},
            {"domainName": "www.shop.example.com", "sanList": ["shop.example.com"]},
        ],
    }
    for request, expected in [
        (
            other,
            [
                f"cnameList[1].domainName: www.shop.example.com is held by job {holder}; "
                "delete that job first",
                f"cnameList[1].sanList: shop.example.com is held by job {holder}; "
                "delete that job first",
            ],
        ),
        (
            import_request(certificate()),
            [
                f"pemList[0].CertPem: {name} is held by job {holder}; delete that job first"
                for name in ("shop.example.com", "www.shop.example.com")
            ],
        ),
    ]:
        with pytest.raises(RequestRejected) as raised:
            job_calls.submit(service, body(request), launched.append)
        assert [str(p) for p in raised.value.problems] == expected
        with pytest.raises(RequestRejected) as previewed:
            job_calls.preview(service, body(request))
        assert [str(p) for p in previewed.value.problems] == expected
    assert launched == [holder]
    assert [job["jobId"] for job in job_calls.statuses(service)[0]] == [holder]


# -- preview ------------------------------------------------------------------


def test_a_preview_says_what_would_be_made_and_creates_nothing(service: Service) -> None:
    assert job_calls.preview(service, body(CREATE)) == {
        "jobType": "create",
        "items": [
            {
                "key": "cnameList[0]",
                "names": ["shop.example.com", "www.shop.example.com"],
                "certificate": "requested (DNS validation)",
                "distributionFrom": None,
            },
            {
                "key": "cnameList[1]",
                "names": ["blog.example.com"],
                "certificate": "requested (DNS validation)",
                "distributionFrom": None,
            },
        ],
    }
    assert job_calls.preview(service, body(import_request(certificate()))) == {
        "jobType": "import",
        "items": [
            {
                "key": "pemList[0]",
                "names": ["shop.example.com", "www.shop.example.com"],
                "certificate": "imported",
                "distributionFrom": None,
            }
        ],
    }
    assert job_calls.statuses(service) == ([], None)
    assert service.store.holders(("shop.example.com",)) == {}
    assert not any(service.settings.root.rglob("*.blob"))


def test_a_preview_of_a_live_template_saves_no_version_and_a_submission_does(
    aws: str, service: Service
) -> None:
    source = distribution()
    request = {
        "acm_op": "create",
        "auto_creation": "true",
        "cnameList": [
            {"domainName": "a.example.com", "existing_cf_info": {"distribution_id": source}}
        ],
    }
    [previewed] = job_calls.preview(service, body(request))["items"]
    assert previewed["distributionFrom"] == {"distributionId": source, "version": 0}
    assert not Path(service.settings.config_store_url).exists()

    job = job_calls.submit(service, body(request), lambda _: None)
    inputs = JobInputs.model_validate_json(service.store.get_blob(job, INPUTS) or b"")
    assert [(i.pin.distribution_id, i.pin.version) for i in inputs.items if i.pin] == [(source, 1)]
    record = service.store.get(job)
    assert record is not None and record.auto_creation is True

    pinned = {
        **request,
        "cnameList": [
            {
                "domainName": "b.example.com",
                "existing_cf_info": {"distribution_id": source, "config_version_id": "1"},
            }
        ],
    }
    [previewed] = job_calls.preview(service, body(pinned))["items"]
    assert previewed["distributionFrom"] == {"distributionId": source, "version": 1}


# -- reading and listing --------------------------------------------------------


def test_a_job_is_read_with_its_stacks_outputs(service: Service) -> None:
    job = job_id(1)
    stored(service, job, phase=Phase.WAITING)
    item = {
        "key": "cnameList[0]",
        "names": ["a.example.com"],
        "certificateArn": "arn:cert",
        "certificateStatus": "PENDING_VALIDATION",
    }
    write_outputs(service, job, {"items": [item]})
    shown = job_calls.status(service, job)
    assert (shown["jobId"], shown["status"], shown["certList"]) == (
        job,
        JobStatus.INPROGRESS,
        ["arn:cert"],
    )


def test_an_unknown_job_is_unknown_and_a_malformed_id_never_reaches_the_store(
    service: Service, store_reads: list[str]
) -> None:
    for asked in (UNKNOWN, "../../etc/passwd", ""):
        with pytest.raises(UnknownJob) as read:
            job_calls.status(service, asked)
        with pytest.raises(UnknownJob) as destroyed:
            job_calls.request_destroy(service, asked)
        assert read.value.args == destroyed.value.args == (asked,)  # it names the job
    assert store_reads == [UNKNOWN, UNKNOWN]


def test_a_damaged_job_is_shown_as_its_damage(service: Service) -> None:
    no_record, no_checkpoint = job_id(1), job_id(2)
    stored(service, no_record)
    stored(service, no_checkpoint, phase=Phase.WAITING)
    corrupt(service, no_record)
    checkpoint = Path(service.backend.root) / stack_key(no_checkpoint)
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"[")

    lost = job_calls.status(service, no_record)
    assert (lost["status"], lost["phase"], lost["jobType"]) == (JobStatus.DAMAGED, None, "")
    kept = job_calls.status(service, no_checkpoint)
    assert (kept["status"], kept["phase"], kept["jobType"]) == (
        JobStatus.DAMAGED,
        Phase.WAITING,
        "create",
    )
    assert "its stack checkpoint can't be read" in kept["promptInfo"]
    listed = {job["jobId"]: job for job in job_calls.statuses(service)[0]}
    assert listed == {no_record: lost, no_checkpoint: kept}


def test_jobs_are_listed_newest_first_a_page_at_a_time(service: Service) -> None:
    for n in range(3):
        stored(service, job_id(n), creationDate=f"2026-11-30T00:00:0{n}+00:00")
    everything, last = job_calls.statuses(service)
    assert [job["jobId"] for job in everything] == [job_id(2), job_id(1), job_id(0)]
    assert last is None
    first, following = job_calls.statuses(service, 2)
    assert [job["jobId"] for job in first] == [job_id(2), job_id(1)]
    assert first == everything[:2]
    assert following is not None
    rest, last = job_calls.statuses(service, 2, following)
    assert [job["jobId"] for job in rest] == [job_id(0)]
    assert last is None


# -- destruction ------------------------------------------------------------------


def test_destruction_is_marked_whatever_the_job_is_doing(service: Service) -> None:
    job = job_id(1)
    lease = Lease(owner="another instance", expires=9e9)
    running = stored(service, job, phase=Phase.RUNNING, lease=lease, refresh=True)
    job_calls.request_destroy(service, job)
    marked = service.store.get(job)
    assert marked is not None
    assert marked.phase == Phase.DESTROYING
    expected = running.model_copy(update={"phase": Phase.DESTROYING})
    assert marked.model_dump(exclude={"version", "updated"}) == expected.model_dump(
        exclude={"version", "updated"}
    )
    assert job_calls.status(service, job)["status"] == JobStatus.DESTROYING


def test_destroying_a_job_whose_record_cant_be_read_stands_a_record_in(service: Service) -> None:
    job = job_id(1)
    stored(service, job, phase=Phase.DONE)
    corrupt(service, job)
    before = datetime.now(UTC)
    job_calls.request_destroy(service, job)
    stand_in = service.store.get(job)
    assert stand_in is not None
    assert (stand_in.jobId, stand_in.jobType, stand_in.job_input) == (job, "", {})
    assert (stand_in.items, stand_in.auto_creation, stand_in.phase) == (
        0,
        False,
        Phase.DESTROYING,
    )
    assert stand_in.error == (
        f"job {job}: its record can't be read (record.json: Invalid JSON: EOF while parsing "
        "an object at line 1 column 1); it is being deleted"
    )
    assert datetime.fromisoformat(stand_in.creationDate) >= before
    assert job in service.store.unfinished()


def test_a_stand_in_keeps_the_creation_date_the_store_still_knows() -> None:
    damage = DamagedJob(UNKNOWN, "record", "unreadable", created="2026-11-01T00:00:00+00:00")
    assert job_calls.stand_in(damage).creationDate == "2026-11-01T00:00:00+00:00"


def test_a_record_readable_again_before_the_stand_in_is_marked_instead(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance may repair or replace the record between the failed
    read and the stand-in's write: the destruction is decided again."""
    job = job_id(1)
    good = stored(service, job, phase=Phase.WAITING)
    corrupt(service, job)
    salvaged: list[JobRecord] = []

    def raced(record: JobRecord) -> JobRecord:
        salvaged.append(record)
        (service.settings.root / "jobs" / job / "record.json").write_text(good.model_dump_json())
        raise StaleRecord(job)

    monkeypatch.setattr(service.store, "salvage", raced)
    job_calls.request_destroy(service, job)
    marked = service.store.get(job)
    assert marked is not None
    assert (marked.phase, marked.jobType, marked.version) == (Phase.DESTROYING, "create", 2)
    assert len(salvaged) == 1
