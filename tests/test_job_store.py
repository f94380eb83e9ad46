"""Both job stores keep the same promises: conditional writes, only open
jobs in the watcher's list, pages newest first, blobs of any size, and a
deletion that leaves nothing of the job."""

from __future__ import annotations

import itertools

import pytest

from provisioning.errors import BadPageToken, StaleRecord
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import Phase
from provisioning.jobs.store import JobStore, change
from tests.records import job_record as record

_ids = itertools.count(1)


def job_id() -> str:
    return f"00000000-0000-4000-8000-{next(_ids):012d}"


def test_a_write_against_a_stale_version_is_refused(store: JobStore) -> None:
    job = job_id()
    store.create(record(job), {})
    first = store.get(job)
    assert first is not None and first.version == 1
    stored = store.put(first.model_copy(update={"phase": Phase.RUNNING}))
    assert stored.version == 2
    with pytest.raises(StaleRecord):
        store.put(first.model_copy(update={"phase": Phase.FAILED}))
    current = store.get(job)
    assert current is not None and current.phase == Phase.RUNNING


def test_change_retries_until_its_write_wins(store: JobStore) -> None:
    job = job_id()
    store.create(record(job), {})
    calls = []

    def edit(current: JobRecord) -> JobRecord:
        calls.append(current.version)
        if len(calls) == 1:  # someone else writes between our read and our write
            store.put(current.model_copy(update={"error": "theirs"}))
        return current.model_copy(update={"item_errors": {"a": "mine"}})

    changed = change(store, job, edit)
    assert changed is not None
    assert (changed.error, changed.item_errors) == ("theirs", {"a": "mine"})
    assert calls == [1, 2]
    assert change(store, job, lambda _: None) is None
    assert change(store, job_id(), lambda r: r) is None


def test_a_job_is_created_once(store: JobStore) -> None:
    job = job_id()
    store.create(record(job), {})
    with pytest.raises((StaleRecord, FileExistsError)):
        store.create(record(job), {})


def test_only_open_jobs_are_listed_for_the_watcher(store: JobStore) -> None:
    jobs = {phase: job_id() for phase in Phase}
    for phase, job in jobs.items():
        store.create(record(job, phase=phase), {})
    assert store.unfinished() == sorted(
        jobs[p] for p in (Phase.QUEUED, Phase.RUNNING, Phase.WAITING, Phase.DESTROYING)
    )
    waiting = store.get(jobs[Phase.WAITING])
    assert waiting is not None
    store.put(waiting.model_copy(update={"phase": Phase.DONE}))
    assert jobs[Phase.WAITING] not in store.unfinished()


def test_pages_run_newest_first_and_end(store: JobStore) -> None:
    made = [job_id() for _ in range(5)]
    for n, job in enumerate(made):
        store.create(record(job, creationDate=f"2026-11-30T00:00:0{n}+00:00"), {})
    seen, token, pages = [], None, 0
    while True:
        page, token = store.page(2, token)
        pages += 1
        seen += [r.jobId for r in page]
        if token is None:
            break
    assert seen == list(reversed(made))
    assert pages in (3, 4)  # a store may need one empty page to know it has ended
    with pytest.raises(BadPageToken):
        store.page(2, "not-a-token")


def test_blobs_of_any_size_round_trip_and_deletion_leaves_nothing(store: JobStore) -> None:
    job = job_id()
    big = bytes(range(256)) * 4000  # about 1 MB: several DynamoDB items
    store.create(record(job), {"inputs": big, "small": b"x"})
    assert store.get_blob(job, "inputs") == big
    store.put_blob(job, "inputs", b"short now")
    assert store.get_blob(job, "inputs") == b"short now"
    store.delete_blob(job, "small")
    assert store.get_blob(job, "small") is None
    store.delete(job)
    assert store.get(job) is None
    assert store.get_blob(job, "inputs") is None
    assert job not in store.unfinished()
    assert store.page(10, None)[0] == []
