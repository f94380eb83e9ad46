"""Times POST /ssl_for_saas over HTTP (FastAPI app on uvicorn, loopback) for a
1-item and a 100-item import request with real certificate chains, and prints
the medians (target: 100-item median under 100 ms).

The app works with the Service built from the environment: the job store
the sandbox chose (a local directory, or with ``--shared`` DynamoDB, with
private keys sealed under KMS instead of the passphrase), which is printed.

The measured figure uses a ``QueueOnly`` supervisor as the app's: the
supervisor's real ``launch`` runs (the job queued under its lock) but no step
process starts, so the figure is the submit path alone — validation,
template resolution, sealing the keys, storing the job's record and blobs,
the response — and twenty 100-item jobs don't then run in the background on
this 2-core machine, slowing the rounds after them. A second, smaller set of
rounds uses the real ``Supervisor``, which starts the job's step process
during the request; each step is killed (its process group, by id) as soon
as its response has arrived, before it touches the job's stack. The app's
watcher is off in both, so the queued jobs stay queued.

Every request names fresh domains (with fresh certificates, made before its
timing starts): a live job holds its names, and a request naming them again
is refused.

Run inside the sandbox (moto, templates, state, API key):

    .venv/bin/python -m provisioning sandbox [--shared] --state $(mktemp -d) -- \
        .venv/bin/python bench/submit.py
"""

from __future__ import annotations

import itertools
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import api_key, import_request, load_average, sandbox_service, serve, summary

from provisioning.api.app import create_app
from provisioning.worker.supervisor import Supervisor

ROUNDS = 20
REAL_LAUNCH_ROUNDS = 5
TARGET_MS = 100


class QueueOnly(Supervisor):
    """Queues what it is asked to launch and never starts a step."""

    def start_waiting(self) -> None:
        pass


def post(http: httpx.Client, body: bytes) -> float:
    start = time.perf_counter()
    answer = http.post("/ssl_for_saas", content=body)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200:
        raise RuntimeError(f"submit refused: {answer.status_code} {answer.text[:500]}")
    return elapsed


PREFIXES = (f"s{n}x" for n in itertools.count())


def fresh(items: int) -> bytes:
    """An import request for names no earlier request used."""
    return import_request(items, next(PREFIXES))


def rounds(http: httpx.Client, items: int, count: int) -> list[float]:
    return [post(http, fresh(items)) for _ in range(count)]


def real_launch_rounds(base_url: str, items: int, supervisor: Supervisor) -> list[float]:
    times = []
    headers = {"x-api-key": api_key(supervisor.service)}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        for _ in range(REAL_LAUNCH_ROUNDS):
            times.append(post(http, fresh(items)))
            with supervisor.lock:
                started = list(supervisor.running.values())
                supervisor.running.clear()
            for process in started:  # the step we just made start, and its engine
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
    return times


def main() -> None:
    service = sandbox_service("submit.py")
    print(f"load average at start: {load_average()}")
    one, hundred = fresh(1), fresh(100)
    print(
        f"bodies: 1-item import {len(one) / 1024:.1f} KiB, 100-item import "
        f"{len(hundred) / 1024:.1f} KiB (real leaf + key + intermediate chain each)"
    )

    queued = QueueOnly(service)
    with serve(create_app(service, supervisor=queued, watch=False)) as base_url:
        headers = {"x-api-key": api_key(service)}
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
            post(http, one)  # warm imports, clients, the template version
            post(http, hundred)
            t1 = rounds(http, 1, ROUNDS)
            t100 = rounds(http, 100, ROUNDS)
    print("launch: QueueOnly (job queued, no step started)")
    print(f"  submit 1-item import:    {summary(t1)}")
    print(f"  submit 100-item import:  {summary(t100)}  (target < {TARGET_MS} ms)")
    extra = statistics.median(t100) - statistics.median(t1)
    print(f"  cost of 99 more items:   {extra * 1000:8.1f} ms")

    real = Supervisor(service)
    with serve(create_app(service, supervisor=real, watch=False)) as base_url:
        r1 = real_launch_rounds(base_url, 1, real)
        r100 = real_launch_rounds(base_url, 100, real)
    print(
        f"launch: Supervisor (workers {service.settings.workers}; step started in the "
        "request, then killed)"
    )
    print(f"  submit 1-item import:    {summary(r1)}")
    print(f"  submit 100-item import:  {summary(r100)}")
    print(f"load average at end: {load_average()}")
    verdict = "met" if statistics.median(t100) * 1000 < TARGET_MS else "MISSED"
    print(f"target (100-item median < {TARGET_MS} ms, submit path): {verdict}")


if __name__ == "__main__":
    main()
