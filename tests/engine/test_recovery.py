"""Recovery from a step killed mid-update: the job's next step, on any
instance, takes the lapsed lease, clears the dead engine's lock and imports
what the dead step made but its stack never recorded (the engine writes the
stack's state only when an update ends), so nothing is left behind or made
twice."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
from moto.acm.models import acm_backends
from moto.cloudfront.models import cloudfront_backends

from provisioning.actions import job_calls
from provisioning.engine.state import stack_resources
from provisioning.jobs.states import Phase
from provisioning.program.resources import JOB_TAG
from provisioning.sandbox.session import ACCOUNT
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor
from tests.engine.jobs_helpers import REQUESTS, drive

pytestmark = pytest.mark.engine
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CERTIFICATE = "aws:acm/certificate:Certificate"


def distributions(job_id: str) -> list[str]:
    """Read from moto's memory (it runs in this process): fast enough to
    catch a resource between its creation and the engine recording it."""
    backend = cloudfront_backends[ACCOUNT]["global"]
    return [
        d.distribution_id
        for d in list(backend.distributions.values())
        if backend.tagger.get_tag_dict_for_resource(d.arn).get(JOB_TAG) == job_id
    ]


def certificates(job_id: str) -> list[str]:
    backend = acm_backends[ACCOUNT]["us-east-1"]
    while True:
        try:
            listed = list(backend.list_certificates(statuses=[], includes={}))
        except RuntimeError:  # moto's account changed while listed: list again
            continue
        return [c.arn for c in listed if c.tags.get(JOB_TAG) == job_id]


def kill_once_made(
    service: Service, supervisor: Supervisor, job_id: str, made: Callable[[str], list[str]]
) -> bool:
    """Kills the job's step (and its engine) the moment AWS holds the
    resource; True if the stack's state doesn't record it."""
    process = supervisor.running[job_id]
    deadline = time.time() + 120
    while not made(job_id):
        assert time.time() < deadline and process.poll() is None, "nothing was made"
        time.sleep(0.001)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    ids = {r.get("id") for r in stack_resources(service.backend, job_id)}
    return not set(made(job_id)) & ids


@pytest.mark.parametrize("made", [distributions, certificates], ids=["distribution", "certificate"])
def test_a_step_killed_while_creating_ends_with_exactly_one_of_each(
    service: Service, made: Callable[[str], list[str]]
) -> None:
    body = (REQUESTS / "import-one-working.json").read_bytes()
    for _ in range(5):  # unless the update ended first
        supervisor = Supervisor(service)
        job_id = job_calls.submit(service, body, supervisor.launch)
        if kill_once_made(service, supervisor, job_id, made):
            break
        job_calls.request_destroy(service, job_id)
        destroyed(service, job_id)
    else:
        pytest.fail("the kill never landed before the engine recorded the resource")
    record = service.store.get(job_id)
    assert record is not None and record.phase == Phase.RUNNING  # the dead step's

    job = drive(job_id, Supervisor(service), "SUCCESS")
    [item] = job["items"]
    assert distributions(job_id) == [item["distributionId"]]
    assert certificates(job_id) == [item["certificateArn"]]
    recorded = {r["type"]: r["id"] for r in stack_resources(service.backend, job_id) if "id" in r}
    assert recorded[DISTRIBUTION] == item["distributionId"]
    assert recorded[CERTIFICATE] == item["certificateArn"]

    job_calls.request_destroy(service, job_id)
    destroyed(service, job_id)
    assert distributions(job_id) == certificates(job_id) == []


def destroyed(service: Service, job_id: str, timeout: float = 180) -> None:
    supervisor = Supervisor(service)
    deadline = time.time() + timeout
    while service.store.get(job_id) is not None:
        assert time.time() < deadline, "the job was not destroyed"
        supervisor.tick()
        time.sleep(0.5)
