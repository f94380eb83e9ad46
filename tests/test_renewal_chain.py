"""Renewing through the calls themselves (what the HTTP app and the command
line wrap): a renewal from another CA brings its own chain into the job's
inputs, the stack's secrets are read and written through the step's
workspace, and each refusal names what it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from provisioning.actions import renewal
from provisioning.engine import stacks
from provisioning.errors import JobConflict, Problem, RequestRejected, UnknownJob
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import Phase
from provisioning.jobs.store import INPUTS, JobStore
from provisioning.program.inputs import JobInputs, JobItem
from provisioning.service import Service
from tests.material import Issued, issue, private_ca, second_ca
from tests.records import job_record

JOB = "11111111-2222-4333-8444-555555555555"
UNKNOWN = "99999999-2222-4333-8444-555555555555"
SHOP = ["shop.example.com", "www.shop.example.com"]
BLOG = ["blog.example.com"]


def job(
    service: Service, certificate: Issued, *, auto_creation: bool = False, **changes: Any
) -> JobInputs:
    """An import job of two items, pemList[0] (SHOP, ``certificate``) and
    pemList[1] (BLOG)."""
    blog = issue(BLOG, key="ec-p256")
    inputs = JobInputs(
        job_type="import",
        auto_creation=auto_creation,
        items=(
            JobItem(
                key="pemList[0]",
                names=tuple(SHOP),
                certificate_pem=certificate.cert_pem,
                chain_pem=certificate.chain_pem,
            ),
            JobItem(
                key="pemList[1]",
                names=tuple(BLOG),
                certificate_pem=blog.cert_pem,
                chain_pem=blog.chain_pem,
            ),
        ),
        minimum_protocol_version="TLSv1.2_2021",
        accepted_at=datetime(2026, 11, 30, tzinfo=UTC),
    )
    record = job_record(
        JOB,
        **{
            "jobType": "import",
            "job_input": {"acm_op": "import"},
            "items": 2,
            "auto_creation": auto_creation,
            "phase": Phase.DONE,
            **changes,
        },
    )
    service.store.create(record, {INPUTS: inputs.model_dump_json().encode()})
    return inputs


def body(certificate: Issued) -> bytes:
    files = {
        "CertPem": certificate.cert_pem,
        "PrivateKeyPem": certificate.key_pem,
        "ChainPem": certificate.chain_pem,
    }
    return json.dumps(files).encode()


def current(service: Service) -> JobRecord:
    found = service.store.get(JOB)
    assert found is not None
    return found


def inputs_now(service: Service) -> JobInputs:
    raw = service.store.get_blob(JOB, INPUTS)
    assert raw is not None
    return JobInputs.model_validate_json(raw)


class Secrets:
    """The stack's secrets, read and written only through the step's
    workspace ``ws`` and its job store."""

    def __init__(self, ws: object, store: JobStore, held: dict[str, str]) -> None:
        self.ws, self.store = ws, store
        self.held = {k: SecretStr(v) for k, v in held.items()}

    def stored_keys(self, ws: object, job_id: str) -> dict[str, SecretStr]:
        assert (ws, job_id) == (self.ws, JOB)
        return dict(self.held)

    def store_keys(
        self, ws: object, store: JobStore, job_id: str, keys: dict[str, SecretStr]
    ) -> None:
        assert ws is self.ws and store is self.store and job_id == JOB
        self.held = dict(keys)


def test_a_renewal_from_another_ca_brings_its_chain(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = issue(SHOP, key="ec-p256")
    new = issue(SHOP, key="ec-p256", ca=second_ca())
    assert new.chain_pem != old.chain_pem and private_ca().chain_pem == old.chain_pem
    before = job(service, old)
    launched: list[str] = []
    answer = renewal.renew(service, JOB, "pemList[0]", body(new), launched.append)
    assert answer == {"jobId": JOB, "key": "pemList[0]", "status": "QUEUED"}
    assert launched == [JOB]

    ws = object()
    secrets = Secrets(ws, service.store, {"pemList[0]": old.key_pem, "pemList[1]": "blog key"})
    monkeypatch.setattr(stacks, "stored_keys", secrets.stored_keys)
    monkeypatch.setattr(stacks, "store_keys", secrets.store_keys)
    done = renewal.apply(service, ws, current(service))  # type: ignore[arg-type]

    assert done == current(service).renewals
    renewed, other = inputs_now(service).items
    assert renewed == before.items[0].model_copy(
        update={"certificate_pem": new.cert_pem, "chain_pem": new.chain_pem}
    )
    assert renewed.chain_pem == new.chain_pem != old.chain_pem
    assert other == before.items[1]
    assert {k: v.get_secret_value() for k, v in secrets.held.items()} == {
        "pemList[0]": new.key_pem,
        "pemList[1]": "blog key",
    }


def renewing(service: Service, job_id: str = JOB, key: str = "pemList[0]") -> None:
    renewal.renew(service, job_id, key, body(issue(SHOP, key="ec-p256")), pytest.fail)


@pytest.mark.parametrize("job_id", [UNKNOWN, "not-a-job-id"])
def test_an_unknown_job_is_named_in_the_refusal(service: Service, job_id: str) -> None:
    job(service, issue(SHOP, key="ec-p256"))
    with pytest.raises(UnknownJob) as refused:
        renewing(service, job_id)
    assert refused.value.args == (job_id,)


def test_a_job_without_inputs_is_unknown(service: Service) -> None:
    made = job_record(JOB, jobType="import", job_input={"acm_op": "import"}, auto_creation=False)
    service.store.create(made, {})
    with pytest.raises(UnknownJob) as refused:
        renewing(service)
    assert refused.value.args == (JOB,)


def test_a_job_deleted_while_its_renewal_is_kept_is_unknown(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    job(service, issue(SHOP, key="ec-p256"))

    def gone(store: JobStore, job_id: str, update: Any) -> None:
        assert store is service.store and job_id == JOB and callable(update)
        return None

    monkeypatch.setattr(renewal, "change", gone)
    with pytest.raises(UnknownJob) as refused:
        renewing(service)
    assert refused.value.args == (JOB,)


def test_an_unknown_item_is_named_in_the_refusal(service: Service) -> None:
    job(service, issue(SHOP, key="ec-p256"))
    with pytest.raises(renewal.UnknownItem) as refused:
        renewing(service, key="pemList[7]")
    assert refused.value.args == ("pemList[7]",)


def test_a_job_being_deleted_says_so(service: Service) -> None:
    job(service, issue(SHOP, key="ec-p256"), phase=Phase.DESTROYING)
    with pytest.raises(JobConflict) as refused:
        renewing(service)
    assert refused.value.args == ("the job is being deleted",)


def test_a_certificate_for_other_names_names_both_sets(service: Service) -> None:
    job(service, issue(SHOP, key="ec-p256"))
    other = issue(["b.example.com", "a.example.com"], key="ec-p256")
    with pytest.raises(RequestRejected) as refused:
        renewal.renew(service, JOB, "pemList[0]", body(other), pytest.fail)
    assert refused.value.problems == [
        Problem(
            "CertPem",
            "names a.example.com, b.example.com; the item serves shop.example.com, "
            "www.shop.example.com, and a renewal keeps its names",
        )
    ]


def test_a_body_that_is_no_object_is_refused_with_its_fields_named() -> None:
    with pytest.raises(RequestRejected) as refused:
        renewal.checked(b"[]", serves=False)
    assert refused.value.problems == [
        Problem("", "the body must be a JSON object with CertPem, PrivateKeyPem and ChainPem")
    ]


@pytest.mark.parametrize(
    ("location", "prefix", "shown"),
    [
        ("certificate.CertPem", "certificate", "CertPem"),
        ("certificate", "certificate", ""),
        ("pemList[0].ChainPem", "pemList[0]", "ChainPem"),
        ("CertPem", "pemList[0]", "CertPem"),
        ("certificates.CertPem", "certificate", "certificates.CertPem"),
        ("", "certificate", ""),
    ],
)
def test_a_problem_is_moved_to_the_bodys_own_field(location: str, prefix: str, shown: str) -> None:
    assert renewal.relocated(Problem(location, "bad"), prefix) == Problem(shown, "bad")


def test_an_item_no_distribution_serves_takes_any_acm_key_in_an_auto_creation_job(
    service: Service,
) -> None:
    """P-384 is ACM's, not CloudFront's: refused only for an item a
    distribution serves (one pinned to a template)."""
    job(service, issue(SHOP, key="ec-p256"), auto_creation=True)
    launched: list[str] = []
    new = issue(SHOP, key="ec-p384")
    renewal.renew(service, JOB, "pemList[0]", body(new), launched.append)
    assert launched == [JOB]
