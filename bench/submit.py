"""Times POST /ssl_for_saas over HTTP (FastAPI app on uvicorn, loopback) for a
1-item and a 100-item import request with real certificate chains, and prints
the medians (target: 100-item median under 100 ms).

The measured figure uses ``Supervisor(limit=0)`` as the app's launch: the
supervisor's real ``launch`` runs (payload encoded, job queued under its
lock) but no worker process starts, so the figure is the submit path alone —
validation, template resolution, the job record, the response — and twenty
100-item jobs don't then run in the background on this 2-core machine,
slowing the rounds after them. A second, smaller set of rounds uses the real
``Supervisor()``, which starts the job's worker during the request and writes
the PEM items to its stdin; each worker is killed (its process group, by id)
as soon as its response has arrived, before it touches the job's stack.

Run inside the sandbox (moto, templates, state directory, API key):

    .venv/bin/python -m provisioning sandbox --state $(mktemp -d) -- \
        .venv/bin/python bench/submit.py
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import api_key, import_request, load_average, require_sandbox, serve, summary

from provisioning.api import create_app
from provisioning.worker import Supervisor

ROUNDS = 20
REAL_LAUNCH_ROUNDS = 5
TARGET_MS = 100


def post(http: httpx.Client, body: bytes) -> float:
    start = time.perf_counter()
    answer = http.post("/ssl_for_saas", content=body)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200:
        raise RuntimeError(f"submit refused: {answer.status_code} {answer.text[:500]}")
    return elapsed


def rounds(http: httpx.Client, body: bytes, count: int) -> list[float]:
    return [post(http, body) for _ in range(count)]


def real_launch_rounds(base_url: str, body: bytes, supervisor: Supervisor) -> list[float]:
    times = []
    with httpx.Client(base_url=base_url, headers={"x-api-key": api_key()}, timeout=120) as http:
        for _ in range(REAL_LAUNCH_ROUNDS):
            times.append(post(http, body))
            with supervisor.lock:
                started = list(supervisor.running.values())
                supervisor.running.clear()
            for process in started:  # the worker we just made start, and its children
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
    return times


def main() -> None:
    require_sandbox("submit.py")
    print(f"load average at start: {load_average()}")
    one, hundred = import_request(1), import_request(100)
    print(
        f"bodies: 1-item import {len(one) / 1024:.1f} KiB, 100-item import "
        f"{len(hundred) / 1024:.1f} KiB (real leaf + key + intermediate chain each)"
    )

    queued = Supervisor(limit=0)
    with serve(create_app(supervisor=queued, watch=False)) as base_url:
        headers = {"x-api-key": api_key()}
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
            rounds(http, one, 2)  # warm imports, clients, the template version
            rounds(http, hundred, 1)
            t1 = rounds(http, one, ROUNDS)
            t100 = rounds(http, hundred, ROUNDS)
    print("launch: Supervisor(limit=0) (job queued, no worker started)")
    print(f"  submit 1-item import:    {summary(t1)}")
    print(f"  submit 100-item import:  {summary(t100)}  (target < {TARGET_MS} ms)")
    extra = statistics.median(t100) - statistics.median(t1)
    print(f"  cost of 99 more items:   {extra * 1000:8.1f} ms")

    real = Supervisor()
    with serve(create_app(supervisor=real, watch=False)) as base_url:
        r1 = real_launch_rounds(base_url, one, real)
        r100 = real_launch_rounds(base_url, hundred, real)
    print(f"launch: Supervisor() (limit {real.limit}; worker started in the request, then killed)")
    print(f"  submit 1-item import:    {summary(r1)}")
    print(f"  submit 100-item import:  {summary(r100)}")
    print(f"load average at end: {load_average()}")
    verdict = "met" if statistics.median(t100) * 1000 < TARGET_MS else "MISSED"
    print(f"target (100-item median < {TARGET_MS} ms, submit path): {verdict}")


if __name__ == "__main__":
    main()
