"""The commands as a user runs them, each in its own sandbox: serve with a
published-API client, worker finishing a job that submit started, versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.sandbox.moto_server import free_port

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def in_sandbox(state: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            PYTHON,
            "-m",
            "provisioning",
            "sandbox",
            "--state",
            str(state),
            "--",
            "bash",
            "-euc",
            script,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "PATH": f"{Path(PYTHON).parent}:/usr/bin:/bin",
            "HOME": str(Path.home()),
            "SSL_SAAS_POLL_SECONDS": "1",
        },
    )


def test_serve_answers_a_published_api_client(tmp_path: Path) -> None:
    port = free_port()
    done = in_sandbox(
        tmp_path,
        f"""
        {PYTHON} -m provisioning serve --port {port} 2>"$SSL_SAAS_STATE_DIR/serve.log" &
        trap 'kill %1' EXIT
        {PYTHON} tests/engine/published_client.py http://127.0.0.1:{port} "$SSL_SAAS_API_KEY"
        """,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS ['arn:aws:cloudfront::" in done.stdout
    assert done.stdout.rstrip().endswith("deleted")
    assert "template distribution E195R1W5GIVPF5 created in moto" in done.stderr


def test_worker_finishes_what_submit_started(tmp_path: Path) -> None:
    done = in_sandbox(
        tmp_path,
        f"""
        job=$({PYTHON} -m provisioning submit requests/create-two.json)
        {PYTHON} -m provisioning status "$job" | grep -q '"certCreateStageStatus": "SUCCESS"'
        {PYTHON} -m provisioning worker &
        trap 'kill %1' EXIT
        for attempt in $(seq 120); do
          {PYTHON} -m provisioning status "$job" | grep -q '"status": "SUCCESS"' && exit 0
          sleep 1
        done
        {PYTHON} -m provisioning status "$job"
        exit 1
        """,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_versions_lists_and_saves_template_configurations(tmp_path: Path) -> None:
    done = in_sandbox(
        tmp_path,
        f"""
        {PYTHON} -m provisioning versions list E195R1W5GIVPF5
        {PYTHON} -m provisioning versions save E195R1W5GIVPF5
        """,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listed, saved = done.stdout.split("\n]\n", 1)
    assert [v["version"] for v in json.loads(listed + "]")] == [1]
    assert json.loads(saved)["version"] == 1  # unchanged template: no new version
