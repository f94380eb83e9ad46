"""Times a 10-item and a 100-item import job end to end (submit -> SUCCESS,
moved on by Supervisor ticks, as tests/engine/jobs_helpers.py ``drive`` does)
beside a plain boto3 script making the same AWS calls one by one against the
same moto server, and prints each one's fixed cost (intercept of the line
through the 10- and 100-item points) and marginal cost per item (slope).

Targets: the job's marginal cost per item within 2x of the plain script's;
the job's fixed cost under 5 s.

The plain script, per item: ``import_certificate`` (leaf, key, chain and the
job's tags in one call, as the provider makes it),
``get_distribution_config`` of the template, and
``create_distribution_with_tags`` with the template's config given the item's
aliases, certificate, comment and a caller reference. It reuses one client
per service, as any such script would.

The job runs with the Service built from the environment, as every front
builds one: the job store and Pulumi backend the sandbox chose (a local
directory and file backend, or with ``--shared`` DynamoDB and S3), and the
documented configuration (``SSL_SAAS_WORKERS``, default 2;
``SSL_SAAS_PARALLELISM``, default 4). The values used are printed, with the
environment the engine runs in (``PULUMI_SKIP_CHECKPOINTS``: see
provisioning/engine/adoption.py).
Each size is measured ``--rounds`` times (default 3) and the median is used.

``--sizes`` picks the two job sizes (default 10 100). A 1-item job and
script are timed as well, for reference: a line through two points hides in
its intercept any cost that grows faster than linearly.

Run inside the sandbox (moto, templates, state, engine):

    .venv/bin/python -m provisioning sandbox [--shared] --state $(mktemp -d) -- \
        .venv/bin/python bench/jobs_vs_boto3.py
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
from common import TEMPLATE, load_average, pem_items, sandbox_service

from provisioning.actions import job_calls
from provisioning.program.resources import ITEM_TAG, JOB_TAG
from provisioning.settings import CERTIFICATE_REGION
from provisioning.worker.supervisor import Supervisor

REFERENCE_SIZE = 1  # also timed, to show the fixed cost directly; not in the fit
TIMEOUT = 600
TARGET_RATIO = 2.0
TARGET_FIXED = 5.0


def line(points: dict[int, float]) -> tuple[float, float]:
    """Intercept and slope of the line through the two points."""
    (x0, y0), (x1, y1) = sorted(points.items())
    slope = (y1 - y0) / (x1 - x0)
    return y0 - slope * x0, slope


class JobFailed(RuntimeError):
    pass


def run_job(items: list[dict[str, Any]], supervisor: Supervisor) -> dict[str, float]:
    """Polls the job's record, and reads its status (the checkpoint as well,
    a megabyte at 100 items) only once the record could say SUCCESS or
    FAILED: polling the whole status every 50 ms would take CPU from the
    job it times."""
    body = json.dumps(
        {"acm_op": "import", "auto_creation": "true", "cnameList": [], "pemList": items}
    ).encode()
    service = supervisor.service
    start = time.perf_counter()
    job_id = job_calls.submit(service, body, supervisor.launch)
    submitted = time.perf_counter() - start
    deadline = time.time() + TIMEOUT
    success = None
    while time.time() < deadline:
        supervisor.tick()
        record = service.store.get(job_id)
        if record is not None and record.open and not record.item_errors:
            time.sleep(0.05)
            continue
        job = job_calls.status(service, job_id)
        if job["status"] == "FAILED":
            raise JobFailed(f"job {job_id} FAILED: {job['promptInfo']}")
        if job["status"] == "SUCCESS":
            success = success or time.perf_counter() - start
            if not supervisor.busy(job_id):
                break
        time.sleep(0.05)
    else:
        raise RuntimeError(
            f"job {job_id} did not finish: {job_calls.status(service, job_id)['status']}"
        )
    assert success is not None
    return {"submit": submitted, "success": success, "idle": time.perf_counter() - start}


def plain_script(items: list[dict[str, Any]], job_id: str) -> float:
    start = time.perf_counter()
    acm = boto3.client("acm", region_name=CERTIFICATE_REGION)
    cloudfront = boto3.client("cloudfront")
    for item in items:
        names = item["names"]
        tags = [
            {"Key": JOB_TAG, "Value": job_id},
            {"Key": ITEM_TAG, "Value": names[0]},
        ]
        arn = acm.import_certificate(
            Certificate=item["CertPem"].encode(),
            PrivateKey=item["PrivateKeyPem"].encode(),
            CertificateChain=item["ChainPem"].encode(),
            Tags=tags,
        )["CertificateArn"]
        template = cloudfront.get_distribution_config(Id=TEMPLATE)["DistributionConfig"]
        config = copy.deepcopy(template)
        config["Aliases"] = {"Quantity": len(names), "Items": names}
        config["ViewerCertificate"] = {
            "ACMCertificateArn": arn,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
        config["Comment"] = f"ssl-saas job {job_id}: {names[0]}"
        config["CallerReference"] = uuid.uuid4().hex
        cloudfront.create_distribution_with_tags(
            DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": tags}}
        )
    return time.perf_counter() - start


def material(size: int, prefix: str) -> list[dict[str, Any]]:
    items = pem_items(size, prefix)
    for n, item in enumerate(items):
        item["names"] = [f"{prefix}{n}.example.com", f"www.{prefix}{n}.example.com"]
    return items


def request_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "names"} for item in items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    service = sandbox_service("jobs_vs_boto3.py")
    sizes, rounds = tuple(sorted(args.sizes)), args.rounds
    supervisor = Supervisor(service)
    print(
        f"configuration: SSL_SAAS_WORKERS={service.settings.workers} "
        f"SSL_SAAS_PARALLELISM={service.settings.parallelism} (from the environment or "
        f"defaults); engine environment {service.settings.engine_env()}"
    )
    print(f"load average at start: {load_average()}")
    measured = (REFERENCE_SIZE, *sizes)
    job_runs: dict[int, list[dict[str, float]]] = {size: [] for size in measured}
    plain_runs: dict[int, list[float]] = {size: [] for size in measured}
    for round_number in range(rounds):
        for size in measured:
            made = material(size, f"p{round_number}n{size}x")
            plain_runs[size].append(plain_script(made, str(uuid.uuid4())))
            made = material(size, f"j{round_number}n{size}x")
            try:
                result = run_job(request_items(made), supervisor)
            except JobFailed as failed:
                supervisor.stop()
                print(f"  round {round_number + 1}, {size:3d} items: {failed}")
                print("targets: NOT MEASURED (a job failed; its step's log is above)")
                return
            job_runs[size].append(result)
            print(
                f"  round {round_number + 1}, {size:3d} items: job submit "
                f"{result['submit']:.2f} s, SUCCESS at {result['success']:.2f} s, steps done "
                f"at {result['idle']:.2f} s; plain script {plain_runs[size][-1]:.2f} s",
                flush=True,
            )
    supervisor.stop()
    print(f"load average at end: {load_average()}")

    job_points = {s: statistics.median(r["success"] for r in job_runs[s]) for s in measured}
    done_points = {s: statistics.median(r["idle"] for r in job_runs[s]) for s in measured}
    plain_points = {s: statistics.median(plain_runs[s]) for s in measured}
    job_fixed, job_slope = line({s: job_points[s] for s in sizes})
    done_fixed, done_slope = line({s: done_points[s] for s in sizes})
    plain_fixed, plain_slope = line({s: plain_points[s] for s in sizes})
    ratio = job_slope / plain_slope
    print(f"medians of {rounds} rounds:")
    for size in measured:
        note = "  (reference, not in the fit)" if size == REFERENCE_SIZE else ""
        print(
            f"  {size:3d} items: job SUCCESS {job_points[size]:7.2f} s, steps done "
            f"{done_points[size]:7.2f} s; plain boto3 {plain_points[size]:7.2f} s{note}"
        )
    print(f"line through {sizes[0]} and {sizes[1]} items (job: submit -> SUCCESS first seen):")
    print(f"  job fixed cost:                {job_fixed:7.2f} s   (target < {TARGET_FIXED:.0f} s)")
    print(f"  job marginal cost per item:    {job_slope * 1000:7.1f} ms")
    print(f"  plain fixed cost:              {plain_fixed:7.2f} s")
    print(f"  plain marginal cost per item:  {plain_slope * 1000:7.1f} ms")
    print(f"  marginal ratio job/plain:      {ratio:7.2f}x  (target <= {TARGET_RATIO:.0f}x)")
    print(
        f"  (to the last step's exit instead: fixed {done_fixed:.2f} s, marginal "
        f"{done_slope * 1000:.1f} ms/item, ratio {done_slope / plain_slope:.2f}x)"
    )
    if plain_slope <= 0:
        verdict = "NOT MEASURED (the plain script's slope is not positive; use larger sizes)"
    else:
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"targets: fixed cost {'met' if job_fixed < TARGET_FIXED else 'MISSED'}, "
        f"marginal ratio {verdict}"
    )


if __name__ == "__main__":
    main()
