"""Shared pieces of the benchmarks that run inside the sandbox: request bodies
with real certificate chains, the HTTP shim on a loopback port, and the
Service built from the sandbox's environment (either job store)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn
from fastapi import FastAPI

from provisioning.sandbox.moto_server import free_port
from provisioning.service import Service
from provisioning.settings import load
from tests.material import issue

TEMPLATE = "E1DACGTRXKKWCH"  # one of the sandbox's example templates
# Set by the sandbox in both modes; a benchmark run outside it would reach
# for real AWS and a state directory of its own.
SANDBOX_VARIABLES = ("AWS_ENDPOINT_URL", "SSL_SAAS_STATE_DIR", "SSL_SAAS_API_KEY")


def require_sandbox(script: str) -> None:
    missing = [name for name in SANDBOX_VARIABLES if not os.environ.get(name)]
    if missing:
        sys.exit(
            f"{script}: {', '.join(missing)} unset; run it inside the sandbox "
            f"(--shared for the DynamoDB job store and S3 backend):\n"
            f"  .venv/bin/python -m provisioning sandbox [--shared] --state $(mktemp -d) -- "
            f".venv/bin/python bench/{script}"
        )


def sandbox_service(script: str) -> Service:
    """The Service as every front builds it, from the environment the sandbox
    set; prints which job store and backend the figures are for."""
    require_sandbox(script)
    service = Service.start(load())
    store = service.settings.job_store or "local directory"
    print(f"job store: {store}; Pulumi backend: {service.settings.pulumi_backend}")
    return service


def load_average() -> str:
    """Other work on the machine skews every figure; printed beside them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def api_key(service: Service) -> str:
    return service.settings.required_api_key()


def pem_items(items: int, prefix: str = "site") -> list[dict[str, Any]]:
    """``items`` pemList entries, each a fresh certificate with its key and
    intermediate chain, cloning the template."""
    found = []
    for n in range(items):
        issued = issue([f"{prefix}{n}.example.com", f"www.{prefix}{n}.example.com"])
        found.append(
            {
                "CertPem": issued.cert_pem,
                "PrivateKeyPem": issued.key_pem,
                "ChainPem": issued.chain_pem,
                "existing_cf_info": {"distribution_id": TEMPLATE},
            }
        )
    return found


def import_request(items: int, prefix: str = "site") -> bytes:
    body = {
        "acm_op": "import",
        "auto_creation": "true",
        "cnameList": [],
        "pemList": pem_items(items, prefix),
    }
    return json.dumps(body).encode()


def create_request(items: int, prefix: str = "site") -> bytes:
    cnames = [
        {
            "domainName": f"{prefix}{n}.example.com",
            "sanList": [f"www.{prefix}{n}.example.com"],
            "existing_cf_info": {"distribution_id": TEMPLATE},
        }
        for n in range(items)
    ]
    body = {"acm_op": "create", "auto_creation": "true", "cnameList": cnames, "pemList": []}
    return json.dumps(body).encode()


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """uvicorn on a loopback port in a thread, as tests/engine/test_jobs.py
    runs it; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def summary(times: list[float]) -> str:
    """Median, then min and max, in milliseconds."""
    ms = sorted(t * 1000 for t in times)
    return (
        f"median {statistics.median(ms):8.1f} ms  (min {ms[0]:.1f}, max {ms[-1]:.1f}, n={len(ms)})"
    )
