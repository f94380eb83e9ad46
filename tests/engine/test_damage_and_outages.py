"""Trouble stays with the job it hits, through the real engine: a corrupt
record and a truncated checkpoint leave the listing and every other job
working and are deleted like any job; AWS out of reach is a 503 naming the
call, and a job whose looks at AWS fail says why and recovers when AWS
answers again; a deleted import job leaves nothing naming it and no
ciphertext of its keys."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioning.actions import job_calls
from provisioning.api.app import create_app
from provisioning.engine.state import stack_key
from provisioning.jobs.store import SEALED_KEYS, STACK_CONFIG
from provisioning.sandbox.moto_server import free_port
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor
from tests.engine.jobs_helpers import API_KEY, TEMPLATE, aws, drive
from tests.material import issue

pytestmark = pytest.mark.engine


def created(name: str) -> bytes:
    request = {
        "acm_op": "create",
        "auto_creation": "true",
        "cnameList": [{"domainName": name, "existing_cf_info": {"distribution_id": TEMPLATE}}],
    }
    return json.dumps(request).encode()


def imported(name: str) -> bytes:
    made = issue([name])
    request = {
        "acm_op": "import",
        "auto_creation": "true",
        "pemList": [
            {
                "CertPem": made.cert_pem,
                "PrivateKeyPem": made.key_pem,
                "ChainPem": made.chain_pem,
                "existing_cf_info": {"distribution_id": TEMPLATE},
            }
        ],
    }
    return json.dumps(request).encode()


def destroyed(service: Service, supervisor: Supervisor, job_id: str, timeout: float = 180) -> None:
    """Deleted as the API deletes: marked, then handed to a step."""
    job_calls.request_destroy(service, job_id)
    supervisor.launch(job_id)
    deadline = time.time() + timeout
    while service.store.get(job_id) is not None:
        assert time.time() < deadline, f"job {job_id} was not deleted"
        supervisor.tick()
        time.sleep(0.5)


def files_naming(root: Path, *needles: bytes) -> list[Path]:
    """Every file under ``root`` whose path or content holds any needle."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if any(n in str(path).encode() or n in content for n in needles):
            found.append(path)
    return found


def test_damage_stays_with_its_job_and_is_deleted_like_any_job(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = Supervisor(service)
    # A job waiting on ACM after its first step, whose checkpoint is then cut short.
    truncated = job_calls.submit(service, created("cut.example.com"), supervisor.launch)
    supervisor.stop()
    stack = Path(service.backend.root) / stack_key(truncated)
    stack.write_bytes(stack.read_bytes()[: stack.stat().st_size // 2])
    # A job whose record is garbled before any step ran.
    garbled = job_calls.submit(service, imported("garbled.example.com"), lambda _: None)
    record = service.settings.root / "jobs" / garbled / "record.json"
    record.write_bytes(record.read_bytes()[:40])

    with caplog.at_level(logging.WARNING, logger="provisioning.worker.supervisor"):
        healthy = job_calls.submit(service, imported("fine.example.com"), supervisor.launch)
        drive(healthy, supervisor, "SUCCESS")
    skipped = [r.getMessage() for r in caplog.records if "skipping job" in r.getMessage()]
    assert sorted(line.split()[2] for line in skipped) == sorted([truncated, garbled])

    listed = {job["jobId"]: job for job in job_calls.statuses(service)[0]}
    assert listed.keys() == {truncated, garbled, healthy}
    assert listed[healthy]["status"] == "SUCCESS"
    for job_id in (truncated, garbled):
        assert listed[job_id] == job_calls.status(service, job_id)
        assert listed[job_id]["status"] == "DAMAGED"
        assert f"DELETE /ssl_for_saas/jobs/{job_id}" in listed[job_id]["promptInfo"]
    assert "its record can't be read" in listed[garbled]["promptInfo"]
    assert "its stack checkpoint can't be read" in listed[truncated]["promptInfo"]
    assert listed[truncated]["job_input"]["cnameList"][0]["domainName"] == "cut.example.com"

    for job_id in (truncated, garbled):
        destroyed(service, supervisor, job_id)
        assert files_naming(service.settings.root, job_id.encode()) == []
    assert [job["jobId"] for job in job_calls.statuses(service)[0]] == [healthy]
    assert job_calls.status(service, healthy)["status"] == "SUCCESS"
    # Deleting a damaged job released its names like any other's.
    again = job_calls.submit(service, imported("garbled.example.com"), supervisor.launch)
    drive(again, supervisor, "SUCCESS")


def post(service: Service, body: bytes) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service, watch=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.post("/ssl_for_saas", content=body, headers={"x-api-key": API_KEY})

    return asyncio.run(call())


def test_unreachable_aws_answers_503_naming_the_call(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Supervisor, "launch", lambda self, job_id: None)  # no step needed
    moto = os.environ["AWS_ENDPOINT_URL"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    refused = post(service, created("down.example.com"))
    assert refused.status_code == 503
    assert refused.json() == {
        "error": "aws_unavailable",
        "message": "cloudfront GetDistributionConfig failed: the endpoint could not be reached",
        "service": "cloudfront",
        "operation": "GetDistributionConfig",
    }
    assert service.store.page(10, None) == ([], None)

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    accepted = post(service, created("down.example.com"))
    assert accepted.status_code == 200, accepted.text


def test_a_job_whose_checks_fail_says_why_and_recovers(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = Supervisor(service)
    job_id = job_calls.submit(service, created("outage.example.com"), supervisor.launch)
    supervisor.stop()  # its first step made the certificate: it waits on ACM
    moto = os.environ["AWS_ENDPOINT_URL"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    supervisor.tick()
    job = job_calls.status(service, job_id)
    reason = "acm DescribeCertificate failed: the endpoint could not be reached"
    assert job["status"] == "INPROGRESS"
    assert f"checking with AWS failed: {reason}; trying again at " in job["promptInfo"]
    assert [item.get("checkError") for item in job["items"]] == [reason]

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    done = drive(job_id, supervisor, "SUCCESS")
    assert done["promptInfo"] == ""
    assert "checkError" not in done["items"][0]


def ciphertexts(text: bytes) -> set[bytes]:
    """Pulumi's secret ciphertexts (``v1:...``) in a stack config or state."""
    return set(re.findall(rb"v1:[A-Za-z0-9+/=:]{16,}", text))


def test_a_deleted_import_job_leaves_nothing_naming_it_or_its_keys(service: Service) -> None:
    supervisor = Supervisor(service)
    job_id = job_calls.submit(service, imported("gone.example.com"), lambda _: None)
    sealed: dict[str, Any] = json.loads(service.store.get_blob(job_id, SEALED_KEYS) or b"")
    supervisor.launch(job_id)
    drive(job_id, supervisor, "SUCCESS")
    secrets = ciphertexts(service.store.get_blob(job_id, STACK_CONFIG) or b"")
    secrets |= ciphertexts((Path(service.backend.root) / stack_key(job_id)).read_bytes())
    assert secrets, "the stack holds its key as a secret"
    assert aws("acm").list_certificates()["CertificateSummaryList"]

    needles = [job_id.encode(), sealed["ciphertext"].encode(), *secrets]
    assert files_naming(service.settings.root, *needles)  # what the deletion must remove

    destroyed(service, supervisor, job_id)
    assert files_naming(service.settings.root, *needles) == []
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
