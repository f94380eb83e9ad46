"""The watcher's judgement of open jobs, without the engine: what it hands
to a step, what it leaves alone, what news from AWS it records, and how it
starts, limits and waits for step processes (a stand-in for Popen, so no
step ever runs here)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto.acm.models import acm_backends

from provisioning.engine.state import stack_key
from provisioning.errors import AwsFailure, DamagedJob
from provisioning.jobs.record import JobRecord, Lease
from provisioning.jobs.states import Phase
from provisioning.service import Service
from provisioning.worker import supervisor as watcher
from provisioning.worker.supervisor import Supervisor, logged, news_from_aws
from tests.clients import ACM, CLOUDFRONT, StandIn
from tests.records import JOB, stored

ACCOUNT = "123456789012"
OTHER = "11111111-2222-4333-8444-666666666666"
NOW = 1_000_000.0
THROTTLED = AwsFailure("acm", "DescribeCertificate", "throttled past the retries", True)


@pytest.fixture
def launched(service: Service, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(Supervisor, "launch", lambda self, job_id: calls.append(job_id))
    return calls


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watcher's clock stands at NOW (leases keep the real one)."""
    monkeypatch.setattr(watcher, "time", SimpleNamespace(time=lambda: NOW))


class FakeStep:
    """Stands in for a step process: records how it was started, runs until
    ``end`` is called."""

    def __init__(self, args: list[str], **options: Any) -> None:
        self.args, self.options = args, options
        self.returncode: int | None = None
        self.waited = False

    def poll(self) -> int | None:
        return self.returncode

    def wait(self) -> int:
        self.waited = True
        return 0

    def end(self) -> None:
        self.returncode = 0


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[FakeStep]:
    started: list[FakeStep] = []

    def popen(args: list[str], **options: Any) -> FakeStep:
        started.append(FakeStep(args, **options))
        return started[-1]

    monkeypatch.setattr(
        watcher, "subprocess", SimpleNamespace(Popen=popen, DEVNULL=subprocess.DEVNULL)
    )
    return started


def current(service: Service, job_id: str = JOB) -> JobRecord:
    found = service.store.get(job_id)
    assert found is not None
    return found


def corrupt(service: Service, job_id: str) -> None:
    (service.settings.root / "jobs" / job_id / "record.json").write_bytes(b'{"jobId": "tr')


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def requested_certificate() -> str:
    acm = boto3.client("acm", region_name="us-east-1")
    return str(
        acm.request_certificate(DomainName="a.example.com", ValidationMethod="DNS")[
            "CertificateArn"
        ]
    )


def outputs(arn: str) -> dict[str, Any]:
    return {
        "items": [
            {
                "key": "cnameList[0]",
                "names": ["shop.example.com"],
                "certificateArn": arn,
                "certificateStatus": "PENDING_VALIDATION",
            }
        ]
    }


class FakeAws:
    """ACM and CloudFront as the watcher asks them: certificate statuses by
    ARN, distribution statuses by id; anything else asked fails the test."""

    def __init__(
        self,
        certificates: dict[str, dict[str, str]] | None = None,
        distributions: dict[str, str] | None = None,
    ) -> None:
        self.certificates = certificates or {}
        self.distributions = distributions or {}
        self.asked: list[str] = []

    def describe_certificate(self, CertificateArn: str) -> dict[str, Any]:
        self.asked.append(CertificateArn)
        return {"Certificate": self.certificates[CertificateArn]}

    def get_distribution(self, Id: str) -> dict[str, Any]:
        self.asked.append(Id)
        return {"Distribution": {"Status": self.distributions[Id]}}


@pytest.fixture
def fake_aws() -> FakeAws:
    return FakeAws()


@pytest.fixture
def faked(service: Service, fake_aws: FakeAws) -> Service:
    """The service with the fake as its ACM (in us-east-1) and CloudFront;
    no other client is handed out."""
    return replace(service, aws=StandIn({ACM: fake_aws, CLOUDFRONT: fake_aws}))


def with_outputs(monkeypatch: pytest.MonkeyPatch, found: dict[str, Any] | None) -> None:
    monkeypatch.setattr(watcher, "stack_outputs", lambda backend, job_id: found)


# -- what the watcher hands to a step --------------------------------------


@pytest.mark.parametrize("phase", [Phase.QUEUED, Phase.RUNNING, Phase.DESTROYING])
def test_an_unheld_job_that_needs_a_step_gets_one(
    service: Service, launched: list[str], phase: Phase
) -> None:
    stored(service, phase=phase, lease=Lease(owner="dead", expires=time.time() - 1))
    Supervisor(service).tick()
    assert launched == [JOB]


@pytest.mark.parametrize("phase", [Phase.QUEUED, Phase.RUNNING, Phase.DESTROYING, Phase.WAITING])
def test_a_held_job_is_left_to_its_holder(
    service: Service, launched: list[str], phase: Phase
) -> None:
    stored(service, phase=phase, refresh=True, lease=Lease(owner="x", expires=time.time() + 60))
    Supervisor(service).tick()
    assert launched == []


@pytest.mark.parametrize("phase", [Phase.DONE, Phase.FAILED])
def test_an_ended_job_is_not_watched(service: Service, launched: list[str], phase: Phase) -> None:
    stored(service, phase=phase)
    supervisor = Supervisor(service)
    supervisor.tick()
    supervisor.tick(only=JOB)  # even when named
    assert launched == []


def test_a_tick_for_one_job_looks_at_that_job_only(
    service: Service, launched: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    stored(service, JOB)
    stored(service, OTHER)
    supervisor = Supervisor(service)
    supervisor.tick(only=OTHER)
    supervisor.tick(only="22222222-2222-4333-8444-555555555555")  # no such job: nothing
    assert launched == [OTHER]
    assert caplog.records == []


def test_a_job_this_instance_is_busy_with_is_skipped_and_the_rest_served(
    service: Service, launched: list[str]
) -> None:
    stored(service, JOB)
    stored(service, OTHER)
    supervisor = Supervisor(service)
    supervisor.running[JOB] = FakeStep([])  # type: ignore[assignment]
    supervisor.tick()
    assert launched == [OTHER]


@pytest.mark.parametrize(("next_check", "handed"), [(NOW, True), (NOW + 0.5, False)])
def test_no_job_goes_to_a_step_before_its_next_check(
    service: Service, launched: list[str], clock: None, next_check: float, handed: bool
) -> None:
    stored(service, phase=Phase.QUEUED, next_check=next_check)
    Supervisor(service).tick()
    assert launched == ([JOB] if handed else [])


def test_a_waiting_job_marked_for_refresh_goes_without_asking_aws(
    service: Service, launched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_asked(*_: object) -> bool:
        raise AssertionError("AWS asked")

    monkeypatch.setattr(watcher, "news_from_aws", not_asked)
    stored(service, phase=Phase.WAITING, refresh=True)
    Supervisor(service).tick()
    assert launched == [JOB]


@pytest.mark.parametrize("news", [True, False])
def test_a_waiting_job_goes_to_a_step_only_with_news(
    service: Service, launched: list[str], monkeypatch: pytest.MonkeyPatch, news: bool
) -> None:
    asked: list[JobRecord] = []

    def news_from_aws(service: Service, record: JobRecord) -> bool:
        asked.append(record)
        return news

    monkeypatch.setattr(watcher, "news_from_aws", news_from_aws)
    job = stored(service, phase=Phase.WAITING)
    Supervisor(service).tick()
    assert asked == [job]
    assert launched == ([JOB] if news else [])


def test_a_damaged_job_is_skipped_said_once_and_forgotten_once_deleted(
    service: Service, launched: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    stored(service, JOB)
    stored(service, OTHER)
    corrupt(service, JOB)
    supervisor = Supervisor(service)
    with caplog.at_level(logging.WARNING, logger="provisioning.worker.supervisor"):
        supervisor.tick()
        supervisor.tick()
        supervisor.tick(only=OTHER)
        assert supervisor.damaged == {JOB}  # a tick of one job forgets no other's damage
        service.store.delete(JOB)
        supervisor.tick()
    assert launched == [OTHER, OTHER, OTHER, OTHER]
    assert supervisor.damaged == set()
    assert messages(caplog, logging.WARNING) == [
        f"skipping job {JOB} until it is deleted: job {JOB}: its record can't be read "
        "(record.json: Invalid JSON: EOF while parsing a string at line 1 column 13)"
    ]


def test_a_job_read_again_is_watched_again_and_new_damage_said_again(
    service: Service, launched: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    good = stored(service)
    supervisor = Supervisor(service)
    corrupt(service, JOB)
    supervisor.tick()
    service.store.salvage(good)
    supervisor.tick()
    assert supervisor.damaged == set()
    corrupt(service, JOB)
    supervisor.tick()
    assert launched == [JOB]
    assert len(messages(caplog, logging.WARNING)) == 2


def test_one_jobs_failure_is_logged_and_stalls_no_other(
    service: Service,
    launched: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stored(service, JOB)
    stored(service, OTHER)
    read = service.store.get

    def get(job_id: str) -> JobRecord | None:
        if job_id == JOB:
            raise RuntimeError("a bug")
        return read(job_id)

    monkeypatch.setattr(service.store, "get", get)
    Supervisor(service).tick()
    assert launched == [OTHER]
    [failure] = caplog.records
    assert (failure.levelno, failure.getMessage()) == (
        logging.ERROR,
        f"watching job {JOB} failed",
    )
    assert failure.exc_info is not None and str(failure.exc_info[1]) == "a bug"


def test_aws_out_of_reach_while_watching_is_one_line(
    service: Service,
    launched: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def out_of_reach(*_: object) -> bool:
        raise THROTTLED

    monkeypatch.setattr(watcher, "news_from_aws", out_of_reach)
    stored(service, phase=Phase.WAITING)
    Supervisor(service).tick()
    [line] = caplog.records
    assert (line.levelno, line.getMessage(), line.exc_info) == (
        logging.WARNING,
        f"watching job {JOB} failed: acm DescribeCertificate failed: throttled past the retries",
        None,
    )


def test_logged_names_an_aws_failure_and_gives_anything_else_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="provisioning.worker.supervisor"):
        logged(THROTTLED, "job %s: %s went wrong", "j", "x")
        logged(KeyError("k"), "job %s: %s went wrong", "j", "y")
    aws, other = caplog.records
    assert (aws.levelno, aws.getMessage(), aws.exc_info) == (
        logging.WARNING,
        "job j: x went wrong: acm DescribeCertificate failed: throttled past the retries",
        None,
    )
    assert (other.levelno, other.getMessage()) == (logging.ERROR, "job j: y went wrong")
    assert other.exc_info is not None and isinstance(other.exc_info[1], KeyError)


# -- step processes ---------------------------------------------------------


def test_a_launched_job_runs_as_a_step_process_of_its_own_session(
    service: Service, steps: list[FakeStep], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_SAAS_WORKERS", "9")  # the settings win over the environment
    monkeypatch.setenv("UNRELATED_VARIABLE", "kept")
    Supervisor(service).launch(JOB)
    [step] = steps
    assert step.args == [sys.executable, "-m", "provisioning.worker.step", JOB]
    env = step.options["env"]
    assert env["UNRELATED_VARIABLE"] == "kept" and env["PATH"] == os.environ["PATH"]
    assert env["SSL_SAAS_WORKERS"] == "2"
    assert env["SSL_SAAS_STATE_DIR"] == str(service.settings.root)
    assert step.options["stdin"] == subprocess.DEVNULL
    assert step.options["start_new_session"] is True


def test_at_most_workers_steps_run_and_the_others_wait_their_turn(
    service: Service, steps: list[FakeStep]
) -> None:
    jobs = [f"11111111-2222-4333-8444-00000000000{n}" for n in range(5)]
    supervisor = Supervisor(service)
    for job in jobs[:3]:
        supervisor.launch(job)
    supervisor.launch(jobs[0])  # running already
    supervisor.launch(jobs[2])  # waiting already
    assert [s.args[-1] for s in steps] == jobs[:2]
    assert supervisor.waiting == [jobs[2]]
    assert all(supervisor.busy(job) for job in jobs[:3])
    assert not supervisor.busy(jobs[3])

    supervisor.launch(jobs[3])
    steps[0].end()
    assert not supervisor.busy(jobs[0])  # a step that ended is reaped
    supervisor.launch(jobs[4])  # first come, first started
    assert [s.args[-1] for s in steps] == jobs[:3]
    assert supervisor.waiting == [jobs[3], jobs[4]]
    assert set(supervisor.running) == {jobs[1], jobs[2]}


def test_a_tick_starts_waiting_steps_as_running_ones_end(
    service: Service, steps: list[FakeStep]
) -> None:
    supervisor = Supervisor(service)
    for job in (JOB, OTHER, "11111111-2222-4333-8444-777777777777"):
        supervisor.launch(job)
    steps[1].end()
    supervisor.tick()
    assert [s.args[-1] for s in steps] == [JOB, OTHER, "11111111-2222-4333-8444-777777777777"]
    assert supervisor.waiting == []


def test_stop_waits_for_every_running_step(service: Service, steps: list[FakeStep]) -> None:
    supervisor = Supervisor(service)
    supervisor.launch(JOB)
    supervisor.launch(OTHER)
    supervisor.stop()
    assert [s.waited for s in steps] == [True, True]


class Stop(threading.Event):
    """Records each pause between ticks instead of taking it."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout)
        return self.is_set()


def test_the_watcher_ticks_every_poll_until_stopped_whatever_a_tick_does(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stop = Stop()
    ticks: list[int] = []

    def tick(self: Supervisor) -> None:
        ticks.append(len(ticks))
        if len(ticks) == 1:
            raise RuntimeError("a bad tick")
        if len(ticks) == 3:
            stop.set()

    monkeypatch.setattr(Supervisor, "tick", tick)
    loop = threading.Thread(target=Supervisor(service).run_forever, args=(stop,), daemon=True)
    loop.start()
    loop.join(10)
    assert not loop.is_alive()
    assert ticks == [0, 1, 2]
    assert stop.pauses == [1, 1, 1]
    [failure] = caplog.records
    assert (failure.levelno, failure.getMessage()) == (logging.ERROR, "watcher tick failed")
    assert failure.exc_info is not None


# -- news from AWS -----------------------------------------------------------


def test_a_waiting_job_without_news_waits(
    aws: str, service: Service, launched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = requested_certificate()
    before = stored(service, phase=Phase.WAITING)
    with_outputs(monkeypatch, outputs(arn))
    Supervisor(service).tick()
    assert launched == []
    assert current(service) == before  # not even rewritten


def test_an_issued_certificate_sends_the_job_to_a_refreshing_step(
    aws: str, service: Service, launched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = requested_certificate()
    acm_backends[ACCOUNT]["us-east-1"].get_certificate(arn).status = "ISSUED"
    stored(service, phase=Phase.WAITING)
    with_outputs(monkeypatch, outputs(arn))
    Supervisor(service).tick()
    assert launched == [JOB]
    record = current(service)
    assert record.refresh and record.item_errors == {}


@pytest.mark.parametrize("status", ["VALIDATION_TIMED_OUT", "FAILED"])
def test_failed_validation_is_recorded_on_the_item(
    aws: str, service: Service, status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = requested_certificate()
    acm_backends[ACCOUNT]["us-east-1"].get_certificate(arn).status = status
    job = stored(service, phase=Phase.WAITING)
    with_outputs(monkeypatch, outputs(arn))
    assert news_from_aws(service, job) is True
    record = current(service)
    assert list(record.item_errors) == ["cnameList[0]"]
    assert record.item_errors["cnameList[0]"].startswith(f"certificate {status}")
    assert record.refresh


def test_a_finished_deployment_is_news(
    aws: str, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    made = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "x",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o",
                        "DomainName": "o.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )["Distribution"]
    job = stored(service, phase=Phase.WAITING)
    item = {
        "key": "k",
        "names": ["k.example.com"],
        "certificateArn": "arn",
        "certificateStatus": "ISSUED",
        "distributionId": made["Id"],
        "distributionStatus": "InProgress",
    }
    # moto reports a new distribution Deployed at once.
    with_outputs(monkeypatch, {"items": [item]})
    assert news_from_aws(service, job) is True
    assert current(service).refresh

    other = stored(service, OTHER, phase=Phase.WAITING)
    with_outputs(monkeypatch, {"items": [{**item, "distributionStatus": "Deployed"}]})
    assert news_from_aws(service, other) is False  # the outputs already know
    assert current(service, OTHER) == other


@pytest.mark.parametrize(
    ("found", "news", "failures"),
    [
        ({"Status": "PENDING_VALIDATION"}, False, {}),
        ({"Status": "ISSUED"}, True, {}),
        (
            {"Status": "FAILED", "FailureReason": "CAA_ERROR"},
            True,
            {"cnameList[0]": "certificate FAILED: CAA_ERROR"},
        ),
        (
            {"Status": "VALIDATION_TIMED_OUT"},
            True,
            {"cnameList[0]": "certificate VALIDATION_TIMED_OUT: VALIDATION_TIMED_OUT"},
        ),
    ],
)
def test_what_acm_says_of_a_pending_certificate(
    faked: Service,
    fake_aws: FakeAws,
    monkeypatch: pytest.MonkeyPatch,
    found: dict[str, str],
    news: bool,
    failures: dict[str, str],
) -> None:
    fake_aws.certificates["arn:c"] = found
    job = stored(faked, phase=Phase.WAITING, item_errors={"other": "kept"})
    with_outputs(monkeypatch, outputs("arn:c"))
    assert news_from_aws(faked, job) is news
    assert fake_aws.asked == ["arn:c"]
    record = current(faked)
    assert record.refresh is news
    assert record.item_errors == {"other": "kept", **failures}


@pytest.mark.parametrize(("status", "news"), [("InProgress", False), ("Deployed", True)])
def test_what_cloudfront_says_of_a_deployment(
    faked: Service,
    fake_aws: FakeAws,
    monkeypatch: pytest.MonkeyPatch,
    status: str,
    news: bool,
) -> None:
    fake_aws.distributions["E1"] = status
    item = {
        "key": "k",
        "names": ["k.example.com"],
        "certificateStatus": "ISSUED",
        "distributionId": "E1",
    }
    job = stored(faked, phase=Phase.WAITING)
    with_outputs(monkeypatch, {"items": [item]})
    assert news_from_aws(faked, job) is news
    assert fake_aws.asked == ["E1"]
    assert current(faked).refresh is news


def test_one_items_news_is_the_jobs_news_and_every_item_is_asked(
    faked: Service, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_aws.certificates |= {"arn:a": {"Status": "ISSUED"}, "arn:b": {"Status": "FAILED"}}
    fake_aws.distributions["E1"] = "InProgress"
    items = [
        {
            "key": "a",
            "names": ["a.example.com"],
            "certificateArn": "arn:a",
            "certificateStatus": "PENDING_VALIDATION",
        },
        {
            "key": "b",
            "names": ["b.example.com"],
            "certificateArn": "arn:b",
            "certificateStatus": "PENDING_VALIDATION",
        },
        {
            "key": "c",
            "names": ["c.example.com"],
            "certificateStatus": "ISSUED",
            "distributionId": "E1",
        },
        {
            "key": "d",
            "names": ["d.example.com"],
            "certificateStatus": "ISSUED",
            "distributionId": "E2",
            "distributionStatus": "Deployed",
        },
    ]
    job = stored(faked, phase=Phase.WAITING)
    with_outputs(monkeypatch, {"items": items})
    assert news_from_aws(faked, job) is True
    assert fake_aws.asked == ["arn:a", "arn:b", "E1"]
    assert current(faked).item_errors == {"b": "certificate FAILED: FAILED"}


def test_a_job_without_a_stack_yet_has_no_news(
    faked: Service, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = stored(faked, phase=Phase.WAITING)
    with_outputs(monkeypatch, None)
    assert news_from_aws(faked, job) is False
    assert fake_aws.asked == []
    assert current(faked) == job


def test_news_leaves_a_job_that_left_waiting_meanwhile_alone(
    faked: Service, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_aws.certificates["arn:c"] = {"Status": "ISSUED"}
    seen = stored(faked, phase=Phase.WAITING)
    moved = faked.store.put(seen.model_copy(update={"phase": Phase.RUNNING}))
    with_outputs(monkeypatch, outputs("arn:c"))
    assert news_from_aws(faked, seen) is False
    assert current(faked) == moved


def test_an_answer_clears_an_earlier_failed_check_even_without_news(
    faked: Service, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_aws.certificates["arn:c"] = {"Status": "PENDING_VALIDATION"}
    job = stored(
        faked, phase=Phase.WAITING, check_error="acm failed", check_failures=3, next_check=5.0
    )
    with_outputs(monkeypatch, outputs("arn:c"))
    assert news_from_aws(faked, job) is False
    record = current(faked)
    assert (record.check_error, record.check_failures, record.next_check) == (None, 0, 0.0)
    assert record.refresh is False
    assert record.version == job.version + 1


def test_an_answer_with_nothing_to_ask_clears_a_failed_check_too(
    faked: Service, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = stored(faked, phase=Phase.WAITING, check_error="acm failed", check_failures=1)
    with_outputs(monkeypatch, {"items": []})
    assert news_from_aws(faked, job) is False
    record = current(faked)
    assert (record.check_error, record.check_failures, record.refresh) == (None, 0, False)
    assert fake_aws.asked == []


def test_an_earlier_refresh_mark_is_kept(
    faked: Service, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_aws.certificates["arn:c"] = {"Status": "PENDING_VALIDATION"}
    job = stored(faked, phase=Phase.WAITING, refresh=True, check_error="acm failed")
    with_outputs(monkeypatch, outputs("arn:c"))
    assert news_from_aws(faked, job) is False
    assert current(faked).refresh is True


def test_a_checkpoint_that_cant_be_read_is_damage_not_a_failed_check(
    faked: Service, fake_aws: FakeAws
) -> None:
    job = stored(faked, phase=Phase.WAITING)
    checkpoint = Path(faked.backend.root) / stack_key(JOB)
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b'{"checkpoint": ')
    with pytest.raises(DamagedJob):
        news_from_aws(faked, job)
    assert current(faked) == job


def test_a_failed_look_is_recorded_and_backs_off_twice_as_long_each_time(
    service: Service,
    clock: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def out_of_reach(*_: object) -> dict[str, Any]:
        raise THROTTLED

    monkeypatch.setattr(watcher, "stack_outputs", out_of_reach)
    job = stored(service, phase=Phase.WAITING)
    assert news_from_aws(service, job) is False
    first = current(service)
    reason = "acm DescribeCertificate failed: throttled past the retries"
    assert (first.check_error, first.check_failures, first.next_check) == (reason, 1, NOW + 2)
    assert news_from_aws(service, first) is False
    second = current(service)
    assert (second.check_failures, second.next_check) == (2, NOW + 4)
    assert not second.refresh and second.phase == Phase.WAITING
    assert (
        messages(caplog, logging.WARNING) == [f"job {JOB}: checking with AWS failed: {reason}"] * 2
    )


def test_a_look_that_breaks_otherwise_is_recorded_as_an_internal_error(
    service: Service,
    clock: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_: object) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(watcher, "stack_outputs", broken)
    job = stored(service, phase=Phase.WAITING)
    assert news_from_aws(service, job) is False
    record = current(service)
    assert record.check_error == "internal error (RuntimeError); see the log"
    assert (record.check_failures, record.next_check) == (1, NOW + 2)
    assert messages(caplog, logging.ERROR) == [f"job {JOB}: checking with AWS failed"]


def test_a_failed_look_at_a_job_that_left_waiting_is_not_recorded(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_reach(*_: object) -> dict[str, Any]:
        raise THROTTLED

    monkeypatch.setattr(watcher, "stack_outputs", out_of_reach)
    seen = stored(service, phase=Phase.WAITING)
    moved = service.store.put(seen.model_copy(update={"phase": Phase.DESTROYING}))
    assert news_from_aws(service, seen) is False
    assert current(service) == moved
