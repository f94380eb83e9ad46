"""When an item and a job have ended: the rules the step, the watcher and
the status record share."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.lifecycle import awaits_aws, item_ended, job_ended


def item(status: str, dist: str | None = None, deployed: bool = False) -> dict[str, Any]:
    return {
        "key": "k",
        "certificateArn": "arn",
        "certificateStatus": status,
        "distributionId": dist,
        "distributionStatus": "Deployed" if deployed else ("InProgress" if dist else None),
    }


@pytest.mark.parametrize(
    ("found", "auto_creation", "ended"),
    [
        (item("PENDING_VALIDATION"), True, False),
        (item("ISSUED"), True, False),
        (item("ISSUED", "E1"), True, False),
        (item("ISSUED", "E1", deployed=True), True, True),
        (item("ISSUED"), False, True),
        (item("PENDING_VALIDATION"), False, False),
        (item("VALIDATION_TIMED_OUT"), True, True),
        (item("FAILED"), False, True),
    ],
)
def test_an_item_ends_issued_and_deployed_or_failed(
    found: dict[str, Any], auto_creation: bool, ended: bool
) -> None:
    assert item_ended(found, {}, auto_creation) is ended


def test_an_item_with_a_recorded_error_has_ended() -> None:
    assert item_ended(item("PENDING_VALIDATION"), {"k": "certificate FAILED"}, True)


def test_a_job_ends_when_every_expected_item_has() -> None:
    done = item("ISSUED", "E1", deployed=True)
    assert job_ended([done], 1, {}, True)
    assert not job_ended([done], 2, {}, True)  # an item not made yet
    assert not job_ended([done, {**item("PENDING_VALIDATION"), "key": "j"}], 2, {}, True)
    failed = {**item("VALIDATION_TIMED_OUT"), "key": "j"}
    assert job_ended([done, failed], 2, {}, True)  # one failure doesn't hold the others


def test_the_watcher_asks_aws_only_about_what_is_pending() -> None:
    assert awaits_aws(item("PENDING_VALIDATION")) == (True, False)
    assert awaits_aws(item("ISSUED", "E1")) == (False, True)
    assert awaits_aws(item("ISSUED", "E1", deployed=True)) == (False, False)
