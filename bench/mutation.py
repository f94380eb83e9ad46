"""Mutation testing of the job-lifecycle rules, the HTTP layer (app,
dependencies, routes), the calls on jobs, retry, renewal, pre-flight,
adoption and the events: mutmut mutates the modules of MODULES (listed again
in [tool.mutmut] of pyproject.toml) and runs their fast unit tests against
each mutant; this prints the kill score per module and overall, and every
mutant that survived. A mutant whose tests time out counts as killed (the tests
noticed); one shown to be equivalent (no test can tell it from the code) is
left out of the score, listed with the reason. Fails when a module scores
under --fail-under.

mutmut mutates what runs inside functions and methods, not module-level
constants. A fresh run starts from an empty mutants/ (mutmut keeps a copy
of every source there and would test stale copies of modules others
changed); all of them take the better part of an hour on two busy cores.

--module NAME (repeatable) runs the named modules only, each on its own, in
mutants/NAME/ (a project of its own whose [tool.mutmut] mutates that module
and selects that module's tests only); --report-only with --module scores
those runs again.

Run: .venv/bin/python bench/mutation.py [--jobs 2] [--fail-under 90] [--report-only]
                                        [--module NAME ...]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
# Module (as scores name it) -> its source and its fast unit tests.
MODULES = {
    "states": ("provisioning/jobs/states.py", ("tests/test_job_states.py",)),
    "published": ("provisioning/jobs/published.py", ("tests/test_published.py",)),
    "supervisor": ("provisioning/worker/supervisor.py", ("tests/test_supervisor.py",)),
    "job_calls": (
        "provisioning/actions/job_calls.py",
        ("tests/test_job_calls.py", "tests/test_idempotency.py", "tests/test_damage.py"),
    ),
    "app": ("provisioning/api/app.py", ("tests/test_api.py",)),
    "deps": ("provisioning/api/deps.py", ("tests/test_api.py",)),
    "routes": ("provisioning/api/routes.py", ("tests/test_api.py",)),
    "preflight": (
        "provisioning/actions/preflight.py",
        ("tests/test_preflight_checks.py", "tests/test_preflight_quotas.py"),
    ),
    "renewal": (
        "provisioning/actions/renewal.py",
        ("tests/test_retry_renewal_calls.py", "tests/test_renewal_chain.py"),
    ),
    "retry": (
        "provisioning/actions/retry.py",
        ("tests/test_retry_renewal_calls.py", "tests/test_retry_selection.py"),
    ),
    "adoption": (
        "provisioning/engine/adoption.py",
        ("tests/test_adoption.py", "tests/test_adoption_listing.py"),
    ),
    "outbox": (
        "provisioning/events/outbox.py",
        (
            "tests/test_outbox.py",
            "tests/test_outbox_sweep.py",
            "tests/test_outbox_delivery.py",
        ),
    ),
    "catalog": (
        "provisioning/events/catalog.py",
        ("tests/test_event_catalog.py", "tests/test_event_ids.py"),
    ),
}
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
POOL_SIZE = (
    "a pool's size bounds how many calls run at once, not what they answer: max_workers=None "
    "(CPUs + 4 threads) gives the same results"
)
HEADER_CASE = "urllib.request.Request capitalizes header names (Content-type), whatever their case"
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
    Equivalent(
        "provisioning.actions.preflight.x_check",
        "max_workers=PARALLEL_REQUESTS",
        r"max_workers=None",
        POOL_SIZE,
    ),
    Equivalent(
        "provisioning.actions.preflight.x_find_conflicts",
        "max_workers=PARALLEL_REQUESTS",
        r"max_workers=None",
        POOL_SIZE,
    ),
    Equivalent(
        "provisioning.actions.preflight.x_find_conflicts",
        "zip(asks, answers, strict=True)",
        r"zip\(asks, answers, (strict=(None|False))?\)",
        "answers is pool.map over asks: always exactly as long",
    ),
    Equivalent(
        "provisioning.engine.adoption.x_find_strays_deleting_timed_out",
        'stray["id"].split("@", 1)[0]',
        r'stray\["id"\]\.(split\("@", ?2?\)|rsplit\("@", 1\))\[0\]',
        "the first part of a split is the same however many splits are made, and an import "
        'id holds at most one "@" (an ACM ARN, "@", its region; a distribution id none)',
    ),
    Equivalent(
        "provisioning.engine.adoption.x_list_tagged",
        'arn.rsplit("/", 1)[-1]',
        r'arn\.(rsplit\("/", ?(2|None)?\)\[-1\]|rsplit\("/", 1\)\[\+1\]|split\("/", 1\)\[-1\])',
        'a CloudFront distribution\'s ARN holds one "/": every split of it ends with the id, '
        "its second part",
    ),
    Equivalent(
        "provisioning.engine.adoption.x_list_tagged",
        'resource.get("Tags", [])',
        r'resource\.get\("Tags", ?(None)?\)',
        "a resource found by a tag filter always comes with its tags",
    ),
    Equivalent(
        "provisioning.events.catalog.x_expiring",
        "if warning > 1",
        r"if warning > 2",
        "the warnings are 30, 7 and 1 days before: none is 2",
    ),
    Equivalent(
        "provisioning.events.catalog.xǁEventǁbody",
        'model_dump(mode="json")',
        r'model_dump\(mode=(None|"XXjsonXX"|"JSON")\)',
        "an event's fields are strings and a StrEnum and its data JSON values: python mode "
        "(any mode but json) dumps what json.dumps writes the same",
    ),
    Equivalent(
        "provisioning.events.outbox.x_send",
        'method="POST"',
        r"method=None",
        "urllib sends a request that has data as a POST",
    ),
    Equivalent(
        "provisioning.events.outbox.x_send",
        'method="POST"',
        "",
        "urllib sends a request that has data as a POST",
    ),
    Equivalent(
        "provisioning.events.outbox.x_send",
        '"Content-Type": "application/json"',
        r'"(content-type|CONTENT-TYPE)": "application/json"',
        HEADER_CASE,
    ),
    Equivalent(
        "provisioning.events.outbox.x_send",
        '"User-Agent": "ssl-saas-webhooks"',
        r'"(user-agent|USER-AGENT)": "ssl-saas-webhooks"',
        HEADER_CASE,
    ),
    Equivalent(
        "provisioning.events.outbox.x_send",
        'encode("ascii", "replace")',
        r'encode\("ASCII", "replace"\)',
        "Python looks codec names up case-insensitively",
    ),
    Equivalent(
        "provisioning.events.outbox.x_send",
        "answer.read(1024)",
        r"answer\.read\((None|1025)\)",
        "the answer is read only to end the exchange: how much of it is read changes nothing "
        "sent or kept",
    ),
    Equivalent(
        "provisioning.events.outbox.xǁDispatcherǁdeliver_due",
        "max_workers=SENDERS",
        r"max_workers=None",
        POOL_SIZE,
    ),
    Equivalent(
        "provisioning.events.outbox.xǁDispatcherǁ__init__",
        "self.last_sweep = 0.0",
        r"self\.last_sweep = 1\.0",
        "either is decades before the clock: the first round sweeps",
    ),
    Equivalent(
        "provisioning.events.outbox.xǁDispatcherǁrun_forever",
        "time.time() - self.last_sweep >= self.service",
        r"time\.time\(\) - self\.last_sweep > self\.service",
        "the time since the last sweep, read off a float clock after a wait, never equals the "
        "interval to the last digit",
    ),
    Equivalent(
        "provisioning.events.outbox.xǁDispatcherǁin_order",
        "delivery.next_attempt > time.time()",
        r"delivery\.next_attempt >= time\.time\(\)",
        "a delivery's next try (0.0, or a time read earlier from a float clock) never equals "
        "the clock read now",
    ),
)


def mutmut(*args: str, where: Path = ROOT, log: Path | None = None) -> str:
    if log is None:
        done = subprocess.run([str(MUTMUT), *args], cwd=where, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"mutmut {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout
    with log.open("w") as out:
        code = subprocess.run([str(MUTMUT), *args], cwd=where, stdout=out, stderr=out).returncode
    if code:
        tail = log.read_text(errors="replace").replace("\r", "\n")[-3000:]
        sys.exit(f"mutmut {' '.join(args)} failed (exit {code}); the end of {log}:\n{tail}")
    return ""


def results(where: Path) -> dict[str, str]:
    """Every mutant's name and status, as ``mutmut results`` lists them."""
    found = {}
    for line in mutmut("results", "--all", "true", where=where).splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def changed_lines(name: str, where: Path) -> tuple[list[str], list[str]]:
    diff = mutmut("show", name, where=where).splitlines()
    removed = [line[1:].strip() for line in diff if line.startswith("-") and line[:3] != "---"]
    added = [line[1:].strip() for line in diff if line.startswith("+") and line[:3] != "+++"]
    return removed, added


def configured() -> tuple[dict, dict]:
    """pyproject.toml's [tool.mutmut] and [tool.pytest.ini_options], checked
    against MODULES (the one drifting from the other would score modules
    that never ran)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    listed = tool["mutmut"]
    sources = sorted(source for source, _ in MODULES.values())
    tests = sorted({test for _, tests in MODULES.values() for test in tests})
    if sorted(listed["only_mutate"]) != sources:
        sys.exit(f"[tool.mutmut] only_mutate must list {sources}")
    if sorted(listed["pytest_add_cli_args_test_selection"]) != tests:
        sys.exit(f"[tool.mutmut] pytest_add_cli_args_test_selection must list {tests}")
    return listed, tool["pytest"]["ini_options"]


def toml_table(name: str, table: dict) -> str:
    """A table of strings and lists of strings (JSON's spelling is TOML's)."""
    return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())


def project(module: str) -> Path:
    """mutants/MODULE/: the project seen through links, with a pyproject.toml
    whose [tool.mutmut] mutates the module and selects its tests only."""
    listed, pytest_options = configured()
    source, tests = MODULES[module]
    where = ROOT / "mutants" / module
    where.mkdir(parents=True)
    for linked in ("provisioning", "tests"):
        (where / linked).symlink_to(ROOT / linked, target_is_directory=True)
    own = {
        **listed,
        "only_mutate": [source],
        "pytest_add_cli_args_test_selection": list(tests),
    }
    (where / "pyproject.toml").write_text(
        toml_table("tool.pytest.ini_options", pytest_options)
        + "\n"
        + toml_table("tool.mutmut", own)
    )
    return where


def module_of(name: str) -> str:
    found = NAME.match(name)
    return found.group("module").rpartition(".")[2] if found else "?"


def run(jobs: int, modules: list[str]) -> None:
    """A run of every module at once, in mutants/ (as [tool.mutmut] has it),
    or of each of ``modules`` in its own mutants/MODULE/."""
    if not modules:
        configured()
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        (ROOT / "mutants").mkdir()
    for module in modules or [None]:
        if module is None:
            where = ROOT
            log = ROOT / "mutants" / "run.log"
        else:
            shutil.rmtree(ROOT / "mutants" / module, ignore_errors=True)
            where = project(module)
            log = where / "run.log"
        started = time.monotonic()
        named = ", ".join([module] if module else MODULES)
        print(f"mutmut run: {named} (log: {log.relative_to(ROOT)})", flush=True)
        mutmut("run", "--max-children", str(jobs), where=where, log=log)
        print(f"done in {time.monotonic() - started:.0f} s\n")


def report(fail_under: float, modules: list[str]) -> int:
    killed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    survivors: list[tuple[str, str, list[str], list[str]]] = []
    excluded: list[tuple[str, str]] = []
    for where in [ROOT / "mutants" / m for m in modules] or [ROOT]:
        for name, status in sorted(results(where).items()):
            module = module_of(name)
            if status in DETECTED:
                killed[module] += 1
                total[module] += 1
                continue
            removed, added = changed_lines(name, where)
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
    for module in modules or MODULES:
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
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        choices=sorted(MODULES),
        help="run (or score) only this module, with its own tests; repeatable",
    )
    args = parser.parse_args()
    if not args.report_only:
        run(args.jobs, args.module)
    return report(args.fail_under, args.module)


if __name__ == "__main__":
    sys.exit(main())
