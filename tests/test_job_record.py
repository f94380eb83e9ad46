"""Each transition of a job's record: exactly the fields it sets, every
other field left as it was, and the record it was made from untouched."""

from __future__ import annotations

import time
from typing import Any

import pytest

from provisioning.jobs.record import JobRecord, Lease
from provisioning.jobs.states import Phase, retry_delay

NOW = 1_800_000_000.0
POLL = 10.0


def busy(**fields: Any) -> JobRecord:
    """A record with every field away from its default, so that a field a
    transition resets or keeps shows either way."""
    made = {
        "jobId": "job-1",
        "jobType": "create",
        "creationDate": "2026-01-01T00:00:00+00:00",
        "job_input": {"acm_op": "create"},
        "items": 3,
        "auto_creation": True,
        "phase": Phase.WAITING,
        "error": "an old error",
        "item_errors": {"a": "certificate FAILED", "b": "certificate REVOKED"},
        "lease": Lease(owner="step-1", expires=NOW + 60),
        "interrupted": True,
        "refresh": True,
        "renewals": {"c": "renewal-1"},
        "check_error": "ACM throttled",
        "check_failures": 2,
        "next_check": NOW + 40,
        "version": 7,
        "updated": "2026-01-01T00:05:00+00:00",
    }
    return JobRecord.model_validate(made | fields)


def changes(before: JobRecord, after: JobRecord) -> dict[str, Any]:
    """The fields ``after`` differs in, with their new values."""
    old, new = before.model_dump(), after.model_dump()
    return {name: value for name, value in new.items() if old[name] != value}


def test_stamped_is_the_next_version_at_its_time() -> None:
    record = busy()
    stamped = record.stamped("2026-02-02T00:00:00+00:00")
    assert changes(record, stamped) == {"version": 8, "updated": "2026-02-02T00:00:00+00:00"}
    assert record == busy()


@pytest.mark.parametrize(
    ("phase", "lease", "interrupted", "phase_after", "interrupted_after"),
    [
        (Phase.QUEUED, None, False, Phase.RUNNING, False),
        (Phase.WAITING, None, False, Phase.RUNNING, False),
        # A lease found (lapsed) or a job left running: the last step died.
        (Phase.WAITING, Lease(owner="dead", expires=NOW - 1), False, Phase.RUNNING, True),
        (Phase.RUNNING, None, False, Phase.RUNNING, True),
        (Phase.QUEUED, None, True, Phase.RUNNING, True),
        (Phase.DESTROYING, None, False, Phase.DESTROYING, False),
    ],
)
def test_claimed_takes_the_lease_and_knows_a_dead_step(
    phase: Phase,
    lease: Lease | None,
    interrupted: bool,
    phase_after: Phase,
    interrupted_after: bool,
) -> None:
    record = busy(phase=phase, lease=lease, interrupted=interrupted)
    taken = record.claimed("step-2", NOW + 90)
    assert taken.lease == Lease(owner="step-2", expires=NOW + 90)
    assert (taken.phase, taken.interrupted) == (phase_after, interrupted_after)
    assert set(changes(record, taken)) <= {"lease", "phase", "interrupted"}


def test_lease_renewed_keeps_its_holder_and_nothing_else_changes() -> None:
    record = busy()
    renewed = record.lease_renewed(NOW + 120)
    assert changes(record, renewed) == {"lease": {"owner": "step-1", "expires": NOW + 120}}


def test_only_a_held_lease_is_renewed() -> None:
    with pytest.raises(ValueError, match="job-1"):
        busy(lease=None).lease_renewed(NOW + 120)


def test_released_gives_up_the_lease_and_the_renewals_applied() -> None:
    record = busy(phase=Phase.DONE, renewals={"c": "renewal-1", "d": "renewal-2"})
    released = record.released({"c": "renewal-1", "d": "renewal-2"})
    assert changes(record, released) == {"lease": None, "interrupted": False, "renewals": {}}


@pytest.mark.parametrize("phase", [Phase.DONE, Phase.WAITING])
def test_a_renewal_that_came_during_the_step_queues_the_job(phase: Phase) -> None:
    """Renewed again meanwhile: the blob applied is not the one the record
    names, which the next step applies."""
    record = busy(phase=phase, renewals={"c": "renewal-2"})
    released = record.released({"c": "renewal-1"})
    assert (released.phase, released.renewals) == (Phase.QUEUED, {"c": "renewal-2"})


@pytest.mark.parametrize("phase", [Phase.FAILED, Phase.DESTROYING])
def test_a_failed_or_deleted_job_is_not_queued_for_a_renewal(phase: Phase) -> None:
    released = busy(phase=phase).released({})
    assert (released.phase, released.renewals) == (phase, {"c": "renewal-1"})


@pytest.mark.parametrize(("ended", "phase"), [(True, Phase.DONE), (False, Phase.WAITING)])
def test_update_succeeded_records_the_items_and_starts_the_backoff_over(
    ended: bool, phase: Phase
) -> None:
    record = busy(phase=Phase.RUNNING)
    done = record.update_succeeded(ended, {"b": "certificate REVOKED"})
    assert changes(record, done) == {
        "phase": phase,
        "error": None,
        "item_errors": {"b": "certificate REVOKED"},
        "refresh": False,
        "check_error": None,
        "check_failures": 0,
        "next_check": 0.0,
    }


def test_deferred_waits_longer_each_time_and_refreshes_next() -> None:
    record = busy(phase=Phase.RUNNING, refresh=False)
    later = record.deferred("CloudFront unreachable", NOW, POLL)
    assert changes(record, later) == {
        "phase": Phase.WAITING,
        "refresh": True,
        "check_error": "CloudFront unreachable",
        "check_failures": 3,
        "next_check": NOW + retry_delay(POLL, 3),
    }
    again = later.deferred("CloudFront unreachable", NOW, POLL)
    assert again.next_check - NOW == 2 * (later.next_check - NOW)


def test_failed_says_why_and_keeps_the_rest() -> None:
    record = busy(phase=Phase.RUNNING)
    failed = record.failed("update failed: AccessDenied")
    assert changes(record, failed) == {
        "phase": Phase.FAILED,
        "error": "update failed: AccessDenied",
    }


@pytest.mark.parametrize(
    "outcome",
    [
        lambda r: r.update_succeeded(True, {}),
        lambda r: r.deferred("throttled", NOW, POLL),
        lambda r: r.failed("update failed"),
    ],
)
def test_no_outcome_undoes_a_deletion_asked_during_the_step(outcome: Any) -> None:
    assert outcome(busy(phase=Phase.DESTROYING)).phase == Phase.DESTROYING


def test_checks_cleared_resets_the_backoff_only() -> None:
    record = busy()
    cleared = record.checks_cleared()
    assert changes(record, cleared) == {"check_error": None, "check_failures": 0, "next_check": 0.0}


def test_check_failed_grows_the_backoff_and_leaves_the_phase() -> None:
    record = busy(refresh=False)
    failed = record.check_failed("ACM unreachable", NOW, POLL)
    assert changes(record, failed) == {
        "check_error": "ACM unreachable",
        "check_failures": 3,
        "next_check": NOW + retry_delay(POLL, 3),
    }


def test_news_found_marks_a_refresh_and_adds_the_failures() -> None:
    record = busy(refresh=False)
    seen = record.news_found(True, {"c": "certificate FAILED: CAA"})
    assert changes(record, seen) == {
        "refresh": True,
        "item_errors": {
            "a": "certificate FAILED",
            "b": "certificate REVOKED",
            "c": "certificate FAILED: CAA",
        },
        "check_error": None,
        "check_failures": 0,
        "next_check": 0.0,
    }


def test_news_found_without_news_keeps_a_refresh_already_asked_for() -> None:
    assert busy(refresh=True).news_found(False, {}).refresh
    assert not busy(refresh=False).news_found(False, {}).refresh


def test_retried_clears_the_failures_of_those_items_only() -> None:
    record = busy(phase=Phase.FAILED, refresh=False)
    again = record.retried(["a"])
    assert changes(record, again) == {
        "phase": Phase.QUEUED,
        "error": None,
        "item_errors": {"b": "certificate REVOKED"},
        "refresh": True,
        "check_error": None,
        "check_failures": 0,
        "next_check": 0.0,
    }


def test_a_renewal_for_a_job_no_step_holds_queues_it() -> None:
    record = busy(phase=Phase.DONE, lease=None)
    queued = record.renewal_queued("d", "renewal-2")
    assert changes(record, queued) == {
        "renewals": {"c": "renewal-1", "d": "renewal-2"},
        "phase": Phase.QUEUED,
        "error": None,
    }


def test_a_renewal_during_a_step_is_left_to_its_release() -> None:
    record = busy(phase=Phase.RUNNING, lease=Lease(owner="step-1", expires=time.time() + 60))
    queued = record.renewal_queued("c", "renewal-2")
    assert changes(record, queued) == {"renewals": {"c": "renewal-2"}}


@pytest.mark.parametrize("phase", list(Phase))
def test_destroy_requested_from_any_phase(phase: Phase) -> None:
    record = busy(phase=phase)
    marked = record.destroy_requested()
    assert marked.phase == Phase.DESTROYING
    assert set(changes(record, marked)) <= {"phase"}
