"""A client written for the published API, nothing of ours imported: submits
the first published create example, polls get_ssl_job until SUCCESS, then
deletes the job. Exits 0 on success. Run by test_commands.py inside the
sandbox, against `python -m provisioning serve`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

REQUEST = Path(__file__).resolve().parents[2] / "requests" / "create-one.json"


def main(base: str, key: str) -> int:
    with httpx.Client(base_url=base, headers={"x-api-key": key}, timeout=60) as http:
        deadline = time.time() + 60
        while True:  # the server may still be starting
            try:
                http.get("/ssl_for_saas/list_ssl_jobs")
                break
            except httpx.TransportError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        answer = http.post("/ssl_for_saas", content=REQUEST.read_bytes()).json()
        job_id = answer["body"]
        print(f"submitted {job_id}", flush=True)
        deadline = time.time() + 300
        while (job := http.get("/ssl_for_saas/get_ssl_job", params={"jobId": job_id}).json())[
            "status"
        ] != "SUCCESS":
            if job["status"] == "FAILED" or time.time() > deadline:
                print(f"job ended {job['status']}: {job['promptInfo']}", flush=True)
                return 1
            time.sleep(1)
        print(f"SUCCESS {job['distList']}", flush=True)
        while http.delete(f"/ssl_for_saas/jobs/{job_id}").status_code == 409:
            time.sleep(0.5)
        while http.get("/ssl_for_saas/get_ssl_job", params={"jobId": job_id}).status_code != 404:
            time.sleep(0.5)
        print("deleted", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
