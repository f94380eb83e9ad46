"""Times GET /ssl_for_saas/get_ssl_job and GET /ssl_for_saas/list_ssl_jobs over
HTTP (FastAPI app on uvicorn, loopback) with 200 finished jobs in the
backend, and prints the medians. Targets: get_ssl_job under 300 ms,
list_ssl_jobs under 2 s.

The jobs: four small seed jobs are run to SUCCESS through the real engine
(a 1-item and a 2-item create, a 1-item and a 2-item import, submitted over
HTTP, moved on by Supervisor ticks), then copied under fresh job ids until
there are 200: for each copy what a job consists of — its record and blobs
(inputs, stack config) in the job store, and its stack checkpoint in the
Pulumi backend (.pulumi/stacks/cf-ssl-saas/ID.json) — is written with the
seed's id replaced by the new one, and each copy gets its own creation time.
Status reads only the record and the checkpoint, so the copies cost what
real jobs of those sizes cost to read, and 200 jobs exist in a minute
instead of the ~15 that running 200 jobs takes on 2 cores. ``--real`` runs
all 200 through the engine instead.

Both job stores work: the sandbox's local directory with a file:// backend,
or with ``--shared`` the DynamoDB table with an S3 backend (in moto); the
one used is printed.

The server is the product's app on the Service built from the environment,
with its own Supervisor and watcher (which looks at every open job each
SSL_SAAS_POLL_SECONDS, default 30), as deployed. get_ssl_job is timed over
GET_CALLS calls cycling through all 200 ids; list_ssl_jobs over LIST_CALLS
calls.

Run inside the sandbox:

    .venv/bin/python -m provisioning sandbox [--shared] --state $(mktemp -d) -- \
        .venv/bin/python bench/status.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import (
    api_key,
    create_request,
    import_request,
    load_average,
    sandbox_service,
    serve,
    summary,
)

from provisioning.actions import job_calls
from provisioning.api.app import create_app
from provisioning.engine.state import stack_key
from provisioning.jobs.ids import new_id
from provisioning.jobs.store import INPUTS, STACK_CONFIG
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor

JOBS = 200
GET_CALLS = 60
LIST_CALLS = 15
TIMEOUT = 900
TARGET_GET_MS = 300
TARGET_LIST_MS = 2000


def seed_bodies(count: int) -> list[bytes]:
    kinds = [
        lambda n: create_request(1, f"c1n{n}x"),
        lambda n: import_request(1, f"i1n{n}x"),
        lambda n: create_request(2, f"c2n{n}x"),
        lambda n: import_request(2, f"i2n{n}x"),
    ]
    return [kinds[n % len(kinds)](n) for n in range(count)]


def run_jobs(base_url: str, bodies: list[bytes], supervisor: Supervisor) -> list[str]:
    """Submits over HTTP, then ticks the supervisor until every job is
    SUCCESS with no step running."""
    service = supervisor.service
    headers = {"x-api-key": api_key(service)}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        ids = []
        for body in bodies:
            answer = http.post("/ssl_for_saas", content=body)
            if answer.status_code != 200:
                raise RuntimeError(f"submit refused: {answer.status_code} {answer.text[:300]}")
            ids.append(answer.json()["body"])
    deadline = time.time() + TIMEOUT
    pending = set(ids)
    while pending and time.time() < deadline:
        supervisor.tick()
        for job_id in list(pending):
            job = job_calls.status(service, job_id)
            if job["status"] == "FAILED":
                raise RuntimeError(f"job {job_id} failed: {job['promptInfo']}")
            if job["status"] == "SUCCESS" and not supervisor.busy(job_id):
                pending.discard(job_id)
        time.sleep(0.5)
    if pending:
        raise RuntimeError(f"{len(pending)} jobs did not finish in {TIMEOUT} s")
    return ids


def write_checkpoint(service: Service, job_id: str, data: bytes) -> None:
    """Where the engine writes it; the product only ever reads and deletes
    backend files, so the copy is made here."""
    backend = service.backend
    if backend.scheme == "file":
        target = Path(backend.root) / stack_key(job_id)
        target.write_bytes(data)
    else:
        s3 = service.aws.client("s3")
        s3.put_object(Bucket=backend.bucket, Key=backend.key(stack_key(job_id)), Body=data)


def copy_job(service: Service, seed: str, created: datetime) -> str:
    job_id = new_id()

    def renamed(data: bytes | None) -> bytes:
        assert data is not None, f"seed job {seed} lacks a part"
        return data.replace(seed.encode(), job_id.encode())

    record = service.store.get(seed)
    assert record is not None
    blobs = {name: renamed(service.store.get_blob(seed, name)) for name in (INPUTS, STACK_CONFIG)}
    write_checkpoint(service, job_id, renamed(service.backend.read(stack_key(seed))))
    copy = record.model_copy(
        update={"jobId": job_id, "creationDate": created.isoformat(), "version": 0}
    )
    service.store.create(copy, blobs)
    return job_id


def stored_jobs(service: Service) -> int:
    count, token = 0, None
    while True:
        page, token = service.store.page(job_calls.DEFAULT_PAGE, token)
        count += len(page)
        if token is None:
            return count


def timed_get(http: httpx.Client, path: str, **params: str) -> float:
    start = time.perf_counter()
    answer = http.get(path, params=params)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200:
        raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="run all 200 jobs through the engine")
    args = parser.parse_args()
    service = sandbox_service("status.py")
    print(f"load average at start: {load_average()}")

    supervisor = Supervisor(service)
    start = time.perf_counter()
    with serve(create_app(service, supervisor=supervisor, watch=False)) as base_url:
        seeds = run_jobs(base_url, seed_bodies(JOBS if args.real else 4), supervisor)
    supervisor.stop()
    made = f"{len(seeds)} jobs run to SUCCESS in {time.perf_counter() - start:.1f} s"
    ids = list(seeds)
    now = datetime.now(UTC)
    n = 0
    while len(ids) < JOBS:
        ids.append(copy_job(service, seeds[n % len(seeds)], now + timedelta(seconds=n + 1)))
        n += 1
    print(f"{made}; {n} copies of them added; {stored_jobs(service)} jobs in the job store")
    sizes = [len(service.backend.read(stack_key(job_id)) or b"") for job_id in seeds]
    print(f"seed checkpoint sizes: {', '.join(f'{s / 1024:.0f} KiB' for s in sizes)}")

    app = create_app(service)  # its own Supervisor and watcher, as deployed
    with serve(app) as base_url:
        headers = {"x-api-key": api_key(service)}
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
            timed_get(http, "/ssl_for_saas/list_ssl_jobs")  # warm
            timed_get(http, "/ssl_for_saas/get_ssl_job", jobId=ids[0])
            gets = [
                timed_get(http, "/ssl_for_saas/get_ssl_job", jobId=ids[i % len(ids)])
                for i in range(GET_CALLS)
            ]
            lists = [timed_get(http, "/ssl_for_saas/list_ssl_jobs") for _ in range(LIST_CALLS)]
            listed = http.get("/ssl_for_saas/list_ssl_jobs")
    print(
        f"list_ssl_jobs returns {len(listed.json())} jobs, "
        f"{len(listed.content) / 1024:.0f} KiB of JSON; watcher polls every "
        f"{service.settings.poll_seconds:g} s"
    )
    print(f"get_ssl_job:   {summary(gets)}  (target < {TARGET_GET_MS} ms)")
    print(f"list_ssl_jobs: {summary(lists)}  (target < {TARGET_LIST_MS} ms)")
    get_ok = statistics.median(gets) * 1000 < TARGET_GET_MS
    list_ok = statistics.median(lists) * 1000 < TARGET_LIST_MS
    print(f"load average at end: {load_average()}")
    print(
        f"targets: get_ssl_job {'met' if get_ok else 'MISSED'}, "
        f"list_ssl_jobs {'met' if list_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
