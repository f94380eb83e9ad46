"""Retrying a job's failed items and renewing an imported item's certificate,
through the HTTP app and the command line, without the engine: jobs are
stored directly (a record, its inputs, a stack checkpoint where outputs
matter), and no step process ever starts — launches are recorded."""

from __future__ import annotations

import functools
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from provisioning import cli
from provisioning.actions import renewal
from provisioning.errors import StaleRecord
from provisioning.jobs.local_store import RECORD
from provisioning.jobs.record import JobRecord, Lease
from provisioning.jobs.sealed_keys import seal, unseal
from provisioning.jobs.states import Phase
from provisioning.jobs.store import INPUTS, SEALED_KEYS, STACK_CONFIG, change, renewal_blob
from provisioning.program.inputs import JobInputs, JobItem, TemplatePin
from provisioning.service import Service
from provisioning.worker import lease, step
from provisioning.worker.supervisor import Supervisor
from tests.helpers import PASSPHRASE, call, write_outputs
from tests.material import Issued, issue
from tests.records import JOB, stored

UNKNOWN = "99999999-2222-4333-8444-555555555555"
MALFORMED = "not-a-job-id"
NOT_FOUND = {"error": "not_found", "message": "no job has this jobId"}
NO_ITEM = {"error": "not_found", "message": "the job has no item with this key"}
SHOP = ["shop.example.com", "www.shop.example.com"]
BLOG = ["blog.example.com"]
FIELDS = ("CertPem", "PrivateKeyPem", "ChainPem")
OWNER = "this:1:abc:step"  # a step of this instance


# -- fixtures and helpers (the app's are in tests/conftest.py) ---------------


@pytest.fixture
def command_line(
    service: Service,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[list[str]],
    launched: list[str],
) -> None:
    """``cli.main`` loads the same settings as ``service`` from the
    environment; its supervisor's launches are recorded."""
    monkeypatch.setenv("SSL_SAAS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE)
    for name in ("SSL_SAAS_JOB_STORE", "PULUMI_BACKEND_URL", "SSL_SAAS_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Supervisor, "launch", lambda _, job: launched.append(job))


def current(service: Service, job_id: str = JOB) -> JobRecord:
    found = service.store.get(job_id)
    assert found is not None
    return found


def output(key: str, names: list[str], status: str = "ISSUED") -> dict[str, Any]:
    return {
        "key": key,
        "names": names,
        "certificateArn": f"arn:aws:acm:us-east-1:1:certificate/{key}",
        "certificateStatus": status,
        "distributionId": None,
        "distributionArn": None,
        "distributionStatus": None,
    }


# -- certificates and imported jobs -------------------------------------------


@functools.cache
def minted(names: tuple[str, ...], kind: str = "rsa2048", serial: int = 0) -> Issued:
    """Key generation dominates; ``serial`` mints another for the same names."""
    return issue(list(names), key=kind)


def imported_item(
    key: str, names: list[str], certificate: Issued, pin: TemplatePin | None = None
) -> JobItem:
    return JobItem(
        key=key,
        names=tuple(names),
        pin=pin,
        certificate_pem=certificate.cert_pem,
        chain_pem=certificate.chain_pem,
    )


def inputs_of(*items: JobItem, auto_creation: bool = False, job_type: str = "import") -> JobInputs:
    return JobInputs(
        job_type=job_type,
        auto_creation=auto_creation,
        items=items,
        minimum_protocol_version="TLSv1.2_2021",
        accepted_at=datetime(2026, 11, 30, tzinfo=UTC),
    )


def imported_job(
    service: Service,
    *,
    sealed: dict[str, str] | None = None,
    auto_creation: bool = False,
    pin: TemplatePin | None = None,
    **changes: Any,
) -> JobInputs:
    """An import job of two items, pemList[0] (SHOP) and pemList[1] (BLOG),
    whose first step already moved their keys into the stack (no sealed
    keys unless ``sealed``)."""
    inputs = inputs_of(
        imported_item("pemList[0]", SHOP, minted(tuple(SHOP)), pin),
        imported_item("pemList[1]", BLOG, minted(tuple(BLOG)), pin),
        auto_creation=auto_creation,
    )
    blobs = {INPUTS: inputs.model_dump_json().encode()}
    if sealed:
        keys = {k: SecretStr(v) for k, v in sealed.items()}
        blobs[SEALED_KEYS] = seal(keys, service.settings, service.aws)
    stored(
        service,
        blobs=blobs,
        jobType="import",
        job_input={"acm_op": "import"},
        items=2,
        auto_creation=auto_creation,
        **{"phase": Phase.DONE, **changes},
    )
    return inputs


def body(certificate: Issued, **changes: Any) -> bytes:
    files: dict[str, Any] = {
        "CertPem": certificate.cert_pem,
        "PrivateKeyPem": certificate.key_pem,
        "ChainPem": certificate.chain_pem,
    }
    files.update(changes)
    return json.dumps({k: v for k, v in files.items() if v is not None}).encode()


def renew_path(key: str = "pemList[0]", job_id: str = JOB) -> str:
    return f"/ssl_for_saas/jobs/{job_id}/items/{key}/certificate"


def key_lines(certificate: Issued) -> list[str]:
    """The private key's body, line by line: none may be echoed anywhere.
    Lines that are also in its certificate (base64 of the public modulus,
    which a PKCS#8 key holds too) are public and left out."""
    public = certificate.cert_pem + certificate.chain_pem
    secret = [
        line
        for line in certificate.key_pem.splitlines()
        if not line.startswith("-----") and line not in public
    ]
    assert len(secret) >= 3  # something to look for
    return secret


def assert_no_key_text(text: str, *certificates: Issued) -> None:
    for certificate in certificates:
        for line in key_lines(certificate):
            assert line not in text


def refusal(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 400, answer.text
    found = answer.json()
    assert found["error"] == "invalid_request"
    assert found["message"] == "the request was refused"
    return list(found["errors"])


# == retry ======================================================================


def retry(app: FastAPI, job_id: str = JOB) -> httpx.Response:
    return call(app, "POST", f"/ssl_for_saas/jobs/{job_id}/retry")


@pytest.mark.parametrize("job_id", [UNKNOWN, MALFORMED])
def test_retrying_a_job_that_is_not_there_is_not_found(
    app: FastAPI, service: Service, launched: list[str], job_id: str
) -> None:
    stored(service, phase=Phase.DONE, item_errors={"cnameList[0]": "x"})  # another job
    answer = retry(app, job_id)
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    assert launched == []


def test_a_job_with_nothing_failed_is_not_retried(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    before = stored(service, phase=Phase.DONE, items=2)
    write_outputs(
        service,
        JOB,
        {"items": [output("cnameList[0]", SHOP), output("cnameList[1]", BLOG)]},
    )
    answer = retry(app)
    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict"
    assert "nothing" in answer.json()["message"] and "failed" in answer.json()["message"]
    assert current(service) == before  # same version, nothing changed
    assert launched == []


def test_a_done_job_without_outputs_or_errors_is_not_retried(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    before = stored(service, phase=Phase.DONE)
    answer = retry(app)
    assert answer.status_code == 409
    assert current(service) == before
    assert launched == []


def test_only_the_failed_item_is_retried(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    before = stored(
        service,
        phase=Phase.DONE,
        items=2,
        item_errors={"cnameList[1]": "certificate FAILED: CAA forbids"},
        check_error="acm: throttled",
        check_failures=3,
        next_check=time.time() + 600,
    )
    write_outputs(
        service,
        JOB,
        {"items": [output("cnameList[0]", SHOP), output("cnameList[1]", BLOG, "FAILED")]},
    )
    answer = retry(app)
    assert (answer.status_code, answer.json()) == (
        202,
        {"jobId": JOB, "retried": ["cnameList[1]"], "status": "QUEUED"},
    )
    after = current(service)
    assert after.phase == Phase.QUEUED
    assert after.item_errors == {}
    assert after.error is None
    assert after.check_error is None
    assert after.check_failures == 0
    assert after.next_check == 0.0
    assert after.refresh is True
    assert after.version == before.version + 1
    assert launched == [JOB]


def test_every_failed_item_is_retried_and_only_their_errors_go(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    """As documented: the job's failed items run again, every one of them;
    an item that did not fail keeps what it has."""
    stored(
        service,
        phase=Phase.DONE,
        items=3,
        item_errors={"cnameList[0]": "certificate FAILED: a", "cnameList[2]": "distribution: b"},
    )
    write_outputs(
        service,
        JOB,
        {
            "items": [
                output("cnameList[0]", SHOP, "FAILED"),
                output("cnameList[1]", BLOG),
                output("cnameList[2]", ["c.example.com"]),
            ]
        },
    )
    answer = retry(app)
    assert answer.status_code == 202
    assert sorted(answer.json()["retried"]) == ["cnameList[0]", "cnameList[2]"]
    after = current(service)
    assert after.phase == Phase.QUEUED
    assert after.item_errors == {}
    assert launched == [JOB]


def test_an_item_whose_validation_timed_out_is_retried(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    stored(service, phase=Phase.DONE, items=2)
    write_outputs(
        service,
        JOB,
        {
            "items": [
                output("cnameList[0]", SHOP),
                output("cnameList[1]", BLOG, "VALIDATION_TIMED_OUT"),
            ]
        },
    )
    answer = retry(app)
    assert (answer.status_code, answer.json()) == (
        202,
        {"jobId": JOB, "retried": ["cnameList[1]"], "status": "QUEUED"},
    )
    assert current(service).phase == Phase.QUEUED
    assert launched == [JOB]


def test_failures_in_the_outputs_and_in_the_record_are_retried_together(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    """An item failed in the outputs and one failed by the record are both
    run again; the record's errors for them are gone."""
    stored(
        service,
        phase=Phase.WAITING,
        items=2,
        item_errors={"cnameList[0]": "certificate FAILED: x"},
    )
    write_outputs(
        service,
        JOB,
        {
            "items": [
                output("cnameList[0]", SHOP, "FAILED"),
                output("cnameList[1]", BLOG, "REVOKED"),
            ]
        },
    )
    answer = retry(app)
    assert answer.status_code == 202
    assert answer.json()["retried"] == ["cnameList[0]", "cnameList[1]"]
    assert current(service).item_errors == {}
    assert launched == [JOB]


def test_a_job_that_failed_as_a_whole_is_run_again(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    stored(service, phase=Phase.FAILED, error="CloudFront refused the update: CNAMEAlreadyExists")
    answer = retry(app)
    assert (answer.status_code, answer.json()) == (
        202,
        {"jobId": JOB, "retried": [], "status": "QUEUED"},
    )
    after = current(service)
    assert after.phase == Phase.QUEUED
    assert after.error is None
    assert launched == [JOB]


@pytest.mark.parametrize(
    "changes",
    [
        {"phase": Phase.DESTROYING},
        {"phase": Phase.RUNNING, "lease": "held"},
        {"phase": Phase.DONE, "lease": "held"},
    ],
    ids=["destroying", "leased-running", "leased-done"],
)
def test_a_job_being_deleted_or_stepped_is_not_retried(
    app: FastAPI, service: Service, launched: list[str], changes: dict[str, Any]
) -> None:
    if changes.get("lease") == "held":
        changes = {**changes, "lease": Lease(owner="another:1:abc", expires=time.time() + 60)}
    before = stored(service, item_errors={"cnameList[0]": "certificate FAILED: x"}, **changes)
    answer = retry(app)
    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict"
    expected = "being deleted" if changes["phase"] == Phase.DESTROYING else "running"
    assert expected in answer.json()["message"]
    assert current(service) == before
    assert launched == []


def test_a_lapsed_lease_does_not_stop_a_retry(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    stored(
        service,
        phase=Phase.DONE,
        item_errors={"cnameList[0]": "certificate FAILED: x"},
        lease=Lease(owner="gone:1:abc", expires=time.time() - 5),
    )
    answer = retry(app)
    assert answer.status_code == 202
    assert answer.json()["retried"] == ["cnameList[0]"]
    assert launched == [JOB]


def test_the_command_line_retries(
    service: Service,
    command_line: None,
    launched: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    stored(service, phase=Phase.DONE, item_errors={"cnameList[0]": "certificate FAILED: x"})
    assert cli.main(["retry", JOB]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == "retrying cnameList[0]"
    assert current(service).phase == Phase.QUEUED
    assert launched == [JOB]


def test_the_command_line_retries_a_failed_job(
    service: Service,
    command_line: None,
    launched: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    stored(service, phase=Phase.FAILED, error="refused")
    assert cli.main(["retry", JOB]) == 0
    assert capsys.readouterr().out.strip() == "retrying the job"
    assert launched == [JOB]


def test_the_command_line_retry_of_an_unknown_job_exits_1(
    service: Service,
    command_line: None,
    launched: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["retry", UNKNOWN]) == 1
    printed = capsys.readouterr()
    assert printed.err.strip() == f"no job {UNKNOWN}"
    assert printed.out == ""
    assert launched == []


def test_the_command_line_retry_conflict_exits_2(
    service: Service,
    command_line: None,
    launched: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = stored(service, phase=Phase.DONE)
    assert cli.main(["retry", JOB]) == cli.EXIT_REFUSED == 2
    printed = capsys.readouterr()
    assert printed.err.startswith("refused: ")
    assert "nothing" in printed.err and "failed" in printed.err
    assert current(service) == before
    assert launched == []


# == renewal ====================================================================
#
# A renewal is kept sealed in the job store, in a blob of its own under a
# fresh name (renewal_blob()), and the record maps the item to that blob (its
# renewals) until a step applies it under the job's lease: renewal.apply
# rewrites the inputs and the stack's secrets and answers what it applied
# (item key -> blob); the step's release drops exactly those entries, then
# deletes their blobs. A step ending with a renewal still mapped sends the
# job to another step.

RENEWAL_NAME = re.compile(r"renewal-[0-9a-f]{32}")


def renew(
    app: FastAPI, content: bytes, key: str = "pemList[0]", job_id: str = JOB
) -> httpx.Response:
    return call(app, "PUT", renew_path(key, job_id), content=content)


def unsealed(service: Service, blob_name: str) -> dict[str, str]:
    blob = service.store.get_blob(JOB, blob_name)
    assert blob is not None, blob_name
    return {k: v.get_secret_value() for k, v in unseal(blob, service.settings, service.aws).items()}


def renewal_blobs(service: Service) -> dict[str, bytes]:
    """Every renewal blob the job has, by name (the local store keeps one
    file per blob), mapped on the record or not."""
    folder = Path(service.settings.state_dir) / "jobs" / JOB
    found = {
        path.name.removesuffix(".blob"): path.read_bytes() for path in folder.glob("renewal-*.blob")
    }
    assert all(RENEWAL_NAME.fullmatch(name) for name in found), sorted(found)
    return found


def pending(service: Service) -> dict[str, dict[str, str]]:
    """The renewals kept for the next step, by item key: each mapped on the
    record to a blob of its own, sealed under the item's key alone. Every
    mapped blob is there and every renewal blob is mapped: none is lost,
    none is left behind."""
    mapped = current(service).renewals
    assert len(set(mapped.values())) == len(mapped), mapped
    assert set(renewal_blobs(service)) == set(mapped.values()), mapped
    kept: dict[str, dict[str, str]] = {}
    for key, name in mapped.items():
        opened = unsealed(service, name)
        assert list(opened) == [key]
        kept[key] = json.loads(opened[key])
    return kept


def waiting(certificate: Issued) -> dict[str, str]:
    return {
        "certificate_pem": certificate.cert_pem,
        "chain_pem": certificate.chain_pem,
        "private_key_pem": certificate.key_pem,
    }


def untouched(service: Service, inputs: JobInputs, before: JobRecord | None = None) -> None:
    """Nothing of a refused renewal is kept."""
    assert service.store.get_blob(JOB, INPUTS) == inputs.model_dump_json().encode()
    assert renewal_blobs(service) == {}
    assert current(service).renewals == {}
    assert service.store.get_blob(JOB, SEALED_KEYS) is None
    if before is not None:
        assert current(service) == before


def assert_no_key_stored(service: Service, *certificates: Issued) -> None:
    """The keys are nowhere in the job store in clear: not in the record, the
    inputs or any blob (a sealed one holds them as ciphertext only)."""
    files = [p for p in (Path(service.settings.state_dir) / "jobs").rglob("*") if p.is_file()]
    assert any(p.name == RECORD for p in files)
    for path in files:
        assert_no_key_text(path.read_bytes().decode(errors="replace"), *certificates)


def stack_secrets(
    monkeypatch: pytest.MonkeyPatch, in_stack: dict[str, str], meanwhile: Any = None
) -> dict[str, SecretStr]:
    """Stands in for the stack's secrets as renewal.apply reads and stores
    them; ``meanwhile`` runs once the new keys are stored. Returns the keys
    the stack holds, as they change."""
    kept = {k: SecretStr(v) for k, v in in_stack.items()}

    def stored_keys(_: Any, job_id: str) -> dict[str, SecretStr]:
        assert job_id == JOB
        return dict(kept)

    def store_keys(_: Any, store: Any, job_id: str, keys: dict[str, SecretStr]) -> None:
        assert job_id == JOB
        kept.clear()
        kept.update(keys)
        if meanwhile is not None:
            meanwhile()

    monkeypatch.setattr(
        renewal, "stacks", SimpleNamespace(stored_keys=stored_keys, store_keys=store_keys)
    )
    return kept


def plain(keys: dict[str, SecretStr]) -> dict[str, str]:
    return {k: v.get_secret_value() for k, v in keys.items()}


def applied(
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
    in_stack: dict[str, str],
    meanwhile: Any = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Runs renewal.apply as a step would (with the freshest record), the
    stack's secrets stood in for. Returns the keys the stack then holds, and
    what apply answered it applied (item key -> blob), which the step hands
    to its release."""
    kept = stack_secrets(monkeypatch, in_stack, meanwhile)
    done = renewal.apply(service, None, current(service))  # type: ignore[arg-type]
    return plain(kept), done


def ended(record: JobRecord) -> JobRecord:
    """An update's outcome that ended every item."""
    return record.update_succeeded(True, record.item_errors)


def step_ends(service: Service, done: dict[str, str] | None = None) -> JobRecord:
    """The step's release as run_step makes it after an update that ended
    every item, given what it applied."""
    released = lease.release(service, JOB, OWNER, ended, applied=done)
    assert released is not None
    return released


def item_certificate(service: Service, key: str) -> str | None:
    raw = service.store.get_blob(JOB, INPUTS)
    assert raw is not None
    return next(i for i in JobInputs.model_validate_json(raw).items if i.key == key).certificate_pem


@pytest.mark.parametrize("job_id", [UNKNOWN, MALFORMED])
def test_renewing_in_a_job_that_is_not_there_is_not_found(
    app: FastAPI, service: Service, launched: list[str], job_id: str
) -> None:
    inputs = imported_job(service)
    answer = renew(app, body(minted(tuple(SHOP), serial=1)), job_id=job_id)
    assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    untouched(service, inputs)
    assert launched == []


def test_renewing_an_item_the_job_does_not_have_is_not_found(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    inputs = imported_job(service)
    before = current(service)
    for key in ("pemList[2]", "cnameList[0]", "nothing"):
        answer = renew(app, body(minted(tuple(SHOP), serial=1)), key=key)
        assert (answer.status_code, answer.json()) == (404, NO_ITEM)
    untouched(service, inputs, before)
    assert launched == []


def test_a_requested_certificate_is_not_renewed_by_hand(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    inputs = inputs_of(JobItem(key="cnameList[0]", names=tuple(SHOP)), job_type="create")
    before = stored(service, blobs={INPUTS: inputs.model_dump_json().encode()}, phase=Phase.DONE)
    answer = renew(app, body(minted(tuple(SHOP), serial=1)), key="cnameList[0]")
    [problem] = refusal(answer)
    assert problem["location"] == ""
    assert "cnameList[0]" in problem["message"]
    assert "ACM" in problem["message"] and "renews it" in problem["message"]
    untouched(service, inputs, before)
    assert launched == []


@pytest.mark.parametrize(
    ("name", "location", "says"),
    [
        ("not-json", "", "not valid JSON"),
        ("not-utf8", "", "not UTF-8"),
        ("missing-chain", "ChainPem", "is required"),
        ("null-chain", "ChainPem", "valid string"),
        ("unknown-field", "Extra", "allowed here: CertPem, PrivateKeyPem, ChainPem"),
        ("other-key", "PrivateKeyPem", "does not match the public key in CertPem"),
        ("key-as-certificate", "CertPem", "not a CERTIFICATE"),
        ("empty-chain", "ChainPem", "is empty"),
    ],
)
def test_a_bad_body_is_refused_at_its_own_fields(
    app: FastAPI,
    service: Service,
    launched: list[str],
    name: str,
    location: str,
    says: str,
) -> None:
    inputs = imported_job(service)
    before = current(service)
    new, other = minted(tuple(SHOP), serial=1), minted(tuple(SHOP), serial=2)
    content = {
        "not-json": b"{CertPem: nope",
        "not-utf8": b'{"CertPem": "\xff"}',
        "missing-chain": body(new, ChainPem=None),
        "null-chain": json.dumps(
            {"CertPem": new.cert_pem, "PrivateKeyPem": new.key_pem, "ChainPem": None}
        ).encode(),
        "unknown-field": body(new, Extra="x"),
        "other-key": body(new, PrivateKeyPem=other.key_pem),
        "key-as-certificate": body(new, CertPem=new.key_pem),
        "empty-chain": body(new, ChainPem=""),
    }[name]
    answer = renew(app, content)
    problems = refusal(answer)
    assert {p["location"] for p in problems} == {location}, problems
    assert any(says in p["message"] for p in problems), problems
    assert "pemList" not in answer.text  # nothing points into a request not sent
    assert "certificate." not in answer.text
    assert_no_key_text(answer.text, new, other)
    untouched(service, inputs, before)
    assert launched == []


def test_an_unknown_field_lists_the_renewals_fields_not_the_requests(
    app: FastAPI, service: Service
) -> None:
    imported_job(service)
    new = minted(tuple(SHOP), serial=1)
    [problem] = refusal(renew(app, body(new, certpem="x", ChainPem=new.chain_pem)))
    assert problem["location"] == "certpem"
    message = problem["message"]
    assert "did you mean 'CertPem'?" in message
    assert message.split("allowed here: ")[1].split(", ") == list(FIELDS)
    for request_field in ("acm_op", "auto_creation", "pemList", "cnameList", "existing_cf_info"):
        assert request_field not in message


def test_every_problem_of_a_body_is_answered_at_once(app: FastAPI, service: Service) -> None:
    imported_job(service)
    problems = refusal(renew(app, json.dumps({"PrivateKeyPem": "x", "More": 1}).encode()))
    assert {p["location"] for p in problems} == {"CertPem", "ChainPem", "More"}


@pytest.mark.parametrize(
    "content",
    [b"[]", b'["a", "b"]', b'"CertPem"', b"null", b"42"],
    ids=["empty-list", "list", "string", "null", "number"],
)
def test_a_body_that_is_no_object_is_refused_as_a_whole(
    app: FastAPI, service: Service, content: bytes
) -> None:
    """Refused at the whole body, not at ``certificate`` (a name the caller
    never sent), saying what the body must be."""
    imported_job(service)
    answer = renew(app, content)
    [problem] = refusal(answer)
    assert problem["location"] == ""
    assert "JSON object" in problem["message"]
    for field in FIELDS:
        assert field in problem["message"]
    assert "certificate" not in answer.text and "pemList" not in answer.text


@pytest.mark.parametrize("content", [b"[]", b"null"])
def test_a_body_that_is_no_object_is_refused_and_nothing_is_kept(
    app: FastAPI, service: Service, launched: list[str], content: bytes
) -> None:
    """The refusal keeps nothing and starts nothing."""
    inputs = imported_job(service)
    before = current(service)
    problems = refusal(renew(app, content))
    assert len(problems) == 1
    untouched(service, inputs, before)
    assert launched == []


def test_a_certificate_for_other_names_is_refused(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    inputs = imported_job(service)
    before = current(service)
    elsewhere = minted(("shop.example.com", "other.example.com"))
    answer = renew(app, body(elsewhere))
    [problem] = refusal(answer)
    assert problem["location"] == "CertPem"
    message = problem["message"]
    sent, _, served = message.partition("the item serves")
    assert "other.example.com" in sent and "shop.example.com" in sent
    assert "www.shop.example.com" in served and "shop.example.com" in served
    assert "other.example.com" not in served
    assert_no_key_text(answer.text, elsewhere)
    untouched(service, inputs, before)
    assert launched == []


def test_another_items_certificate_is_refused(app: FastAPI, service: Service) -> None:
    imported_job(service)
    [problem] = refusal(renew(app, body(minted(tuple(BLOG), serial=1))))
    assert problem["location"] == "CertPem"
    assert "blog.example.com" in problem["message"]
    assert "shop.example.com" in problem["message"]


def test_each_renewal_gets_a_blob_name_of_its_own() -> None:
    names = [renewal_blob() for _ in range(50)]
    assert len(set(names)) == len(names)
    assert all(RENEWAL_NAME.fullmatch(name) for name in names)


def test_a_good_renewal_is_kept_sealed_and_queued(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    earlier = minted(tuple(BLOG), serial=3)  # a key sealed at submission, not yet moved
    inputs = imported_job(service, sealed={"pemList[1]": earlier.key_pem})
    sealed_before = service.store.get_blob(JOB, SEALED_KEYS)
    before = current(service)
    new = minted(tuple(reversed(SHOP)), serial=1)  # the same names, in another order
    answer = renew(app, body(new))
    assert (answer.status_code, answer.json()) == (
        202,
        {"jobId": JOB, "key": "pemList[0]", "status": "QUEUED"},
    )
    assert pending(service) == {"pemList[0]": waiting(new)}
    [name] = renewal_blobs(service)
    # The inputs change only when a step applies the renewal, under the lease.
    assert service.store.get_blob(JOB, INPUTS) == inputs.model_dump_json().encode()
    assert service.store.get_blob(JOB, SEALED_KEYS) == sealed_before  # kept as it was
    assert unsealed(service, SEALED_KEYS) == {"pemList[1]": earlier.key_pem}
    record = current(service)
    assert record.phase == Phase.QUEUED
    assert record.renewals == {"pemList[0]": name}
    assert record.version == before.version + 1
    assert (
        record.model_copy(
            update={
                "phase": before.phase,
                "renewals": {},
                "version": before.version,
                "updated": before.updated,
            }
        )
        == before
    )
    assert launched == [JOB]
    # The key is nowhere in plain text: not the record, not any blob.
    assert_no_key_text(record.model_dump_json(), new)
    assert_no_key_stored(service, new, earlier)


def test_a_kept_renewal_applied_by_a_step_changes_that_item_only(
    app: FastAPI, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = imported_job(service)
    old_shop, old_blog = minted(tuple(SHOP)), minted(tuple(BLOG))
    new = minted(tuple(SHOP), serial=1)
    assert renew(app, body(new)).status_code == 202
    name = current(service).renewals["pemList[0]"]
    assert lease.claim(service, JOB, OWNER) is not None
    in_stack = {"pemList[0]": old_shop.key_pem, "pemList[1]": old_blog.key_pem}
    keys, done = applied(service, monkeypatch, in_stack)
    assert keys == {"pemList[0]": new.key_pem, "pemList[1]": old_blog.key_pem}
    assert done == {"pemList[0]": name}
    raw = service.store.get_blob(JOB, INPUTS)
    assert raw is not None
    after = JobInputs.model_validate_json(raw)
    renewed, other = after.items
    assert (renewed.certificate_pem, renewed.chain_pem) == (new.cert_pem, new.chain_pem)
    assert (
        renewed.model_copy(
            update={"certificate_pem": old_shop.cert_pem, "chain_pem": old_shop.chain_pem}
        )
        == inputs.items[0]
    )
    assert other == inputs.items[1]
    assert after.model_copy(update={"items": inputs.items}) == inputs
    assert_no_key_text(raw.decode(), new, old_shop, old_blog)
    assert_no_key_text(current(service).model_dump_json(), new, old_shop, old_blog)
    # Applied, not yet done with: apply deletes nothing, and until the step's
    # release the renewal stays mapped and kept, for a next step should this
    # one die now.
    assert pending(service) == {"pemList[0]": waiting(new)}
    # Nothing else waits: the step ends as its update says, and the blob goes.
    released = step_ends(service, done)
    assert (released.phase, released.renewals, released.lease) == (Phase.DONE, {}, None)
    assert renewal_blobs(service) == {}
    assert pending(service) == {}
    assert_no_key_stored(service, new, old_shop, old_blog)


def test_a_step_that_ends_without_applying_keeps_the_renewal(
    app: FastAPI, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that applied a renewal but whose update failed is released
    without it (as run_step releases a failed update): the renewal stays
    mapped and kept, and the next step applies it again."""
    imported_job(service)
    new = minted(tuple(SHOP), serial=1)
    assert renew(app, body(new)).status_code == 202
    assert lease.claim(service, JOB, OWNER) is not None
    keys, done = applied(service, monkeypatch, {})
    assert keys == {"pemList[0]": new.key_pem}
    released = lease.release(service, JOB, OWNER, lambda r: r.failed("update failed: x"))
    assert released is not None
    assert (released.phase, released.renewals) == (Phase.FAILED, done)
    assert pending(service) == {"pemList[0]": waiting(new)}


def test_a_renewal_applied_by_a_step_that_died_is_applied_again(
    app: FastAPI, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that dies after applying never releases: its lease lapses, the
    renewal stays mapped and kept, and the next step (interrupted) applies it
    again to the same result. The dead step's late release, no longer
    holding the lease, deletes nothing."""
    imported_job(service)
    old, new = minted(tuple(SHOP)), minted(tuple(SHOP), serial=1)
    assert renew(app, body(new)).status_code == 202
    dead = "dead:1:abc:step"
    assert lease.claim(service, JOB, dead) is not None
    keys, done = applied(service, monkeypatch, {"pemList[0]": old.key_pem})
    inputs_after = service.store.get_blob(JOB, INPUTS)
    lapsed = Lease(owner=dead, expires=time.time() - 5)
    assert change(service.store, JOB, lambda r: r.model_copy(update={"lease": lapsed}))
    assert pending(service) == {"pemList[0]": waiting(new)}
    taken = lease.claim(service, JOB, OWNER)
    assert taken is not None and taken.interrupted
    assert lease.release(service, JOB, dead, ended, applied=done) is None
    assert pending(service) == {"pemList[0]": waiting(new)}
    again, done_again = applied(service, monkeypatch, keys)
    assert (again, done_again) == (keys, done)
    assert service.store.get_blob(JOB, INPUTS) == inputs_after
    released = step_ends(service, done_again)
    assert (released.phase, released.renewals, released.interrupted) == (Phase.DONE, {}, False)
    assert renewal_blobs(service) == {}


@pytest.mark.parametrize(
    ("key", "names"), [("pemList[1]", BLOG), ("pemList[0]", SHOP)], ids=["other-item", "same-item"]
)
def test_a_renewal_that_comes_while_one_is_applied_stays_for_the_next_step(
    app: FastAPI,
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
    launched: list[str],
    key: str,
    names: list[str],
) -> None:
    """The one applied goes at the step's release; one written meanwhile
    (another item's, or a newer one of the same item, which replaces the
    applied one in the mapping) stays, and the step's end sends the job to
    another step, which applies it."""
    imported_job(service)
    first, second = minted(tuple(SHOP), serial=1), minted(tuple(names), serial=2)
    assert renew(app, body(first)).status_code == 202
    assert lease.claim(service, JOB, OWNER) is not None

    def another() -> None:
        assert renew(app, body(second), key=key).status_code == 202

    keys, done = applied(service, monkeypatch, {}, meanwhile=another)
    assert keys == {"pemList[0]": first.key_pem}
    assert item_certificate(service, "pemList[0]") == first.cert_pem
    during = current(service)
    assert (during.phase, during.lease and during.lease.owner) == (Phase.RUNNING, OWNER)
    assert during.renewals[key] not in done.values()
    released = step_ends(service, done)
    assert (released.phase, list(released.renewals), released.lease) == (
        Phase.QUEUED,
        [key],
        None,
    )
    assert pending(service) == {key: waiting(second)}
    # The next step applies it, and ends as its update says.
    assert lease.claim(service, JOB, OWNER) is not None
    keys, done = applied(service, monkeypatch, keys)
    assert keys == {"pemList[0]": first.key_pem, key: second.key_pem}
    assert item_certificate(service, key) == second.cert_pem
    released = step_ends(service, done)
    assert (released.phase, released.renewals) == (Phase.DONE, {})
    assert renewal_blobs(service) == {}
    assert launched == [JOB, JOB]
    assert_no_key_stored(service, first, second)


def test_a_failed_jobs_renewal_queues_it_again(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    imported_job(service, phase=Phase.FAILED, error="ACM refused the import")
    new = minted(tuple(BLOG), serial=1)
    answer = renew(app, body(new), key="pemList[1]")
    assert (answer.status_code, answer.json()) == (
        202,
        {"jobId": JOB, "key": "pemList[1]", "status": "QUEUED"},
    )
    assert pending(service) == {"pemList[1]": waiting(new)}
    assert service.store.get_blob(JOB, SEALED_KEYS) is None
    record = current(service)
    assert (record.phase, record.error, list(record.renewals)) == (
        Phase.QUEUED,
        None,
        ["pemList[1]"],
    )
    assert launched == [JOB]


def test_renewals_of_two_items_are_both_kept_and_the_latest_of_one_wins(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    """The latest renewal of an item replaces an earlier one never applied,
    whose blob goes."""
    imported_job(service)
    first, second = minted(tuple(SHOP), serial=1), minted(tuple(SHOP), serial=2)
    blog = minted(tuple(BLOG), serial=1)
    assert renew(app, body(first)).status_code == 202
    replaced = current(service).renewals["pemList[0]"]
    assert renew(app, body(blog), key="pemList[1]").status_code == 202
    assert renew(app, body(second)).status_code == 202
    assert pending(service) == {"pemList[0]": waiting(second), "pemList[1]": waiting(blog)}
    record = current(service)
    assert sorted(record.renewals) == ["pemList[0]", "pemList[1]"]
    assert record.renewals["pemList[0]"] != replaced
    assert service.store.get_blob(JOB, replaced) is None
    assert launched == [JOB, JOB, JOB]


def test_a_served_items_renewal_is_checked_for_cloudfront(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    """An item a distribution serves takes only CloudFront's keys (P-384 is
    ACM's, not CloudFront's); an item without one takes any ACM key."""
    inputs = imported_job(
        service, auto_creation=True, pin=TemplatePin(distribution_id="E195R1W5GIVPF5", version=1)
    )
    [problem] = refusal(renew(app, body(minted(tuple(SHOP), kind="ec-p384", serial=1))))
    assert problem["location"] == "CertPem"
    assert "P-384" in problem["message"]
    untouched(service, inputs)
    assert launched == []
    assert renew(app, body(minted(tuple(SHOP), kind="ec-p256", serial=1))).status_code == 202
    assert launched == [JOB]


def test_an_unserved_items_renewal_takes_any_acm_key(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    imported_job(service)
    assert renew(app, body(minted(tuple(SHOP), kind="ec-p384", serial=1))).status_code == 202
    assert launched == [JOB]


def test_a_job_being_deleted_is_not_renewed(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    inputs = imported_job(service, phase=Phase.DESTROYING)
    before = current(service)
    answer = renew(app, body(minted(tuple(SHOP), serial=1)))
    assert (answer.status_code, answer.json()["error"]) == (409, "conflict")
    assert "being deleted" in answer.json()["message"]
    untouched(service, inputs, before)
    assert launched == []


@pytest.mark.parametrize(("meanwhile", "status"), [("destroying", 409), ("gone", 404)])
def test_a_renewal_refused_at_its_record_change_leaves_no_blob(
    app: FastAPI, service: Service, launched: list[str], meanwhile: str, status: int
) -> None:
    """Its blob is written before the record change that maps it: a deletion
    asked for meanwhile, or the job's record gone, refuses the change, and
    the blob goes again."""
    imported_job(service)
    store = service.store
    put_blob = store.put_blob
    written: list[str] = []

    def racing_put_blob(job_id: str, name: str, data: bytes) -> None:
        put_blob(job_id, name, data)
        if RENEWAL_NAME.fullmatch(name) and not written:
            written.append(name)
            if meanwhile == "destroying":
                change(store, JOB, lambda r: r.model_copy(update={"phase": Phase.DESTROYING}))
            else:
                (Path(service.settings.state_dir) / "jobs" / JOB / RECORD).unlink()

    store.put_blob = racing_put_blob  # type: ignore[method-assign]
    answer = renew(app, body(minted(tuple(SHOP), serial=1)))
    assert answer.status_code == status, answer.text
    assert len(written) == 1
    assert renewal_blobs(service) == {}
    if meanwhile == "destroying":
        assert (current(service).phase, current(service).renewals) == (Phase.DESTROYING, {})
    assert launched == []


def test_a_renewal_while_a_step_runs_is_kept_for_it(
    app: FastAPI, service: Service, launched: list[str]
) -> None:
    """A leased job's renewal is answered 202 and kept: the item is mapped
    on the record, whose step keeps its lease and phase; the record's version
    moves on, so the step's end is decided again and sends the job to
    another step."""
    lease = Lease(owner=OWNER, expires=time.time() + 60)
    inputs = imported_job(service, phase=Phase.RUNNING, lease=lease)
    before = current(service)
    new = minted(tuple(SHOP), serial=1)
    answer = renew(app, body(new))
    assert (answer.status_code, answer.json()) == (
        202,
        {"jobId": JOB, "key": "pemList[0]", "status": "QUEUED"},
    )
    after = current(service)
    [name] = renewal_blobs(service)
    assert after.renewals == {"pemList[0]": name}
    assert after.version == before.version + 1
    assert (after.phase, after.lease) == (Phase.RUNNING, lease)  # the step's, untouched
    assert (
        after.model_copy(
            update={"renewals": {}, "version": before.version, "updated": before.updated}
        )
        == before
    )
    assert pending(service) == {"pemList[0]": waiting(new)}
    assert service.store.get_blob(JOB, INPUTS) == inputs.model_dump_json().encode()
    assert launched == [JOB]  # the supervisor's to start once the step ends
    released = step_ends(service, {})  # the step applied nothing of it
    assert (released.phase, released.renewals, released.lease) == (
        Phase.QUEUED,
        {"pemList[0]": name},
        None,
    )
    assert pending(service) == {"pemList[0]": waiting(new)}


def test_a_renewal_never_echoes_the_key_whatever_field_it_lands_in(
    app: FastAPI, service: Service
) -> None:
    imported_job(service)
    new = minted(tuple(SHOP), serial=1)
    for content in (
        body(new, ChainPem=new.key_pem),
        body(new, CertPem=new.key_pem),
        body(new, PrivateKeyPem=new.key_pem + new.key_pem),
        json.dumps({new.key_pem: 1, **json.loads(body(new))}).encode(),
        body(new, PrivateKeyPem=new.key_pem[:-40]),
        body(new, PrivateKeyPem=123),
    ):
        answer = renew(app, content)
        assert answer.status_code == 400
        assert_no_key_text(answer.text, new)
    assert renewal_blobs(service) == {}
    assert current(service).renewals == {}
    assert_no_key_stored(service, new)


# -- the command line ------------------------------------------------------------


def test_the_command_line_renews(
    service: Service,
    command_line: None,
    launched: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    imported_job(service)
    new = minted(tuple(SHOP), serial=1)
    file = tmp_path / "renewal.json"
    file.write_bytes(body(new))
    assert cli.main(["renew", JOB, "pemList[0]", str(file)]) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == f"renewing pemList[0] of {JOB}"
    assert_no_key_text(printed.out + printed.err, new)
    assert pending(service) == {"pemList[0]": waiting(new)}
    assert (current(service).phase, list(current(service).renewals)) == (
        Phase.QUEUED,
        ["pemList[0]"],
    )
    assert launched == [JOB]


def test_the_command_line_refuses_a_bad_file(
    service: Service,
    command_line: None,
    launched: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = imported_job(service)
    before = current(service)
    new, other = minted(tuple(SHOP), serial=1), minted(tuple(SHOP), serial=2)
    file = tmp_path / "renewal.json"
    file.write_bytes(body(new, PrivateKeyPem=other.key_pem, ChainPem=None))
    assert cli.main(["renew", JOB, "pemList[0]", str(file)]) == cli.EXIT_REFUSED == 2
    printed = capsys.readouterr()
    assert printed.err.strip().splitlines() == ["refused: ChainPem: is required"]
    assert printed.out == ""
    file.write_bytes(body(new, PrivateKeyPem=other.key_pem, Extra=1))
    assert cli.main(["renew", JOB, "pemList[0]", str(file)]) == 2
    printed = capsys.readouterr()
    assert sorted(printed.err.strip().splitlines()) == [
        "refused: Extra: unknown field; allowed here: CertPem, PrivateKeyPem, ChainPem"
    ]
    file.write_bytes(body(new, PrivateKeyPem=other.key_pem))
    assert cli.main(["renew", JOB, "pemList[0]", str(file)]) == 2
    printed = capsys.readouterr()
    assert printed.err.strip().splitlines() == [
        "refused: PrivateKeyPem: does not match the public key in CertPem"
    ]
    assert_no_key_text(printed.err, new, other)
    assert cli.main(["renew", JOB, "pemList[0]", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith("refused: can't read the file")
    untouched(service, inputs, before)
    assert launched == []


def test_the_command_line_renewal_of_an_unknown_item_or_job_exits_1(
    service: Service,
    command_line: None,
    launched: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    imported_job(service)
    file = tmp_path / "renewal.json"
    file.write_bytes(body(minted(tuple(SHOP), serial=1)))
    assert cli.main(["renew", JOB, "pemList[7]", str(file)]) == 1
    assert capsys.readouterr().err.strip() == f"no job {JOB} with an item pemList[7]"
    assert cli.main(["renew", UNKNOWN, "pemList[0]", str(file)]) == 1
    assert capsys.readouterr().err.strip() == f"no job {UNKNOWN} with an item pemList[0]"
    assert launched == []


def test_the_command_line_renewal_of_a_job_being_deleted_exits_2(
    service: Service,
    command_line: None,
    launched: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = imported_job(service, phase=Phase.DESTROYING)
    file = tmp_path / "renewal.json"
    file.write_bytes(body(minted(tuple(SHOP), serial=1)))
    assert cli.main(["renew", JOB, "pemList[0]", str(file)]) == 2
    assert capsys.readouterr().err.strip() == "refused: the job is being deleted"
    untouched(service, inputs)
    assert launched == []


# -- renewals that race (deterministic interleavings) ------------------------------


@pytest.mark.parametrize("moment", ["blob-written", "record-read"])
@pytest.mark.parametrize("other_key", ["pemList[1]", "pemList[0]"], ids=["other-item", "same-item"])
def test_two_renewals_at_once_are_both_answered_and_none_is_lost(
    service: Service, moment: str, other_key: str
) -> None:
    """Another renewal runs to its end while the first is under way: once
    the first's blob is written, or once its record change has read the
    record (its write then loses, and is decided again on the newer record).
    Of two items, both are kept; of one item, the one whose record change
    came last, and the other's blob goes: nothing is left behind."""
    imported_job(service)
    before = current(service)
    shop = minted(tuple(SHOP), serial=1)
    other_names = BLOG if other_key == "pemList[1]" else SHOP
    later = minted(tuple(other_names), serial=2)
    store = service.store
    put_blob, put = store.put_blob, store.put
    answers: list[dict[str, Any]] = []
    raced: list[bool] = []

    def other() -> None:
        raced.append(True)
        answers.append(renewal.renew(service, JOB, other_key, body(later), lambda _: None))

    def racing_put_blob(job_id: str, name: str, data: bytes) -> None:
        put_blob(job_id, name, data)
        if moment == "blob-written" and RENEWAL_NAME.fullmatch(name) and not raced:
            other()

    def racing_put(record: JobRecord) -> JobRecord:
        if moment == "record-read" and "pemList[0]" in record.renewals and not raced:
            other()
        return put(record)

    store.put_blob = racing_put_blob  # type: ignore[method-assign]
    store.put = racing_put  # type: ignore[method-assign]
    answers.append(renewal.renew(service, JOB, "pemList[0]", body(shop), lambda _: None))
    assert raced == [True]
    assert [a["key"] for a in answers] == [other_key, "pemList[0]"]
    assert [a["status"] for a in answers] == ["QUEUED", "QUEUED"]
    record = current(service)
    assert (record.phase, record.version) == (Phase.QUEUED, before.version + 2)
    if other_key == "pemList[1]":
        assert pending(service) == {"pemList[0]": waiting(shop), "pemList[1]": waiting(later)}
    else:
        assert pending(service) == {"pemList[0]": waiting(shop)}  # its record change was last
    assert_no_key_stored(service, shop, later)


def test_a_renewal_landing_as_a_step_ends_is_still_applied(
    app: FastAPI, service: Service, supervisor: Supervisor, launched: list[str]
) -> None:
    """The step's release decided DONE on the record it read, with no
    renewal waiting; the renewal lands before that write, which then loses
    to the newer version and is decided again: the job goes to another
    step."""
    imported_job(service, phase=Phase.RUNNING, lease=Lease(owner=OWNER, expires=time.time() + 60))
    new = minted(tuple(SHOP), serial=1)
    store = service.store
    put = store.put
    landed: list[httpx.Response] = []
    tries: list[JobRecord] = []

    def racing_put(record: JobRecord) -> JobRecord:
        if record.lease is None:  # the step's release
            tries.append(record)
            if not landed:
                landed.append(renew(app, body(new)))
        return put(record)

    store.put = racing_put  # type: ignore[method-assign]
    released = step_ends(service, {})
    [answer] = landed
    assert answer.status_code == 202
    [name] = renewal_blobs(service)
    assert [(t.phase, t.renewals) for t in tries] == [
        (Phase.DONE, {}),  # decided on the older version: lost
        (Phase.QUEUED, {"pemList[0]": name}),
    ]
    assert (released.phase, released.renewals, released.lease) == (
        Phase.QUEUED,
        {"pemList[0]": name},
        None,
    )
    assert pending(service) == {"pemList[0]": waiting(new)}  # kept, answered 202
    launched.clear()
    supervisor.tick()
    assert launched == [JOB]


def test_a_step_applies_the_renewals_mapped_when_it_applies_them(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step.run hands renewal.apply the record as it is then, not as the
    step claimed it: a renewal that landed meanwhile is applied too, and the
    step's outcome hands what was applied to its release, which drops it."""
    imported_job(service, phase=Phase.QUEUED)
    claimed = lease.claim(service, JOB, OWNER)
    assert claimed is not None and claimed.renewals == {}
    service.store.put_blob(JOB, STACK_CONFIG, b"config: {}")
    new = minted(tuple(SHOP), serial=1)
    renewal.renew(service, JOB, "pemList[0]", body(new), lambda _: None)
    name = current(service).renewals["pemList[0]"]
    seen: list[JobRecord] = []
    real_apply = renewal.apply

    def spied_apply(s: Service, ws: Any, record: JobRecord) -> dict[str, str]:
        seen.append(record)
        return real_apply(s, ws, record)

    keys = stack_secrets(monkeypatch, {})
    monkeypatch.setattr(renewal, "apply", spied_apply)
    monkeypatch.setattr(step.Step, "update", lambda *_: {"items": []})
    finished = step.Step(service, JOB, cast(Any, None)).run(claimed)
    assert finished is not None
    outcome, done = finished
    [record] = seen
    assert record.renewals == {"pemList[0]": name}
    assert done == {"pemList[0]": name}
    assert outcome(claimed).phase == Phase.WAITING  # no item ended yet
    assert plain(keys) == {"pemList[0]": new.key_pem}
    assert item_certificate(service, "pemList[0]") == new.cert_pem
    released = lease.release(service, JOB, OWNER, outcome, done)
    assert released is not None
    assert (released.phase, released.renewals, released.lease) == (Phase.WAITING, {}, None)
    assert renewal_blobs(service) == {}
    assert_no_key_stored(service, new)


@pytest.mark.parametrize(
    "moment", ["record-read", "blob-read", "keys-stored", "applied", "release-read"]
)
def test_a_newer_renewal_of_the_item_during_a_step_is_never_lost(
    app: FastAPI,
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
    launched: list[str],
    moment: str,
) -> None:
    """A newer renewal of the item a step is applying lands at any point of
    its apply or of its release: before apply reads the older one's blob,
    just after, once the keys are stored, between apply and the release, or
    once the release has read the record. Answered 202, it is kept whatever
    the step applied, the older one's blob goes, and the job goes to another
    step, which applies the newer one."""
    imported_job(service)
    old = minted(tuple(SHOP))  # the job's own
    first, second = minted(tuple(SHOP), serial=1), minted(tuple(SHOP), serial=2)
    assert renew(app, body(first)).status_code == 202
    older = current(service).renewals["pemList[0]"]
    assert lease.claim(service, JOB, OWNER) is not None
    store = service.store
    get_blob, put = store.get_blob, store.put
    landed: list[int] = []

    def land(at: str) -> None:
        if at == moment and not landed:
            landed.append(0)
            landed[0] = renew(app, body(second)).status_code

    def racing_get_blob(job_id: str, name: str) -> bytes | None:
        if name == older:
            land("record-read")  # apply has the record, not yet the blob
        found = get_blob(job_id, name)
        if name == older:
            land("blob-read")
        return found

    def racing_put(record: JobRecord) -> JobRecord:
        if record.lease is None:  # the release, decided on the record it read
            land("release-read")
        return put(record)

    store.get_blob = racing_get_blob  # type: ignore[method-assign]
    store.put = racing_put  # type: ignore[method-assign]
    in_stack = {"pemList[0]": old.key_pem}
    keys, done = applied(service, monkeypatch, in_stack, meanwhile=lambda: land("keys-stored"))
    land("applied")
    released = step_ends(service, done)
    assert landed == [202]
    if moment == "record-read":  # its blob was gone already: nothing applied
        assert keys == in_stack
        assert set(done.values()) <= {older}
        assert item_certificate(service, "pemList[0]") == old.cert_pem
    else:
        assert (keys, done) == ({"pemList[0]": first.key_pem}, {"pemList[0]": older})
        assert item_certificate(service, "pemList[0]") == first.cert_pem
    assert (released.phase, released.lease) == (Phase.QUEUED, None)
    assert pending(service) == {"pemList[0]": waiting(second)}
    assert service.store.get_blob(JOB, older) is None
    # The next step applies the newer one and ends as its update says.
    assert lease.claim(service, JOB, OWNER) is not None
    keys, done = applied(service, monkeypatch, keys)
    assert keys == {"pemList[0]": second.key_pem}
    assert item_certificate(service, "pemList[0]") == second.cert_pem
    released = step_ends(service, done)
    assert (released.phase, released.renewals) == (Phase.DONE, {})
    assert renewal_blobs(service) == {}
    assert launched == [JOB, JOB]
    assert_no_key_stored(service, old, first, second)


def test_a_job_whose_step_died_is_claimed_as_interrupted(service: Service) -> None:
    """What the next test expects of a renewal, without one."""
    dead = Lease(owner="dead:1:abc:step", expires=time.time() - 5)
    imported_job(service, phase=Phase.RUNNING, lease=dead)
    taken = lease.claim(service, JOB, OWNER)
    assert taken is not None and taken.interrupted


def test_a_renewal_of_a_job_whose_step_died_keeps_it_interrupted(
    app: FastAPI, service: Service
) -> None:
    """The renewal queues the job again; the lapsed lease stays on the
    record, and tells the next step that the last one died: it clears the
    dead step's locks and adopts what it made."""
    dead = Lease(owner="dead:1:abc:step", expires=time.time() - 5)
    imported_job(service, phase=Phase.RUNNING, lease=dead)
    assert renew(app, body(minted(tuple(SHOP), serial=1))).status_code == 202
    after = current(service)
    assert (after.phase, after.lease) == (Phase.QUEUED, dead)
    taken = lease.claim(service, JOB, OWNER)
    assert taken is not None
    assert taken.interrupted


def test_a_renewal_of_a_job_whose_step_ended_is_not_claimed_as_interrupted(
    app: FastAPI, service: Service
) -> None:
    imported_job(service)  # DONE, its step released
    assert renew(app, body(minted(tuple(SHOP), serial=1))).status_code == 202
    taken = lease.claim(service, JOB, OWNER)
    assert taken is not None
    assert not taken.interrupted


# -- what still fails ----------------------------------------------------------------


def test_a_renewal_whose_record_write_landed_unanswered_keeps_its_blob(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported_job(service)
    new = minted(tuple(SHOP), serial=1)
    store = service.store
    put = store.put
    unanswered: list[JobRecord] = []

    def ambiguous_put(record: JobRecord) -> JobRecord:
        written = put(record)
        if not unanswered:  # it landed; the retry finds the version moved on
            unanswered.append(written)
            raise StaleRecord(record.jobId)
        return written

    store.put = ambiguous_put  # type: ignore[method-assign]
    answer = renewal.renew(service, JOB, "pemList[0]", body(new), lambda _: None)
    assert answer["status"] == "QUEUED"
    [landed] = unanswered
    name = landed.renewals["pemList[0]"]
    assert current(service).renewals == {"pemList[0]": name}
    assert service.store.get_blob(JOB, name) is not None  # fails: deleted as "replaced"
    assert pending(service) == {"pemList[0]": waiting(new)}


def test_a_mapped_renewal_whose_blob_is_gone_does_not_queue_steps_forever(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported_job(service)
    renewal.renew(service, JOB, "pemList[0]", body(minted(tuple(SHOP), serial=1)), lambda _: None)
    service.store.delete_blob(JOB, current(service).renewals["pemList[0]"])
    assert lease.claim(service, JOB, OWNER) is not None
    keys, done = applied(service, monkeypatch, {})
    assert keys == {}  # nothing to apply
    released = step_ends(service, done)
    assert (released.phase, released.renewals) == (Phase.DONE, {})  # fails: QUEUED again
