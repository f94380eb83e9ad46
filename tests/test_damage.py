"""A job something of which can't be read is that job's damage alone: shown
as DAMAGED, listed, skipped by the watcher, deletable; and a name is held
by one live job at a time. Without the engine."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
from botocore.exceptions import ReadTimeoutError

from provisioning.actions import job_calls
from provisioning.engine.state import Backend, checkpoint, stack_key
from provisioning.errors import DamagedJob, NamesHeld, RequestRejected, StaleRecord
from provisioning.jobs.dynamodb_store import DynamoDBJobStore, claim_key
from provisioning.jobs.local_store import LocalJobStore
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import JobStatus, Phase
from provisioning.jobs.store import CLAIM_GRACE_SECONDS, INPUTS, NAMES, JobStore
from provisioning.service import Service
from provisioning.settings import PROJECT
from provisioning.worker import step
from provisioning.worker.supervisor import Supervisor
from tests.clients import PROCESS
from tests.records import job_record as record

_ids = itertools.count(1)


def job_id() -> str:
    return f"00000000-0000-4000-8000-{next(_ids):012d}"


def corrupt(store: JobStore, job: str) -> None:
    """What a disk or a bad hand leaves: bytes that are no record."""
    if isinstance(store, LocalJobStore):
        (store.folder(job) / "record.json").write_bytes(b'{"jobId": "trunc')
    else:
        dynamo = cast(DynamoDBJobStore, store)
        dynamo.client.update_item(
            TableName=dynamo.table,
            Key={"jobId": {"S": job}, "part": {"S": "record"}},
            UpdateExpression="SET body = :junk",
            ExpressionAttributeValues={":junk": {"B": b"not compressed"}},
        )


def test_a_record_that_cant_be_read_is_listed_as_its_damage(store: JobStore) -> None:
    healthy, damaged = job_id(), job_id()
    store.create(record(healthy, creationDate="2026-11-30T00:00:01+00:00"), {})
    store.create(record(damaged, creationDate="2026-11-30T00:00:00+00:00"), {})
    corrupt(store, damaged)

    with pytest.raises(DamagedJob) as raised:
        store.get(damaged)
    assert raised.value.job_id == damaged and raised.value.part == "record"
    page, _ = store.page(10, None)
    assert [type(found) for found in page] == [JobRecord, DamagedJob]
    assert cast(DamagedJob, page[1]).job_id == damaged
    assert store.get(healthy) is not None

    with pytest.raises(StaleRecord):  # only a record that can't be read is replaced
        store.salvage(record(healthy, phase=Phase.DESTROYING))
    salvaged = store.salvage(record(damaged, phase=Phase.DESTROYING))
    stored = store.get(damaged)
    assert stored is not None and stored.phase == Phase.DESTROYING
    assert stored.version == salvaged.version
    assert damaged in store.unfinished()
    store.put(stored.model_copy(update={"error": "conditional writes work again"}))
    store.delete(damaged)
    assert store.get(damaged) is None


def test_a_damaged_record_in_dynamodb_keeps_its_place_in_the_listing(aws: str) -> None:
    store = DynamoDBJobStore(f"jobs-{next(_ids)}", PROCESS.client("dynamodb"))
    job = job_id()
    store.create(record(job, creationDate="2026-11-29T10:00:00+00:00"), {})
    corrupt(store, job)
    [found], _ = store.page(10, None)
    assert isinstance(found, DamagedJob) and found.created == "2026-11-29T10:00:00+00:00"


def write_checkpoint(service: Service, job: str, raw: bytes) -> Path:
    path = Path(service.backend.root) / stack_key(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


GOOD_CHECKPOINT = {
    "version": 3,
    "checkpoint": {
        "latest": {
            "resources": [
                {"type": "pulumi:pulumi:Stack", "outputs": {"items": []}},
            ]
        }
    },
}


@pytest.mark.parametrize(
    "raw",
    [json.dumps(GOOD_CHECKPOINT).encode()[:40], b"[1, 2]", b"\xff\xfe", b'{"version": 3}'],
    ids=["truncated", "not-an-object", "not-text", "no-checkpoint"],
)
def test_a_checkpoint_that_cant_be_read_is_the_jobs_damage(service: Service, raw: bytes) -> None:
    job = job_id()
    assert checkpoint(service.backend, job) is None
    write_checkpoint(service, job, raw)
    with pytest.raises(DamagedJob) as raised:
        checkpoint(service.backend, job)
    assert raised.value.part == "stack checkpoint" and raised.value.job_id == job


def test_aws_out_of_reach_is_not_damage(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some of botocore's timeouts are OSErrors too: they must stay AWS
    trouble, never make a job look damaged."""

    def timed_out(*_: object) -> bytes:
        raise ReadTimeoutError(endpoint_url="https://s3.amazonaws.com")

    monkeypatch.setattr(Backend, "read", timed_out)
    with pytest.raises(ReadTimeoutError):
        checkpoint(service.backend, job_id())


def test_status_and_listing_show_damage_and_leave_other_jobs_alone(service: Service) -> None:
    healthy, no_record, no_checkpoint = job_id(), job_id(), job_id()
    for n, job in enumerate((healthy, no_record, no_checkpoint)):
        service.store.create(record(job, creationDate=f"2026-11-30T00:00:0{n}+00:00"), {})
    write_checkpoint(service, healthy, json.dumps(GOOD_CHECKPOINT).encode())
    corrupt(service.store, no_record)
    write_checkpoint(service, no_checkpoint, json.dumps(GOOD_CHECKPOINT).encode()[:50])

    listed, _ = job_calls.statuses(service)
    by_id = {job["jobId"]: job for job in listed}
    assert by_id[healthy]["status"] == JobStatus.QUEUED
    assert by_id[healthy]["promptInfo"] == ""
    for job in (no_record, no_checkpoint):
        shown = job_calls.status(service, job)
        assert shown == by_id[job]
        assert shown["status"] == JobStatus.DAMAGED
        assert shown["certCreateStageStatus"] == "FAILED"
        assert f"DELETE /ssl_for_saas/jobs/{job}" in shown["promptInfo"]
    assert "its record can't be read (record.json: " in by_id[no_record]["promptInfo"]
    checkpoint_damage = by_id[no_checkpoint]["promptInfo"]
    assert "its stack checkpoint can't be read" in checkpoint_damage
    assert "stays, to remove by hand" in checkpoint_damage
    assert by_id[no_checkpoint]["jobType"] == "create"  # the record is still read
    assert by_id[no_checkpoint]["phase"] == Phase.QUEUED


def test_deleting_a_job_whose_record_cant_be_read_replaces_the_record(service: Service) -> None:
    job = job_id()
    service.store.create(record(job, phase=Phase.DONE), {INPUTS: b"{}"})
    corrupt(service.store, job)
    job_calls.request_destroy(service, job)
    stand_in = service.store.get(job)
    assert stand_in is not None and stand_in.phase == Phase.DESTROYING
    assert stand_in.error is not None and "its record can't be read" in stand_in.error
    assert job_calls.status(service, job)["status"] == JobStatus.DESTROYING
    assert job in service.store.unfinished()  # the watcher hands it to a step


def test_destroying_a_job_whose_checkpoint_cant_be_read_removes_its_files(
    service: Service,
) -> None:
    job = job_id()
    service.store.create(record(job, phase=Phase.DESTROYING), {INPUTS: b"{}"})
    stack = write_checkpoint(service, job, b'{"version": 3, "checkpoint": {"lat')
    history = Path(service.backend.root) / f".pulumi/history/{PROJECT}/{job}/{job}-1.json"
    history.parent.mkdir(parents=True)
    history.write_text("{}")
    step.Step(service, job, cast(Any, None)).destroy()  # the engine is never asked
    assert not stack.exists() and not history.exists()
    assert service.store.get(job) is None
    assert not any(job in str(path) for path in Path(service.settings.root).rglob("*"))


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(Supervisor, "launch", lambda self, job: calls.append(job))
    return calls


def test_the_watcher_skips_damage_says_so_once_and_serves_the_rest(
    service: Service, launched: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    no_record, no_checkpoint, queued = job_id(), job_id(), job_id()
    service.store.create(record(no_record), {})
    service.store.create(record(no_checkpoint, phase=Phase.WAITING), {})
    corrupt(service.store, no_record)
    write_checkpoint(service, no_checkpoint, b"{")
    supervisor = Supervisor(service)
    with caplog.at_level(logging.WARNING, logger="provisioning.worker.supervisor"):
        supervisor.tick()
        service.store.create(record(queued), {})
        supervisor.tick()
    assert launched == [queued]
    skipped = [r.getMessage() for r in caplog.records if "skipping job" in r.getMessage()]
    assert len(skipped) == 2
    assert any(no_record in line for line in skipped)
    assert any(no_checkpoint in line for line in skipped)

    job_calls.request_destroy(service, no_record)  # readable again: watched again
    supervisor.tick()
    assert launched == [queued, no_record, queued]


def test_a_name_is_held_by_one_live_job(store: JobStore) -> None:
    first, second = job_id(), job_id()
    store.create(record(first), {}, ("shop.example.com", "www.shop.example.com"))
    with pytest.raises(NamesHeld) as raised:
        store.create(record(second), {INPUTS: b"{}"}, ("new.example.com", "shop.example.com"))
    assert raised.value.held == {"shop.example.com": first}
    assert store.get(second) is None and store.get_blob(second, INPUTS) is None
    assert store.holders(("shop.example.com", "new.example.com")) == {"shop.example.com": first}
    # Nothing of the refused job's claims stays: the free name is free.
    store.create(record(job_id()), {}, ("new.example.com",))

    current = store.get(first)
    assert current is not None
    store.put(current.model_copy(update={"phase": Phase.FAILED}))  # a failed job holds nothing
    assert store.holders(("shop.example.com",)) == {}
    store.create(record(second), {}, ("shop.example.com",))
    assert store.holders(("shop.example.com",)) == {"shop.example.com": second}
    store.delete(first)  # releases only its own claims
    assert store.holders(("shop.example.com",)) == {"shop.example.com": second}

    store.delete(second)
    assert store.holders(("shop.example.com",)) == {}
    if isinstance(store, LocalJobStore):
        assert not (store.claims / "shop.example.com").exists()
    else:
        dynamo = cast(DynamoDBJobStore, store)
        claim = claim_key("shop.example.com")
        assert "Item" not in dynamo.client.get_item(TableName=dynamo.table, Key=claim)


def test_a_damaged_job_holds_its_names_until_deleted(store: JobStore) -> None:
    holder = job_id()
    store.create(record(holder), {}, ("shop.example.com",))
    corrupt(store, holder)
    with pytest.raises(NamesHeld):
        store.create(record(job_id()), {}, ("shop.example.com",))
    store.delete(holder)
    store.create(record(job_id()), {}, ("shop.example.com",))


def test_a_claim_left_by_a_submission_that_died_lapses(store: JobStore) -> None:
    """Claims come before the record: a claim without one is a submission
    under way, until it is older than any submission takes."""
    dead = job_id()
    store.create(record(dead), {}, ("shop.example.com",))
    # The record never written: what a submitter killed after claiming leaves.
    if isinstance(store, LocalJobStore):
        (store.folder(dead) / "record.json").unlink()
    else:
        cast(DynamoDBJobStore, store).delete_parts(dead, {"record"})
    assert store.holders(("shop.example.com",)) == {"shop.example.com": dead}
    claimed = time.time() - CLAIM_GRACE_SECONDS - 1
    if isinstance(store, LocalJobStore):
        claim = json.dumps({"job": dead, "at": claimed}).encode()
        (store.claims / "shop.example.com").write_bytes(claim)
    else:
        dynamo = cast(DynamoDBJobStore, store)
        dynamo.client.update_item(
            TableName=dynamo.table,
            Key=claim_key("shop.example.com"),
            UpdateExpression="SET claimedAt = :then",
            ExpressionAttributeValues={":then": {"N": repr(claimed)}},
        )
    assert store.holders(("shop.example.com",)) == {}
    taker = job_id()
    store.create(record(taker), {}, ("shop.example.com",))
    assert store.holders(("shop.example.com",)) == {"shop.example.com": taker}


def test_of_two_submissions_at_once_one_gets_the_name(tmp_path: Path) -> None:
    store = LocalJobStore(tmp_path / "jobs")
    contenders = [job_id() for _ in range(8)]
    won: list[str] = []
    refused: list[dict[str, str]] = []
    start = threading.Barrier(len(contenders))

    def submit(job: str) -> None:
        start.wait()
        try:
            store.create(record(job), {}, ("race.example.com",))
            won.append(job)
        except NamesHeld as held:
            refused.append(held.held)

    threads = [threading.Thread(target=submit, args=(job,)) for job in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(refused) == len(contenders) - 1
    assert all(held == {"race.example.com": won[0]} for held in refused)


REQUEST = {
    "acm_op": "create",
    "auto_creation": "false",
    "cnameList": [
        {"domainName": "blog.example.com"},
        {"domainName": "Shop.Example.com", "sanList": ["www.shop.example.com"]},
    ],
}


def test_submission_and_preview_refuse_a_held_name_at_its_place(service: Service) -> None:
    holder = job_calls.submit(service, json.dumps(REQUEST).encode(), lambda _: None)
    other = {
        **REQUEST,
        "cnameList": [
            {"domainName": "new.example.com"},
            {"domainName": "www.shop.example.com", "sanList": ["shop.example.com"]},
        ],
    }
    body = json.dumps(other).encode()
    refusals = []
    for attempt in (
        lambda: job_calls.submit(service, body, lambda _: None),
        lambda: job_calls.preview(service, body),
    ):
        with pytest.raises(RequestRejected) as raised:
            attempt()
        refusals.append([str(p) for p in raised.value.problems])
    expected = [
        f"cnameList[1].domainName: www.shop.example.com is held by job {holder}; "
        "delete that job first",
        f"cnameList[1].sanList: shop.example.com is held by job {holder}; delete that job first",
    ]
    assert refusals == [expected, expected]
    assert [job["jobId"] for job in job_calls.statuses(service)[0]] == [holder]
    assert json.loads(service.store.get_blob(holder, NAMES) or b"") == [
        "blog.example.com",
        "shop.example.com",
        "www.shop.example.com",
    ]
