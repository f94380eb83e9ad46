"""The lease rules that keep two steps of one job from ever running at once,
on any instance, without the engine."""

from __future__ import annotations

import threading
import time

import pytest
from pulumi import automation as auto

from provisioning.jobs.record import Lease
from provisioning.jobs.states import Phase
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.worker import step
from provisioning.worker.lease import LeaseKeeper, Outcome, claim, release
from provisioning.worker.step import outdated
from tests.records import JOB, stored


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"lease_seconds": 3})


def ended(every_item: bool) -> Outcome:
    """An update's outcome: every item ended, or some still waiting."""
    return lambda record: record.update_succeeded(every_item, {})


def test_a_held_lease_keeps_every_other_step_out(service: Service) -> None:
    stored(service, phase=Phase.QUEUED)
    first = claim(service, JOB, "a")
    assert first is not None and first.phase == Phase.RUNNING and first.lease is not None
    assert first.lease.owner == "a" and not first.interrupted
    assert claim(service, JOB, "b") is None


def test_a_lapsed_lease_is_taken_over_and_the_takeover_knows(service: Service) -> None:
    stored(service, phase=Phase.RUNNING, lease=Lease(owner="dead", expires=time.time() - 1))
    taken = claim(service, JOB, "b")
    assert taken is not None and taken.lease is not None and taken.lease.owner == "b"
    assert taken.interrupted  # the dead step may have left resources behind
    assert release(service, JOB, "dead", ended(True)) is None  # the old holder can't write
    ended_step = release(service, JOB, "b", ended(False))
    assert ended_step is not None and ended_step.lease is None and not ended_step.interrupted
    assert ended_step.phase == Phase.WAITING


def test_a_finished_job_is_not_claimed(service: Service) -> None:
    stored(service, phase=Phase.DONE)
    assert claim(service, JOB, "a") is None


def test_a_deletion_asked_during_the_step_survives_its_release(service: Service) -> None:
    stored(service, phase=Phase.WAITING)
    assert claim(service, JOB, "a") is not None
    current = service.store.get(JOB)
    assert current is not None
    service.store.put(current.model_copy(update={"phase": Phase.DESTROYING}))
    released = release(service, JOB, "a", ended(True))
    assert released is not None and released.phase == Phase.DESTROYING
    assert released.lease is None


def test_the_holder_renews_and_stops_when_another_takes_the_job(service: Service) -> None:
    stored(service, phase=Phase.QUEUED)
    claimed = claim(service, JOB, "a")
    assert claimed is not None and claimed.lease is not None
    lost = threading.Event()
    with LeaseKeeper(service, JOB, "a", lost.set):
        time.sleep(2.5)  # more than one renewal period (1 s)
        renewed = service.store.get(JOB)
        assert renewed is not None and renewed.lease is not None
        assert renewed.lease.expires > claimed.lease.expires
        assert not lost.is_set()
        service.store.put(
            renewed.model_copy(update={"lease": Lease(owner="b", expires=time.time() + 60)})
        )
        assert lost.wait(5)


def test_a_renewal_that_hangs_stops_the_step_before_the_lease_lapses(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job store stops answering (each call may take half a minute of
    retries): the step stops two thirds into the term, not when the hanging
    call returns, so no other instance can start while it still runs."""
    stored(service, phase=Phase.QUEUED)
    claimed = claim(service, JOB, "a")
    assert claimed is not None and claimed.lease is not None
    released = threading.Event()

    def hanging(*_: object) -> None:
        released.wait(30)

    monkeypatch.setattr(service.store, "get", hanging)
    lost = threading.Event()
    started = time.time()
    with LeaseKeeper(service, JOB, "a", lost.set):
        assert lost.wait(10)
        stopped = time.time() - started
        released.set()
    assert stopped < claimed.lease.expires - started  # before the lease lapsed
    assert stopped >= service.settings.lease_seconds * 2 / 3 - 0.5


def test_a_job_left_with_a_lapsed_lease_is_claimed_as_interrupted(service: Service) -> None:
    stored(service, phase=Phase.WAITING, lease=Lease(owner="dead", expires=time.time() - 1))
    claimed = claim(service, JOB, "b")
    assert claimed is not None and claimed.interrupted


def test_an_update_refreshes_when_acm_knows_more_than_the_outputs() -> None:
    pending = {
        "items": [
            {"key": "a", "names": ["a.example.com"], "certificateStatus": "PENDING_VALIDATION"}
        ]
    }
    assert outdated(pending, frozenset({"a"}))
    assert not outdated(pending, frozenset())
    issued = {"items": [{"key": "a", "names": ["a.example.com"], "certificateStatus": "ISSUED"}]}
    assert not outdated(issued, frozenset({"a"}))
    assert not outdated(None, frozenset({"a"}))


def test_a_stack_another_updater_holds_is_waited_for_not_taken_over(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone outside the service runs `pulumi` on the job's stack: the
    step gives the job back to be tried later, as a job in its own right,
    never as one whose step died (whose engine lock a takeover clears)."""
    stored(service, phase=Phase.QUEUED)

    def busy(*_: object) -> dict[str, object]:
        raise auto.ConcurrentUpdateError("the stack is locked by another update")

    monkeypatch.setattr(step, "work", busy)
    monkeypatch.setattr(step.outbox, "post_job_events", lambda *_: None)
    step.run_step(service, JOB, lambda: None)
    after = service.store.get(JOB)
    assert after is not None
    assert (after.phase, after.lease, after.interrupted) == (Phase.WAITING, None, False)
    assert after.check_error and after.next_check > time.time()
    again = claim(service, JOB, "next")
    assert again is not None and not again.interrupted


def test_certificates_an_update_read_as_failed_are_recorded_failed() -> None:
    outputs = {
        "items": [
            {"key": "a", "names": ["a.example.com"], "certificateStatus": "ISSUED"},
            {"key": "b", "names": ["b.example.com"], "certificateStatus": "FAILED"},
            {"key": "c", "names": ["c.example.com"], "certificateStatus": "VALIDATION_TIMED_OUT"},
            {"key": "d", "names": ["d.example.com"]},
        ]
    }
    assert step.failures(outputs) == {
        "b": "certificate FAILED",
        "c": "certificate VALIDATION_TIMED_OUT",
    }
