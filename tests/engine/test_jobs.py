"""Jobs end to end through the real engine: the published HTTP API, the
command line, `pulumi up` on the project, workers and their failures, all
against moto with the sandbox's template distributions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from provisioning.actions import job_calls
from provisioning.api.app import create_app
from provisioning.engine import stacks
from provisioning.engine.state import lock_prefix, stack_outputs
from provisioning.jobs.record import Lease
from provisioning.jobs.states import Phase
from provisioning.jobs.store import INPUTS, SEALED_KEYS, STACK_CONFIG
from provisioning.sandbox.moto_server import free_port
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor
from tests.engine.jobs_helpers import API_KEY, REPO, REQUESTS, TEMPLATE, aws, comparable, drive
from tests.material import issue
from tests.records import job_record

pytestmark = pytest.mark.engine


@pytest.fixture
def api(service: Service) -> Iterator[str]:
    """The HTTP shim on a loopback port, with its watcher polling each second."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=60)


def pem_item(name: str) -> dict[str, Any]:
    issued = issue([name])
    return {
        "CertPem": issued.cert_pem,
        "PrivateKeyPem": issued.key_pem,
        "ChainPem": issued.chain_pem,
        "existing_cf_info": {"distribution_id": TEMPLATE},
    }


def poll(http: httpx.Client, job_id: str, want: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = http.get("/ssl_for_saas/get_ssl_job", params={"jobId": job_id}).json()
        if job["status"] == want:
            return job
        assert job["status"] != "FAILED", job["promptInfo"]
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not reach {want}")


def test_published_client_sees_success_then_deletes_everything(api: str, service: Service) -> None:
    headers = {"x-api-key": API_KEY}
    with httpx.Client(base_url=api, headers=headers, timeout=60) as http:
        answer = http.post("/ssl_for_saas", content=(REQUESTS / "create-one.json").read_bytes())
        assert answer.status_code == 200
        assert answer.json()["statusCode"] == 200
        job_id = answer.json()["body"]

        job = poll(http, job_id, "SUCCESS")
        assert job["jobType"] == "create"
        assert job["certCreateStageStatus"] == job["certValidationStageStatus"] == "SUCCESS"
        assert job["distStageStatus"] == "SUCCESS"
        assert job["cert_completed_number"] == job["cert_total_number"] == 1
        assert job["cloudfront_distribution_created_number"] == 1
        assert job["job_input"]["cnameList"][0]["sanList"] == [
            "yourdomainname.com",
            "yourdomainnamealias1.com",
        ]

        dist_arns = http.get(
            "/ssl_for_saas/list_cloudfront_arn_with_jobId", params={"jobId": job_id}
        ).json()
        cert_arns = http.get(
            "/ssl_for_saas/list_ssl_certification_with_jobId", params={"jobId": job_id}
        ).json()
        assert dist_arns == job["distList"] and cert_arns == job["certList"]
        dist_id = dist_arns[0].rsplit("/", 1)[1]
        made = aws("cloudfront").get_distribution_config(Id=dist_id)["DistributionConfig"]
        assert made["Aliases"]["Items"] == ["yourdomainname.com", "yourdomainnamealias1.com"]
        assert made["ViewerCertificate"]["ACMCertificateArn"] == cert_arns[0]
        template = aws("cloudfront").get_distribution_config(Id=TEMPLATE)["DistributionConfig"]
        assert comparable(made) == comparable(template)

        listed = http.get("/ssl_for_saas/list_ssl_jobs").json()
        assert [j["jobId"] for j in listed] == [job_id]
        certs = http.get("/ssl_for_saas/cert_list").json()
        assert [c["arn"] for c in certs] == cert_arns
        assert certs[0]["domainName"] == "yourdomainname.com"

        deleted = http.delete(f"/ssl_for_saas/jobs/{job_id}")  # right after SUCCESS
        assert deleted.status_code == 202
        deadline = time.time() + 120
        while http.get("/ssl_for_saas/get_ssl_job", params={"jobId": job_id}).status_code != 404:
            assert time.time() < deadline, "the job was not destroyed"
            time.sleep(0.5)
    ids = [d["Id"] for d in aws("cloudfront").list_distributions()["DistributionList"]["Items"]]
    assert dist_id not in ids
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
    assert stack_outputs(service.backend, job_id) is None
    home = service.settings.pulumi_home
    for path in [
        *service.settings.root.rglob("*"),
        *home.glob("logs/*"),
        *home.glob("workspaces/*"),
    ]:
        assert job_id not in str(path)
        assert not path.is_file() or job_id.encode() not in path.read_bytes(), path


def test_api_refuses_with_json_errors(api: str, service: Service) -> None:
    with httpx.Client(base_url=api, timeout=60) as anonymous:
        assert anonymous.get("/ssl_for_saas/list_ssl_jobs").status_code == 401
        wrong = anonymous.get("/ssl_for_saas/list_ssl_jobs", headers={"x-api-key": "nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "unauthorized"
    with httpx.Client(base_url=api, headers={"x-api-key": API_KEY}, timeout=60) as http:
        refused = http.post("/ssl_for_saas", content=(REQUESTS / "import-one.json").read_bytes())
        assert refused.status_code == 400
        locations = {e["location"] for e in refused.json()["errors"]}
        assert {"pemList[0].CertPem", "pemList[0].PrivateKeyPem"} <= locations
        unknown_template = http.post(
            "/ssl_for_saas",
            json={
                "acm_op": "create",
                "auto_creation": "true",
                "cnameList": [
                    {
                        "domainName": "a.example.com",
                        "existing_cf_info": {"distribution_id": "EXXXXXXXXXXXX"},
                    }
                ],
            },
        )
        assert unknown_template.status_code == 400
        assert "EXXXXXXXXXXXX" in unknown_template.json()["errors"][0]["message"]
        assert service.store.page(10, None) == ([], None)  # nothing made for refused requests

        missing = http.get(
            "/ssl_for_saas/get_ssl_job", params={"jobId": "0" * 8 + "-0000-0000-0000-" + "0" * 12}
        )
        assert missing.status_code == 404
        assert http.get("/ssl_for_saas/get_ssl_job", params={"jobId": "../etc"}).status_code == 404
        assert http.get("/ssl_for_saas/get_ssl_job").status_code == 400
        huge = http.post("/ssl_for_saas", content=b" " * (9 * 1024 * 1024))
        assert huge.status_code == 413

        preview = http.post(
            "/ssl_for_saas/preview", content=(REQUESTS / "create-two.json").read_bytes()
        )
        assert preview.status_code == 200
        assert [i["names"][0] for i in preview.json()["items"]] == [
            "yourdomainname1.com",
            "yourdomainname2.com",
        ]
        assert service.store.page(10, None) == ([], None)  # a preview creates nothing
        assert (
            http.get("/ssl_for_saas/list_ssl_jobs", params={"next": "garbage"}).status_code == 400
        )

        busy_id = "11111111-2222-3333-4444-555555555555"
        lease = Lease(owner="another instance", expires=time.time() + 3600)
        service.store.create(
            job_record(busy_id, job_input={}, phase=Phase.RUNNING, lease=lease),
            {},
        )
        # Accepted while a step holds the job; that step destroys it when its update ends.
        assert http.delete(f"/ssl_for_saas/jobs/{busy_id}").status_code == 202
        marked = service.store.get(busy_id)
        assert marked is not None and marked.phase == Phase.DESTROYING and marked.lease == lease


def test_import_job_clones_the_template_and_keeps_the_key_secret(service: Service) -> None:
    supervisor = Supervisor(service)
    request = (REQUESTS / "import-two-working.json").read_bytes()
    job_id = job_calls.submit(service, request, supervisor.launch)
    job = drive(job_id, supervisor, "SUCCESS")
    assert job["certValidationStageStatus"] == "SUCCESS"
    template = aws("cloudfront").get_distribution_config(Id="E1DACGTRXKKWCH")["DistributionConfig"]
    for item in job["items"]:
        made = aws("cloudfront").get_distribution_config(Id=item["distributionId"])
        config = made["DistributionConfig"]
        assert config["Aliases"]["Items"] == item["names"]
        assert config["ViewerCertificate"]["SSLSupportMethod"] == "sni-only"
        assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
        assert comparable(config) == comparable(template)
        tags = aws("acm").list_tags_for_certificate(CertificateArn=item["certificateArn"])["Tags"]
        assert {"Key": "ssl-saas:job", "Value": job_id} in tags
    key = json.loads(request)["pemList"][0]["PrivateKeyPem"]
    body_line = key.splitlines()[1]
    for path in service.settings.root.rglob("*"):
        if path.is_file():
            assert body_line not in path.read_text(errors="ignore"), path
    assert service.store.get_blob(job_id, SEALED_KEYS) is None  # moved into the stack
    assert b"secure:" in (service.store.get_blob(job_id, STACK_CONFIG) or b"")


def test_create_job_waits_for_issue_per_item(service: Service) -> None:
    supervisor = Supervisor(service)
    job_id = job_calls.submit(
        service, (REQUESTS / "create-two.json").read_bytes(), supervisor.launch
    )
    supervisor.stop()
    first = job_calls.status(service, job_id)
    assert first["certCreateStageStatus"] == "SUCCESS"
    assert first["certValidationStageStatus"] == "INPROGRESS"
    assert first["distStageStatus"] == "NOTSTART"
    assert len(first["dcv_validation_msg"]) == 5  # one record per distinct name
    job = drive(job_id, supervisor, "SUCCESS")
    assert job["cloudfront_distribution_created_number"] == 2


def test_project_pulumi_up_matches_the_automation_api(service: Service, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    request = REQUESTS / "import-one-working.json"

    def pulumi(*args: str) -> str:
        done = subprocess.run(
            ["pulumi", *args],
            cwd=project,
            env={**os.environ, **service.settings.as_env()},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    (service.settings.root / "pulumi").mkdir(parents=True)
    pulumi("stack", "init", "by-hand")
    pulumi("config", "set", "requestFile", str(request))
    pulumi("up", "--yes", "--skip-preview")
    by_hand = [
        (certificate(item["certificateArn"]), distribution_config(item["distributionId"]))
        for item in json.loads(pulumi("stack", "output", "items", "--json"))
    ]
    # The same names can't be served twice (the submission's pre-flight
    # refuses them): the stack made by hand goes first.
    pulumi("destroy", "--yes", "--skip-preview")

    supervisor = Supervisor(service)
    job = drive(
        job_calls.submit(service, request.read_bytes(), supervisor.launch), supervisor, "SUCCESS"
    )

    for (cert_a, a), theirs in zip(by_hand, job["items"], strict=True):
        cert_b = certificate(theirs["certificateArn"])
        assert cert_a["DomainName"] == cert_b["DomainName"]
        assert cert_a["SubjectAlternativeNames"] == cert_b["SubjectAlternativeNames"]
        assert cert_a["Serial"] == cert_b["Serial"]
        b = distribution_config(theirs["distributionId"])
        assert a["Aliases"] == b["Aliases"]
        assert comparable(a) == comparable(b)


def certificate(arn: str) -> dict[str, Any]:
    return dict(aws("acm").describe_certificate(CertificateArn=arn)["Certificate"])


def distribution_config(distribution_id: str) -> dict[str, Any]:
    return dict(aws("cloudfront").get_distribution_config(Id=distribution_id)["DistributionConfig"])


def test_twenty_concurrent_submissions_all_finish(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def request(n: int) -> dict[str, Any]:
        return {
            "acm_op": "import" if n % 2 else "create",
            "auto_creation": "true",
            "cnameList": []
            if n % 2
            else [
                {
                    "domainName": f"c{n}.example.com",
                    "existing_cf_info": {"distribution_id": TEMPLATE},
                }
            ],
            "pemList": [pem_item(f"i{n}.example.com")] if n % 2 else [],
        }

    bodies = [request(n) for n in range(20)]
    with httpx.Client(base_url=api, headers={"x-api-key": API_KEY}, timeout=120) as http:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda body: http.post("/ssl_for_saas", json=body), bodies))
        assert [a.status_code for a in answers] == [200] * 20
        job_ids = {a.json()["body"] for a in answers}
        assert len(job_ids) == 20
        for job_id in job_ids:
            poll(http, job_id, "SUCCESS", timeout=600)
    dists = aws("cloudfront").list_distributions()["DistributionList"]["Items"]
    assert len(dists) == 2 + 20  # the templates and one clone per job


def test_killed_step_is_taken_over_once_its_lease_lapses(service: Service) -> None:
    supervisor = Supervisor(service)
    body = (REQUESTS / "import-two-working.json").read_bytes()
    job_id = job_calls.submit(service, body, supervisor.launch)
    process = supervisor.running[job_id]
    deadline = time.time() + 120
    locks = lock_prefix(job_id)
    while not service.backend.keys(locks):  # the engine holds the stack: an update is under way
        assert time.time() < deadline and process.poll() is None, "no update started"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    record = service.store.get(job_id)
    assert record is not None and record.phase == Phase.RUNNING and record.leased()
    assert service.backend.keys(locks)  # left behind by the dead engine

    restarted = Supervisor(service)
    restarted.tick()
    assert not restarted.busy(job_id)  # the lease is still held: nobody takes the job yet
    job = drive(job_id, restarted, "SUCCESS")
    assert job["cloudfront_distribution_created_number"] == 2
    assert not service.backend.keys(locks)


def test_command_line_submit_status_list_destroy(service: Service) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "provisioning", *args],
            cwd=REPO,
            env={**os.environ, **service.settings.as_env()},
            capture_output=True,
            text=True,
            timeout=300,
        )

    submitted = run("submit", "--wait", str(REQUESTS / "create-one.json"))
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.splitlines()[0]
    assert "DNS validation record: _" in submitted.stdout
    assert "cnameList[0] yourdomainname.com: certificate PENDING_VALIDATION" in submitted.stdout
    last = submitted.stdout.rstrip().split("SUCCESS: ")[-1].splitlines()
    assert last[0] == "certificates 1/1 issued, distributions 1/1 created"
    assert last[1].startswith("  cnameList[0] yourdomainname.com: certificate ISSUED, distribution")
    assert last[1].endswith(" Deployed")

    status = run("status", job_id)
    assert json.loads(status.stdout)["status"] == "SUCCESS"
    assert job_id in run("list").stdout
    assert run("status", "nope").returncode == 1

    destroyed = run("destroy", job_id)
    assert destroyed.returncode == 0, destroyed.stderr
    assert run("status", job_id).returncode == 1
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []

    refused = run("submit", str(REQUESTS / "import-one.json"))
    assert refused.returncode == 2
    assert "placeholder" in refused.stderr


def test_large_import_requests_reach_stack_config_whole_and_secret(service: Service) -> None:
    """Forty items' keys are far beyond what one command-line argument holds."""
    keys = {
        f"pemList[{n}]": SecretStr(pem_item(f"s{n}.example.com")["PrivateKeyPem"])
        for n in range(40)
    }
    assert len(json.dumps({k: v.get_secret_value() for k, v in keys.items()})) > 64 * 1024
    job_id = "22222222-3333-4444-5555-666666666666"
    service.store.create(
        job_record(job_id, jobType="import", job_input={}, items=40, auto_creation=False),
        {INPUTS: b"{}"},
    )
    with stacks.job_workspace(service.settings, service.store, job_id) as ws:
        stacks.create_stack(ws, service.store, job_id, keys, service.settings)
    stored = service.store.get_blob(job_id, STACK_CONFIG)
    assert stored is not None and b"PRIVATE KEY" not in stored
    with stacks.job_workspace(service.settings, service.store, job_id) as ws:
        assert stacks.stored_keys(ws, job_id) == keys
