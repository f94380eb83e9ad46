"""Mutation testing of the job-lifecycle rules and the HTTP layer: mutmut
mutates the job states, the published record, the supervisor, the job
calls and the HTTP app, its dependencies and routes (see [tool.mutmut] in
pyproject.toml) and runs their fast unit tests against each mutant; this
prints the kill score per module and overall, and every mutant that
survived. A mutant whose tests time out counts as killed (the tests
noticed); one shown to be equivalent (no test can tell it from the code) is
left out of the score, listed with the reason. Fails when a module scores
under --fail-under.

mutmut mutates what runs inside functions and methods, not module-level
constants. A fresh run starts from an empty mutants/ (mutmut keeps a copy
of every source there and would test stale copies of modules others
changed); it takes about 15 minutes on two busy cores.

Run: .venv/bin/python bench/mutation.py [--jobs 2] [--fail-under 90] [--report-only]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
MODULES = ("states", "published", "supervisor", "job_calls", "app", "deps", "routes")
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}
NAME = re.compile(r"^(?P<module>[\w.]+)\.x(?:_|ǁ)")


@dataclass(frozen=True)
class Equivalent:
    """Mutants of ``function`` that change ``before`` (a removed line holds
    it) into a line matching ``after`` (``""``: the line is removed)."""

    function: str
    before: str
    after: str
    reason: str

    def matches(self, name: str, removed: list[str], added: list[str]) -> bool:
        if not name.startswith(self.function + "__mutmut_"):
            return False
        if not any(self.before in line for line in removed):
            return False
        if not self.after:
            return not added
        return any(re.search(self.after, line) for line in added)


FALSY_NONE = "None is as false as False, and the argument is only tested for truth"
EQUIVALENT = (
    Equivalent(
        "provisioning.actions.job_calls.x_submit",
        'model_dump(mode="json"',
        r'model_dump\((mode=(None|"XXjsonXX"|"JSON"), )?exclude=',
        "the request without pemList holds only JSON values (strings, booleans, integers, "
        "lists and models of them): python mode (any mode but json) dumps the same dict",
    ),
    Equivalent("provisioning.actions.job_calls.x_preview", "save=False", r"save=None", FALSY_NONE),
    Equivalent(
        "provisioning.api.app.x_create_app",
        "docs_url=None",
        "",
        "FastAPI serves /docs only when openapi_url is set, and it is None",
    ),
    Equivalent(
        "provisioning.api.app.x_create_app",
        "redoc_url=None",
        "",
        "FastAPI serves /redoc only when openapi_url is set, and it is None",
    ),
    Equivalent(
        "provisioning.api.deps.x_read_body",
        'headers.get("content-length")',
        r'headers\.get\("CONTENT-LENGTH"\)',
        "Starlette's request headers are looked up case-insensitively",
    ),
    Equivalent(
        "provisioning.api.app.x_provisioning_error",
        'log.warning("%s", error)',
        r"log\.warning\(error\)",
        'logging renders a message without arguments with str(), as "%s" does',
    ),
    Equivalent(
        "provisioning.api.app.xǁApiǁopenapi",
        "schemas.pop(unused, None)",
        r"schemas\.pop\(unused, ?\)",
        "FastAPI always adds both validation schemas (the routes take query parameters), "
        "so a pop without a default never misses",
    ),
)


def mutmut(*args: str, log: Path | None = None) -> str:
    if log is None:
        done = subprocess.run([str(MUTMUT), *args], cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"mutmut {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout
    with log.open("w") as out:
        code = subprocess.run([str(MUTMUT), *args], cwd=ROOT, stdout=out, stderr=out).returncode
    if code:
        tail = log.read_text(errors="replace").replace("\r", "\n")[-3000:]
        sys.exit(f"mutmut {' '.join(args)} failed (exit {code}); the end of {log}:\n{tail}")
    return ""


def results() -> dict[str, str]:
    """Every mutant's name and status, as ``mutmut results`` lists them."""
    found = {}
    for line in mutmut("results", "--all", "true").splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def changed_lines(name: str) -> tuple[list[str], list[str]]:
    diff = mutmut("show", name).splitlines()
    removed = [line[1:].strip() for line in diff if line.startswith("-") and line[:3] != "---"]
    added = [line[1:].strip() for line in diff if line.startswith("+") and line[:3] != "+++"]
    return removed, added


def module_of(name: str) -> str:
    found = NAME.match(name)
    return found.group("module").rpartition(".")[2] if found else "?"


def run(jobs: int) -> None:
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    (ROOT / "mutants").mkdir()
    log = ROOT / "mutants" / "run.log"
    started = time.monotonic()
    print(f"mutmut run: {', '.join(MODULES)} (log: {log.relative_to(ROOT)})", flush=True)
    mutmut("run", "--max-children", str(jobs), log=log)
    print(f"done in {time.monotonic() - started:.0f} s\n")


def report(fail_under: float) -> int:
    killed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    survivors: list[tuple[str, str, list[str], list[str]]] = []
    excluded: list[tuple[str, str]] = []
    for name, status in sorted(results().items()):
        module = module_of(name)
        if status in DETECTED:
            killed[module] += 1
            total[module] += 1
            continue
        removed, added = changed_lines(name)
        reason = next((e.reason for e in EQUIVALENT if e.matches(name, removed, added)), None)
        if reason is not None and status == "survived":
            excluded.append((name, reason))
            continue
        total[module] += 1
        survivors.append((name, status, removed, added))

    if survivors:
        print(f"Surviving mutants ({len(survivors)}):")
        for name, status, removed, added in survivors:
            print(f"  {name} [{status}]")
            for line in removed:
                print(f"      - {line}")
            for line in added:
                print(f"      + {line}")
        print()
    if excluded:
        print(f"Excluded as equivalent ({len(excluded)}):")
        for name, reason in excluded:
            print(f"  {name}: {reason}")
        print()

    low = []
    print(f"{'module':<12} {'killed':>7} / {'total':<6} {'score':>7}")
    for module in MODULES:
        score = 100.0 * killed[module] / total[module] if total[module] else 0.0
        if score < fail_under:
            low.append(module)
        print(f"{module:<12} {killed[module]:>7} / {total[module]:<6} {score:>6.1f}%")
    everything, caught = sum(total.values()), sum(killed.values())
    print(f"{'overall':<12} {caught:>7} / {everything:<6} {100.0 * caught / everything:>6.1f}%")
    print(f"({len(excluded)} equivalent mutants excluded; timeouts count as killed)")
    if low:
        print(f"under {fail_under:g}%: {', '.join(low)}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--fail-under", type=float, default=90.0, help="per-module score, %%")
    parser.add_argument(
        "--report-only", action="store_true", help="score the last run in mutants/ again"
    )
    args = parser.parse_args()
    if not args.report_only:
        run(args.jobs)
    return report(args.fail_under)


if __name__ == "__main__":
    sys.exit(main())
