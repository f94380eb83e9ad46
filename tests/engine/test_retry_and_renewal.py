"""After a job ends: a failed item run again without touching the others,
and an imported certificate renewed in place."""

from __future__ import annotations

import json
import time
from typing import Any

import moto
import pytest
from moto.acm.models import acm_backends

from provisioning.actions import job_calls, renewal, retry
from provisioning.engine.state import stack_resources
from provisioning.errors import JobConflict, RequestRejected
from provisioning.jobs.states import Phase
from provisioning.program.resources import DISTRIBUTION_TYPE
from provisioning.sandbox.session import ACCOUNT
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor
from tests.engine.jobs_helpers import REQUESTS, aws, drive
from tests.material import issue

pytestmark = pytest.mark.engine


def until(service: Service, job_id: str, done: Any, timeout: float = 180) -> dict[str, Any]:
    supervisor = Supervisor(service)
    deadline = time.time() + timeout
    while time.time() < deadline:
        supervisor.tick()
        job = job_calls.status(service, job_id)
        if done(job) and not supervisor.busy(job_id):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id}: {job_calls.status(service, job_id)}")


def distributions(service: Service, job_id: str) -> set[str]:
    return {
        r["id"] for r in stack_resources(service.backend, job_id) if r["type"] == DISTRIBUTION_TYPE
    }


def test_a_timed_out_item_retried_reaches_success_without_touching_the_others(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 3600)  # issued only by hand here
    acm = acm_backends[ACCOUNT]["us-east-1"]
    job_id = job_calls.submit(service, (REQUESTS / "create-two.json").read_bytes(), lambda _: None)
    job = until(service, job_id, lambda j: len(j["certList"]) == 2)
    kept, doomed = job["items"]
    acm.get_certificate(kept["certificateArn"]).status = "ISSUED"
    acm.get_certificate(doomed["certificateArn"]).status = "VALIDATION_TIMED_OUT"
    failed = until(
        service,
        job_id,
        lambda j: j["status"] == "FAILED" and j["items"][0]["distributionStatus"] == "Deployed",
    )
    assert service.store.get(job_id).phase == Phase.DONE  # type: ignore[union-attr]
    before = failed["items"][0]
    dists_before = distributions(service, job_id)

    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 2)
    assert retry.retry(service, job_id, lambda _: None) == [doomed["key"]]
    job = drive(job_id, Supervisor(service), "SUCCESS")

    again = {i["key"]: i for i in job["items"]}
    assert again[before["key"]]["certificateArn"] == before["certificateArn"]
    assert again[before["key"]]["distributionId"] == before["distributionId"]
    assert again[doomed["key"]]["certificateArn"] != doomed["certificateArn"]
    assert again[doomed["key"]]["certificateStatus"] == "ISSUED"
    assert again[doomed["key"]]["distributionStatus"] == "Deployed"
    dists_after = distributions(service, job_id)
    assert dists_before < dists_after and len(dists_after) == 2
    # the timed-out certificate is gone from ACM; the job holds exactly two
    listed = acm.list_certificates(statuses=[], includes={})
    tagged = [c.arn for c in listed if c.tags.get("ssl-saas:job") == job_id]
    assert sorted(tagged) == sorted(job["certList"])

    with pytest.raises(JobConflict, match="nothing"):
        retry.retry(service, job_id, lambda _: None)


def test_an_imported_certificate_renewed_keeps_its_arn_and_its_distribution(
    service: Service,
) -> None:
    body = json.loads((REQUESTS / "import-one-working.json").read_text())
    job_id = job_calls.submit(service, json.dumps(body).encode(), lambda _: None)
    [item] = drive(job_id, Supervisor(service), "SUCCESS")["items"]
    acm = aws("acm")
    serial_before = acm.describe_certificate(CertificateArn=item["certificateArn"])["Certificate"][
        "Serial"
    ]

    fresh = issue(item["names"])
    files = {"CertPem": fresh.cert_pem, "PrivateKeyPem": fresh.key_pem, "ChainPem": fresh.chain_pem}
    other = issue(["somewhere-else.example.com"])
    wrong = {"CertPem": other.cert_pem, "PrivateKeyPem": other.key_pem, "ChainPem": other.chain_pem}
    with pytest.raises(RequestRejected) as refused:
        renewal.renew(service, job_id, item["key"], json.dumps(wrong).encode(), lambda _: None)
    assert [p.location for p in refused.value.problems] == ["CertPem"]
    mismatched = {**files, "PrivateKeyPem": other.key_pem}
    with pytest.raises(RequestRejected) as refused:
        renewal.renew(service, job_id, item["key"], json.dumps(mismatched).encode(), lambda _: None)
    assert "PrivateKeyPem" in [p.location for p in refused.value.problems]

    renewal.renew(service, job_id, item["key"], json.dumps(files).encode(), lambda _: None)
    [after] = drive(job_id, Supervisor(service), "SUCCESS")["items"]
    assert after["certificateArn"] == item["certificateArn"]
    assert after["distributionId"] == item["distributionId"]
    detail = acm.describe_certificate(CertificateArn=item["certificateArn"])["Certificate"]
    assert detail["Serial"] != serial_before
    served = acm.get_certificate(CertificateArn=item["certificateArn"])["Certificate"]
    assert served.strip() == fresh.cert_pem.strip()
    # applied: the key is in the stack, nothing of the renewal is left waiting
    folder = service.settings.root / "jobs" / job_id
    assert not list(folder.glob("renewal-*"))
    assert service.store.get(job_id).renewals == {}  # type: ignore[union-attr]
