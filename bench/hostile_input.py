"""Times validation of hostile request bodies, each of which must be refused
in time linear in its size: 60,000 names (over the item and name limits;
target well under 3 s), ~2 MB bodies of names, of unknown keys, of unclosed
PEM blocks, of a long certificate chain, and 100,000 levels of nesting.

Run: .venv/bin/python bench/hostile_input.py
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provisioning.errors import RequestRejected
from provisioning.request.validation import validate_text
from tests.material import issue

SOURCE = {"existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"}}


def body(**fields: object) -> bytes:
    return json.dumps({"acm_op": "create", "auto_creation": "true", **fields}).encode()


def names_in_one_item(count: int) -> bytes:
    sans = [f"name{n}.example.com" for n in range(count)]
    return body(cnameList=[{"domainName": "a.example.com", "sanList": sans, **SOURCE}])


def odd_names_in_one_item(count: int) -> bytes:
    """Internationalised (the slow path) and invalid names, alternately."""
    sans = [f"bücher{n}.example.com" if n % 2 else f"bad_{n}..com" for n in range(count)]
    return body(cnameList=[{"domainName": "a.example.com", "sanList": sans, **SOURCE}])


def names_in_items(count: int) -> bytes:
    items = [{"domainName": f"name{n}.example.com", **SOURCE} for n in range(count)]
    return body(cnameList=items)


def unknown_keys(size: int) -> bytes:
    return body(**{f"unknown{n}": n for n in range(size // 16)})


def unclosed_pem(size: int) -> bytes:
    item = {"CertPem": "-----BEGIN A-----" * (size // 17), "PrivateKeyPem": "", "ChainPem": ""}
    return json.dumps({"acm_op": "import", "auto_creation": "false", "pemList": [item]}).encode()


def long_chain(size: int) -> bytes:
    issued = issue(["a.example.com"])
    chain = issued.chain_pem * (size // len(issued.chain_pem))
    item = {"CertPem": issued.cert_pem, "PrivateKeyPem": issued.key_pem, "ChainPem": chain}
    return json.dumps({"acm_op": "import", "auto_creation": "false", "pemList": [item]}).encode()


def seconds_to_refuse(text: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        validate_text(text)
    except RequestRejected as rejected:
        return time.perf_counter() - start, len(rejected.problems)
    raise SystemExit("accepted a hostile body")


def main() -> None:
    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("60,000 names in one item", lambda: names_in_one_item(60_000)),
        ("60,000 names in 60,000 items", lambda: names_in_items(60_000)),
        ("~2 MB of names in one item", lambda: names_in_one_item(90_000)),
        ("~2 MB of odd names in one item", lambda: odd_names_in_one_item(90_000)),
        ("~2 MB of unknown keys", lambda: unknown_keys(2_000_000)),
        ("~2 MB of unclosed PEM blocks", lambda: unclosed_pem(2_000_000)),
        ("~2 MB certificate chain", lambda: long_chain(2_000_000)),
        ("100,000 levels of nesting", lambda: b"[" * 100_000),
    ]
    for label, make in cases:
        text = make()
        took, problems = seconds_to_refuse(text)
        print(f"{label:32} {len(text) / 1e6:5.2f} MB  {took:6.3f} s  answer: {problems} problem(s)")


if __name__ == "__main__":
    main()
