"""``python -m provisioning validate`` as a user runs it: exit codes, output,
and no traceback or key material whatever the input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
REQUESTS = REPO / "requests"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning", "validate", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_file_prints_normalised_request_and_exits_0() -> None:
    result = run(REQUESTS / "create-two.json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout.split("\n", 1)[1])
    assert body["cnameList"][1]["sanList"] == ["yourdomainname2.com", "yourdomainname2alias1.com"]
    assert body["auto_creation"] is True


def test_published_import_example_exits_2_with_pem_message_and_no_traceback() -> None:
    result = run(REQUESTS / "import-one.json")
    assert result.returncode == 2
    assert "pemList[0].CertPem" in result.stderr
    assert "placeholder" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_json_lists_every_error_of_every_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"acm_op": "create",\n "auto_creation": nope}')
    result = run("--json", REQUESTS / "create-one.json", broken, REQUESTS / "import-two.json")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert list(report["accepted"]) == [str(REQUESTS / "create-one.json")]
    by_file = {(e["file"], e["location"]) for e in report["errors"]}
    assert (str(broken), "") in by_file
    assert (str(REQUESTS / "import-two.json"), "pemList[1].PrivateKeyPem") in by_file
    assert any("line 2 column" in e["message"] for e in report["errors"])


def test_missing_file_exits_2() -> None:
    result = run("no-such-file.json")
    assert result.returncode == 2
    assert "can't read the file" in result.stderr


def test_working_import_redacts_pem_bodies() -> None:
    path = REQUESTS / "import-two-working.json"
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert "PRIVATE KEY" not in result.stdout
    assert "BEGIN CERTIFICATE" not in result.stdout
    key = json.loads(path.read_text())["pemList"][0]["PrivateKeyPem"]
    assert key.splitlines()[1] not in result.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[]", "the body must be a JSON object holding a request, not a list"),
        ("null", "the body must be a JSON object holding a request, not null"),
        ("1e999999", "the body holds the number '1e999999', too large for any request value"),
        ("[" * 100_000, "the body is nested too deeply to read"),
    ],
)
def test_body_that_is_no_request_exits_2_with_a_message(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "request.json"
    path.write_text(body)
    result = run(path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}: {message}")
    assert "Traceback" not in result.stderr + result.stdout
