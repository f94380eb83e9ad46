"""Several instances sharing one job store: two `serve` and one `worker`,
jobs submitted to both servers, one server killed outright (with its steps)
while jobs are mid-way. Every job must end in SUCCESS through the survivors,
no step of a job may ever run beside another, every tagged resource must
belong to its job's stack, and deleting every job must leave nothing.

Run on both kinds of store: AWS's shared services (DynamoDB jobs, S3
backend and template versions, KMS secrets, no shared directory) and the
one-box default (one local state directory)."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from pydantic import SecretStr

from provisioning.engine.state import Backend, stack_resources
from provisioning.program.resources import JOB_TAG
from provisioning.sandbox.environment import PASSPHRASE, SandboxEnv
from provisioning.sandbox.moto_server import FAKE_CREDENTIALS, free_port
from provisioning.sandbox.session import EXAMPLE_TEMPLATE_IDS, moto_client
from provisioning.settings import Settings
from provisioning.templates.versions import S3Store, save_current
from tests.clients import PROCESS
from tests.engine.jobs_helpers import API_KEY, REPO, TEMPLATE
from tests.material import issue

pytestmark = pytest.mark.engine
JOBS = 30
BUCKET, TABLE, KEY_ALIAS = "instances-state", "instances-jobs", "alias/instances"
STEP_LINE = re.compile(
    r"^(\S+ \S+) provisioning\.worker\.step step (begins|ends): job (\S+) by (\S+)$"
)


@dataclass
class Instance:
    name: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path
    url: str | None


def shared_settings(engine: SandboxEnv, base: Path) -> list[Settings]:
    s3 = moto_client("s3", engine.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    kms = moto_client("kms", engine.endpoint)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key)
    common: dict[str, Any] = {
        "backend_url": f"s3://{BUCKET}/pulumi?region=us-east-1&use_path_style=true",
        "job_store": f"dynamodb://{TABLE}",
        "config_store": f"s3://{BUCKET}/versions",
        "secrets_provider": f"awskms://{KEY_ALIAS}?region=us-east-1",
        "passphrase": None,
    }
    # No directory is shared: each instance has its own, for scratch only.
    store = S3Store(s3, BUCKET, "versions")
    for template in EXAMPLE_TEMPLATE_IDS:
        save_current(store, moto_client("cloudfront", engine.endpoint), template)
    return [service_settings(base / f"instance-{n}", common) for n in range(3)]


def local_settings(state_dir: Path) -> list[Settings]:
    """One directory for all, where the templates were saved."""
    common: dict[str, Any] = {"passphrase": SecretStr(PASSPHRASE)}
    return [service_settings(state_dir, common) for _ in range(3)]


def service_settings(state_dir: Path, common: dict[str, Any]) -> Settings:
    return Settings(
        state_dir=state_dir,
        api_key=SecretStr(API_KEY),
        poll_seconds=1,
        lease_seconds=10,
        workers=2,
        **common,
    )


@pytest.fixture(params=["shared", "local"])
def instances(
    request: pytest.FixtureRequest, settings: Settings, engine: SandboxEnv, tmp_path: Path
) -> Iterator[list[Instance]]:
    """Two servers and a worker, each its own process with its own log."""
    if request.param == "shared":
        each = shared_settings(engine, tmp_path)
    else:
        each = local_settings(settings.state_dir)
    started = []
    for name, instance_settings in zip(("a", "b", "worker"), each, strict=True):
        env = {**os.environ, **instance_settings.as_env()}
        env["SSL_SAAS_STACK_CONFIG"] = json.dumps(settings.stack_config)
        if instance_settings.secrets_provider:
            env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        port = free_port()
        command = ["worker"] if name == "worker" else ["serve", "--port", str(port)]
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "provisioning", *command],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            start_new_session=True,
        )
        url = None if name == "worker" else f"http://127.0.0.1:{port}"
        started.append(Instance(name, instance_settings, process, log, url))
    try:
        yield started
    finally:
        for instance in started:
            if instance.process.poll() is None:
                os.killpg(instance.process.pid, signal.SIGTERM)
        for instance in started:
            instance.process.wait(timeout=60)
        for pid in children(*(i.process.pid for i in started)):
            os.killpg(pid, signal.SIGKILL)


def children(*parents: int) -> list[int]:
    """Processes whose parent is one of ``parents``: an instance's steps."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) in parents:
            found.append(int(stat.parent.name))
    return found


def body(n: int) -> dict[str, Any]:
    if n % 2:
        issued = issue([f"import{n}.example.com"])
        return {
            "acm_op": "import",
            "auto_creation": "true",
            "pemList": [
                {
                    "CertPem": issued.cert_pem,
                    "PrivateKeyPem": issued.key_pem,
                    "ChainPem": issued.chain_pem,
                    "existing_cf_info": {"distribution_id": TEMPLATE},
                }
            ],
        }
    return {
        "acm_op": "create",
        "auto_creation": "true",
        "cnameList": [
            {
                "domainName": f"create{n}.example.com",
                "existing_cf_info": {"distribution_id": TEMPLATE},
            }
        ],
    }


@contextmanager
def client(url: str) -> Iterator[httpx.Client]:
    """A client of the instance at ``url``, once it answers."""
    with httpx.Client(base_url=url, headers={"x-api-key": API_KEY}, timeout=60) as http:
        deadline = time.time() + 60
        while True:
            try:
                http.get("/ssl_for_saas/list_ssl_jobs", params={"limit": 1})
                break
            except httpx.TransportError:
                assert time.time() < deadline, f"{url} did not start"
                time.sleep(0.2)
        yield http


def statuses(http: httpx.Client, job_ids: list[str]) -> dict[str, str]:
    found = {}
    for job_id in job_ids:
        job = http.get("/ssl_for_saas/get_ssl_job", params={"jobId": job_id}).json()
        assert job["status"] != "FAILED", job["promptInfo"]
        found[job_id] = job["status"]
    return found


def step_intervals(
    logs: list[Path], killed_at: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each step's span per job, from every instance's log; a step that never
    logged its end (killed) lasted until the kill."""
    begun: dict[tuple[str, str], datetime] = {}
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for log in logs:
        for line in log.read_text().splitlines():
            found = STEP_LINE.match(line)
            if found is None:
                continue
            when = datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f")
            if found[2] == "begins":
                begun[(found[3], found[4])] = when
            else:
                start = begun.pop((found[3], found[4]))
                spans.setdefault(found[3], []).append((start, when))
    for (job_id, _), start in begun.items():
        spans.setdefault(job_id, []).append((start, killed_at))
    return spans


def tagged(job_id: str | None = None) -> list[str]:
    """ARNs of certificates and distributions carrying the job tag (any job's
    when ``job_id`` is None)."""
    tagging = boto3.client(
        "resourcegroupstaggingapi",
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    tag = {"Key": JOB_TAG, **({"Values": [job_id]} if job_id else {})}
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[tag], ResourceTypeFilters=["acm:certificate", "cloudfront:distribution"]
    )
    return [r["ResourceARN"] for page in pages for r in page["ResourceTagMappingList"]]


def test_jobs_survive_a_killed_instance(instances: list[Instance]) -> None:
    server_a, server_b, worker = instances
    assert server_a.url and server_b.url
    with client(server_a.url) as http_a, client(server_b.url) as http_b:
        job_ids = []
        for n in range(JOBS):
            http = http_a if n % 2 else http_b
            answer = http.post("/ssl_for_saas", json=body(n))
            assert answer.status_code == 200, answer.text
            job_ids.append(answer.json()["body"])

        # Mid-way: some jobs done, and the doomed server running steps.
        deadline = time.time() + 300
        while not (
            "SUCCESS" in statuses(http_b, job_ids).values() and children(server_a.process.pid)
        ):
            assert time.time() < deadline, "no job finished while server a was busy"
            time.sleep(0.5)
        steps = children(server_a.process.pid)
        os.kill(server_a.process.pid, signal.SIGKILL)
        for pid in steps:
            os.killpg(pid, signal.SIGKILL)
        killed_at = datetime.now()
        server_a.process.wait()

        deadline = time.time() + 900
        while set(statuses(http_b, job_ids).values()) != {"SUCCESS"}:
            assert time.time() < deadline, statuses(http_b, job_ids)
            time.sleep(2)

        spans = step_intervals([i.log for i in instances], killed_at)
        for job_id, intervals in spans.items():
            intervals.sort()
            for (_, end), (start, _) in itertools.pairwise(intervals):
                assert end <= start, f"two steps of job {job_id} ran at once: {intervals}"
        assert set(spans) == set(job_ids)

        backend = Backend.of(worker.settings, PROCESS)
        for job_id in job_ids:
            owned = {r.get("id") for r in stack_resources(backend, job_id)}
            for arn in tagged(job_id):
                resource_id = arn if ":acm:" in arn else arn.rsplit("/", 1)[-1]
                assert resource_id in owned, f"{arn} is tagged with {job_id} but not in its stack"
            assert len(tagged(job_id)) == 2  # one certificate, one distribution

        for job_id in job_ids:
            assert http_b.delete(f"/ssl_for_saas/jobs/{job_id}").status_code == 202
        deadline = time.time() + 600
        while any(
            http_b.get("/ssl_for_saas/get_ssl_job", params={"jobId": j}).status_code != 404
            for j in job_ids
        ):
            assert time.time() < deadline, "not every job was destroyed"
            time.sleep(2)
    assert tagged() == []
