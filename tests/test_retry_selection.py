"""Retrying through the call itself (what the HTTP app and the command line
wrap): an unknown job is named in its refusal, a refused retry says exactly
why, and nothing is launched or changed when it is refused."""

from __future__ import annotations

import time

import pytest

from provisioning.actions.retry import retry
from provisioning.errors import JobConflict, UnknownJob
from provisioning.jobs.record import Lease
from provisioning.jobs.states import Phase
from provisioning.service import Service
from tests.records import JOB, stored

UNKNOWN = "99999999-2222-4333-8444-555555555555"


@pytest.mark.parametrize("job_id", [UNKNOWN, "not-a-job-id"])
def test_an_unknown_job_is_named_in_the_refusal(service: Service, job_id: str) -> None:
    stored(service, phase=Phase.DONE, item_errors={"cnameList[0]": "x"})
    launched: list[str] = []
    with pytest.raises(UnknownJob) as refused:
        retry(service, job_id, launched.append)
    assert refused.value.args == (job_id,)
    assert launched == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phase": Phase.DESTROYING}, "the job is being deleted"),
        (
            {"phase": Phase.DONE, "lease": Lease(owner="other:1:abc", expires=time.time() + 86400)},
            "a step of the job is running; retry once it ends",
        ),
        ({"phase": Phase.DONE, "item_errors": {}}, "nothing of the job has failed"),
    ],
    ids=["deleting", "stepping", "nothing-failed"],
)
def test_a_refused_retry_says_why_and_changes_nothing(
    service: Service, changes: dict[str, object], message: str
) -> None:
    before = stored(service, **{"item_errors": {"cnameList[0]": "FAILED: x"}, **changes})
    launched: list[str] = []
    with pytest.raises(JobConflict) as refused:
        retry(service, JOB, launched.append)
    assert refused.value.args == (message,)
    assert service.store.get(JOB) == before
    assert launched == []


def test_a_retried_job_is_launched_once_with_its_failed_items(service: Service) -> None:
    stored(service, phase=Phase.DONE, item_errors={"cnameList[0]": "FAILED: x"})
    launched: list[str] = []
    assert retry(service, JOB, launched.append) == ["cnameList[0]"]
    assert launched == [JOB]
