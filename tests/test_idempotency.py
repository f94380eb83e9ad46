"""An Idempotency-Key makes a repeated submission answer the first one's
job, on both job stores: a repeat within a day (even while the first is
still storing its job, or once the job is deleted), never a second job; the
same key with another body is a conflict; a refused submission lets the key
go; a submitter that died lets it lapse; after a day it is free; and only
digests of the key and the body are stored."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from pathlib import Path
from typing import Any, cast

import pytest

from provisioning import cli
from provisioning.actions import job_calls
from provisioning.errors import IdempotencyConflict, Problem, RequestRejected, UnknownJob
from provisioning.jobs.dynamodb_store import DynamoDBJobStore
from provisioning.jobs.local_store import LocalJobStore
from provisioning.jobs.record import JobRecord
from provisioning.jobs.store import CLAIM_GRACE_SECONDS, IDEMPOTENCY_SECONDS, JobStore, KeyClaim
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.worker.supervisor import Supervisor

KEY = "order-4711 retry"
T0 = 1_800_000_000.0
CREATE = {
    "acm_op": "create",
    "auto_creation": "false",
    "cnameList": [{"domainName": "shop.example.com", "sanList": ["www.shop.example.com"]}],
}
OTHER = {"acm_op": "create", "auto_creation": "false", "cnameList": [{"domainName": "b.example"}]}


def body(request: dict[str, Any]) -> bytes:
    return json.dumps(request).encode()


@pytest.fixture
def settings(settings: Settings, store: JobStore) -> Settings:
    """The service keeps its jobs in ``store``: each test runs on both kinds."""
    if isinstance(store, DynamoDBJobStore):
        return settings.model_copy(update={"job_store": f"dynamodb://{store.table}"})
    return settings


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies submissions validated."""
    seen: list[bytes] = []
    accept = job_calls.accept

    def counted(sent: bytes, *args: Any, **kwargs: Any) -> Any:
        seen.append(sent)
        return accept(sent, *args, **kwargs)

    monkeypatch.setattr(job_calls, "accept", counted)
    return seen


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def every_job(service: Service) -> list[str]:
    listed, _ = service.store.page(100, None)
    return [cast(JobRecord, found).jobId for found in listed]


def claim(at: float, job: str, key: str = "a" * 64, sent: str = "b" * 64) -> KeyClaim:
    return KeyClaim(key=key, body=sent, job_id=job, at=at)


def job_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def test_the_same_body_with_the_same_key_twice_gives_one_job(
    service: Service, accepted: list[bytes]
) -> None:
    launched: list[str] = []
    first = job_calls.submit(service, body(CREATE), launched.append, KEY)
    again = job_calls.submit(service, body(CREATE), launched.append, KEY)
    assert again == first
    assert every_job(service) == [first]
    assert launched == [first]
    assert len(accepted) == 1  # the repeat is not validated again
    # The key is the caller's: another key makes another job (refused here
    # only because the first job holds the names).
    with pytest.raises(RequestRejected):
        job_calls.submit(service, body(CREATE), launched.append, KEY + "!")
    assert job_calls.submit(service, body(CREATE), launched.append, KEY) == first


def test_the_same_key_with_another_body_is_a_conflict_and_makes_nothing(
    service: Service,
) -> None:
    first = job_calls.submit(service, body(CREATE), lambda _: None, KEY)
    with pytest.raises(IdempotencyConflict, match="Idempotency-Key was used for another"):
        job_calls.submit(service, body(OTHER), lambda _: None, KEY)
    # Byte for byte: the same request written differently is another body.
    with pytest.raises(IdempotencyConflict):
        job_calls.submit(service, json.dumps(CREATE, indent=1).encode(), lambda _: None, KEY)
    assert every_job(service) == [first]
    assert job_calls.submit(service, body(OTHER), lambda _: None, "another key") != first


def test_a_refused_submission_lets_the_key_go(service: Service) -> None:
    bad = {**CREATE, "auto_creation": "maybe"}
    with pytest.raises(RequestRejected):
        job_calls.submit(service, body(bad), lambda _: None, KEY)
    holder = job_calls.submit(service, body(CREATE), lambda _: None)
    with pytest.raises(RequestRejected, match=f"held by job {holder}"):
        job_calls.submit(service, body(CREATE), lambda _: None, KEY)
    service.store.delete(holder)
    made = job_calls.submit(service, body(CREATE), lambda _: None, KEY)
    assert every_job(service) == [made] and made != holder


def test_a_repeat_answers_a_deleted_job_until_the_day_is_over(
    service: Service, accepted: list[bytes]
) -> None:
    clock = Clock()
    first = job_calls.submit(service, body(CREATE), lambda _: None, KEY, clock)
    service.store.delete(first)
    clock.now = T0 + IDEMPOTENCY_SECONDS - 1
    assert job_calls.submit(service, body(CREATE), lambda _: None, KEY, clock) == first
    with pytest.raises(UnknownJob):
        job_calls.status(service, first)
    assert len(accepted) == 1

    clock.now = T0 + IDEMPOTENCY_SECONDS
    second = job_calls.submit(service, body(CREATE), lambda _: None, KEY, clock)
    assert second != first and every_job(service) == [second]
    clock.now += IDEMPOTENCY_SECONDS - 1  # the new claim has a day of its own
    assert job_calls.submit(service, body(CREATE), lambda _: None, KEY, clock) == second
    assert len(accepted) == 2


def test_a_repeat_while_the_first_stores_its_job_answers_that_job(
    service: Service, accepted: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first has claimed the key and is still validating: the repeat
    waits for its job rather than making one, or answering an id that
    might never exist."""
    monkeypatch.setattr(job_calls, "KEY_POLL_SECONDS", 0.01)
    validating, repeat_waits = threading.Event(), threading.Event()
    accept, claim_key = job_calls.accept, service.store.claim_key

    def slow(sent: bytes, *args: Any, **kwargs: Any) -> Any:
        validating.set()
        assert repeat_waits.wait(10)
        return accept(sent, *args, **kwargs)

    def watched(made: KeyClaim) -> KeyClaim | None:
        held = claim_key(made)
        if held is not None:
            repeat_waits.set()
        return held

    monkeypatch.setattr(job_calls, "accept", slow)
    monkeypatch.setattr(service.store, "claim_key", watched)
    answers: dict[str, str] = {}
    launched: list[str] = []

    stored_when_answered: list[bool] = []

    def submit(name: str) -> None:
        answers[name] = job_calls.submit(service, body(CREATE), launched.append, KEY)
        stored_when_answered.append(service.store.get(answers[name]) is not None)

    first = threading.Thread(target=submit, args=("first",))
    first.start()
    assert validating.wait(10)
    repeat = threading.Thread(target=submit, args=("repeat",))
    repeat.start()
    first.join(10)
    repeat.join(10)
    assert answers["repeat"] == answers["first"]
    assert stored_when_answered == [True, True]
    assert every_job(service) == [answers["first"]] == launched
    assert len(accepted) == 1


def test_of_many_submissions_at_once_one_makes_the_job(service: Service) -> None:
    contenders = 8
    start = threading.Barrier(contenders)
    answers: list[str] = []
    launched: list[str] = []

    def submit() -> None:
        start.wait()
        answers.append(job_calls.submit(service, body(CREATE), launched.append, KEY))

    threads = [threading.Thread(target=submit) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == contenders and len(set(answers)) == 1
    assert every_job(service) == launched == answers[:1]


def test_a_claim_whose_job_was_never_stored_lapses(store: JobStore) -> None:
    """What a submitter killed between claiming and storing leaves: a
    submission under way, until it is older than any submission takes."""
    dead, taker, late = claim(T0, job_id(1)), claim(T0 + 1, job_id(2)), job_id(3)
    assert store.claim_key(dead) is None
    assert store.claim_key(taker) == dead
    taker = claim(T0 + CLAIM_GRACE_SECONDS, job_id(2))
    assert store.claim_key(taker) is None
    # The dead one, woken, changes nothing of the claim that replaced it.
    store.settle_key(dead)
    store.release_key(dead)
    assert store.claim_key(claim(T0 + CLAIM_GRACE_SECONDS + 1, late)) == taker

    store.settle_key(taker)  # its job stored: it holds, stored job or not
    settled = taker.model_copy(update={"done": True})
    end = T0 + CLAIM_GRACE_SECONDS + IDEMPOTENCY_SECONDS
    assert store.claim_key(claim(end - 1, late)) == settled
    store.release_key(taker)  # no longer the stored claim: it was settled
    assert store.claim_key(claim(end - 1, late)) == settled
    assert store.claim_key(claim(end, late)) is None


def test_a_released_claim_frees_its_key_at_once(store: JobStore) -> None:
    refused = claim(T0, job_id(1))
    assert store.claim_key(refused) is None
    store.release_key(refused)
    assert store.claim_key(claim(T0 + 1, job_id(2))) is None


def test_only_digests_of_the_key_and_the_body_are_stored(service: Service) -> None:
    key = "a-caller-secret-8c1f"
    made = job_calls.submit(service, body(OTHER), lambda _: None, key)
    key_digest = hashlib.sha256(key.encode()).hexdigest()
    body_digest = hashlib.sha256(body(OTHER)).hexdigest()
    if isinstance(service.store, LocalJobStore):
        root = service.store.root
        everything = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
        everything += "".join(str(p) for p in root.rglob("*")).encode()
        assert (service.store.key_claims / key_digest).is_file()
    else:
        dynamo = cast(DynamoDBJobStore, service.store)
        items = dynamo.client.scan(TableName=dynamo.table)["Items"]
        everything = repr(items).encode()
        claimed = next(i for i in items if i["jobId"]["S"] == f"idempotency#{key_digest}")
        assert claimed["holder"] == {"S": made}
        expires = math.ceil(float(claimed["claimedAt"]["N"]) + 24 * 3600)
        assert claimed["expires"] == {"N": str(expires)}
    assert key.encode() not in everything
    assert body_digest.encode() in everything


@pytest.mark.parametrize("key", ["", "k" * 256, "schlüssel", "tab\there", "line\n", "\x7f"])
def test_a_key_is_one_to_255_printable_ascii_characters(
    service: Service, tmp_path: Path, key: str
) -> None:
    with pytest.raises(RequestRejected) as refused:
        job_calls.submit(service, body(CREATE), lambda _: None, key)
    message = "1 to 255 printable ASCII characters (space to ~)"
    assert refused.value.problems == [Problem("Idempotency-Key", message)]
    assert not (tmp_path / "jobs").exists()
    longest = " ~" + "k" * 253
    made = job_calls.submit(service, body(CREATE), lambda _: None, longest)
    assert every_job(service) == [made]


def test_the_command_line_takes_a_key(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    launched: list[str] = []
    monkeypatch.setattr(Supervisor, "launch", lambda _, job: launched.append(job))
    request, other = tmp_path / "request.json", tmp_path / "other.json"
    request.write_bytes(body(CREATE))
    other.write_bytes(body(OTHER))

    def submit(*argv: str) -> int:
        return cli.run(cli.parser().parse_args(["submit", *argv]), settings)

    assert submit(str(request), "--idempotency-key", KEY) == 0
    assert submit(str(request), "--idempotency-key", KEY) == 0
    assert submit(str(other), "--idempotency-key", KEY) == cli.EXIT_REFUSED
    printed = capsys.readouterr()
    assert printed.out.split() == launched * 2
    assert "refused: this Idempotency-Key was used for another request" in printed.err
