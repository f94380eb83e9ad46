"""When an item and a job have ended, and how long a failed try waits: the
rules the step, the watcher and the status record share."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.jobs.states import (
    awaits_aws,
    certificate_failed,
    item_ended,
    item_failed,
    job_ended,
    retry_delay,
)
from provisioning.program.outputs import ItemOutputs


def item(status: str, dist: str | None = None, deployed: bool = False) -> ItemOutputs:
    return outputs(
        certificateArn="arn",
        certificateStatus=status,
        distributionId=dist,
        distributionStatus="Deployed" if deployed else ("InProgress" if dist else None),
    )


def outputs(**fields: Any) -> ItemOutputs:
    """Item ``k``'s outputs as the program exports them, with ``fields``."""
    return ItemOutputs.model_validate({"key": "k", "names": ["k.example.com"], **fields})


@pytest.mark.parametrize(
    ("found", "auto_creation", "ended"),
    [
        (item("PENDING_VALIDATION"), True, False),
        (item("ISSUED"), True, False),
        (item("ISSUED", "E1"), True, False),
        (item("ISSUED", "E1", deployed=True), True, True),
        # Outputs from before the certificate was issued never end a job.
        (item("PENDING_VALIDATION", "E1", deployed=True), True, False),
        (item("ISSUED"), False, True),
        (item("PENDING_VALIDATION"), False, False),
        (item("VALIDATION_TIMED_OUT"), True, True),
        (item("FAILED"), False, True),
    ],
)
def test_an_item_ends_issued_and_deployed_or_failed(
    found: ItemOutputs, auto_creation: bool, ended: bool
) -> None:
    assert item_ended(found, {}, auto_creation) is ended


def test_an_item_with_a_recorded_error_has_ended() -> None:
    assert item_ended(item("PENDING_VALIDATION"), {"k": "certificate FAILED"}, True)


def test_an_item_reusing_a_failed_items_certificate_has_failed_and_ended() -> None:
    shared = item("PENDING_VALIDATION").model_copy(update={"key": "j", "certificate_from": "k"})
    assert item_failed(shared, {"k": "certificate FAILED"})
    assert item_ended(shared, {"k": "certificate FAILED"}, True)
    assert not item_failed(shared, {})


def test_a_job_ends_when_every_expected_item_has() -> None:
    done = item("ISSUED", "E1", deployed=True)
    assert job_ended([done], 1, {}, True)
    assert not job_ended([done], 2, {}, True)  # an item not made yet
    pending = item("PENDING_VALIDATION").model_copy(update={"key": "j"})
    assert not job_ended([done, pending], 2, {}, True)
    failed = item("VALIDATION_TIMED_OUT").model_copy(update={"key": "j"})
    assert job_ended([done, failed], 2, {}, True)  # one failure doesn't hold the others
    issued = item("ISSUED", "E1")
    assert not job_ended([issued], 1, {}, True)  # its distribution still deploys
    assert job_ended([issued], 1, {}, False)  # none to wait for


def test_the_watcher_asks_aws_only_about_what_is_pending() -> None:
    assert awaits_aws(item("PENDING_VALIDATION")) == (True, False)
    assert awaits_aws(item("ISSUED", "E1")) == (False, True)
    assert awaits_aws(item("ISSUED", "E1", deployed=True)) == (False, False)


def test_the_watcher_asks_nothing_of_what_was_never_made() -> None:
    unmade = outputs(certificateStatus="PENDING_VALIDATION", distributionStatus=None)
    assert awaits_aws(unmade) == (False, False)
    assert awaits_aws(outputs()) == (False, False)


@pytest.mark.parametrize(
    ("status", "failed"),
    [
        ("VALIDATION_TIMED_OUT", True),
        ("FAILED", True),
        ("REVOKED", True),
        ("EXPIRED", True),
        ("INACTIVE", True),
        ("ISSUED", False),
        ("PENDING_VALIDATION", False),
        (None, False),
    ],
)
def test_which_certificate_statuses_are_failures(status: str | None, failed: bool) -> None:
    assert certificate_failed(status) is failed
    assert item_failed(outputs(certificateStatus=status), {}) is failed
    assert item_failed(outputs(certificateStatus=status), {"k": "reason"})
    assert not item_failed(outputs(certificateStatus="ISSUED"), {"other": "reason"})


def test_a_job_with_more_items_than_expected_has_not_ended() -> None:
    done = item("ISSUED", "E1", deployed=True)
    assert not job_ended([done, done.model_copy(update={"key": "j"})], 1, {}, True)
    assert job_ended([], 0, {}, True)


@pytest.mark.parametrize(
    ("poll", "failures", "expected"),
    [
        (30.0, 0, 30.0),
        (30.0, 1, 60.0),
        (30.0, 3, 240.0),
        (30.0, 5, 600.0),  # capped at ten minutes by default
        (1000.0, 0, 600.0),
    ],
)
def test_retries_wait_twice_as_long_each_time_up_to_a_limit(
    poll: float, failures: int, expected: float
) -> None:
    assert retry_delay(poll, failures) == expected


def test_the_doubling_stops_after_twenty_failures() -> None:
    assert retry_delay(1.0, 20, longest=1e12) == 2.0**20
    assert retry_delay(1.0, 40, longest=1e12) == 2.0**20
    assert retry_delay(1.0, 2, longest=3.0) == 3.0
    assert isinstance(retry_delay(1, 1, longest=10), float)
