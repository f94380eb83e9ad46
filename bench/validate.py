"""Times validation of import requests with real chains: a 1-item request and
a 100-item one, and prints what the 99 extra items cost (target: under 1 s).

Run: .venv/bin/python bench/validate.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import import_request

from provisioning.request.validation import validate_text

ROUNDS = 5


def median_seconds(body: bytes) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        validate_text(body)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    one, hundred = import_request(1), import_request(100)
    median_seconds(one)  # warm imports and caches
    t1, t100 = median_seconds(one), median_seconds(hundred)
    print(f"validate 1-item import:   {t1 * 1000:8.1f} ms (median of {ROUNDS})")
    print(f"validate 100-item import: {t100 * 1000:8.1f} ms (median of {ROUNDS})")
    print(f"cost beyond 1 item:       {(t100 - t1) * 1000:8.1f} ms (target < 1000 ms)")


if __name__ == "__main__":
    main()
