"""The commands as a user runs them, each in its own sandbox: serve with a
published-API client, worker finishing a job that submit started, versions,
the README's `pulumi up` on the project, and what the sandbox prints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.sandbox.moto_server import free_port

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# A line of moto's access log, with or without werkzeug's terminal colours.
ACCESS_LOG_LINE = re.compile(r"(GET|POST|PUT|DELETE|HEAD) /\S* HTTP/1\.1")


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


def readme_block(marker: str) -> str:
    """The shell block README.md shows between ``<!-- marker -->`` and
    ``<!-- /marker -->``: the test runs what the reader is told to run."""
    text = (REPO / "README.md").read_text()
    block = text.split(f"<!-- {marker} -->\n", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return block.strip().removeprefix("```sh").removesuffix("```")


def test_readme_pulumi_up_in_the_sandbox_works_as_written(tmp_path: Path) -> None:
    """In a copy of the project, since the stack's config file is written
    beside Pulumi.yaml; the code and the venv are the repository's own."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(Path(PYTHON).parents[1])
    for name in ("provisioning", "requests"):
        (project / name).symlink_to(REPO / name)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    done = subprocess.run(
        ["bash", "-c", readme_block("sandbox-pulumi-up")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = re.search(r"^\[$.*?^\]$", done.stdout, re.MULTILINE | re.DOTALL)
    assert outputs, done.stdout
    [item] = json.loads(outputs.group())
    assert item["names"] == ["yourdomainname.com", "yourdomainnamealias1.com"]
    assert item["certificateStatus"] == "ISSUED"
    assert item["distributionId"] and item["distributionStatus"] == "Deployed"
    assert not (project / "Pulumi.demo.yaml").exists()


def test_moto_and_provider_logs_go_to_the_state_directory(tmp_path: Path) -> None:
    done = in_sandbox(
        tmp_path,
        f"{PYTHON} -c \"import boto3; boto3.client('cloudfront').list_distributions()\"",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "GET /2020-05-31/distribution HTTP/1.1" in (tmp_path / "moto.log").read_text()
    assert not ACCESS_LOG_LINE.search(done.stdout + done.stderr), done.stderr
    assert "sandbox: AWS is moto at" in done.stderr
    provider_log = (tmp_path / "provider.log").read_text()
    assert provider_log.startswith("sandbox provider: serving aws:acm/certificate:Certificate")
