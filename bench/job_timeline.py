"""Diagnostic: where one import job's time goes. Submits an N-item import job
(default 100) with a launch that does nothing, then runs its first step in
this process (``provisioning.worker.step.run_step``, as ``python -m
provisioning.worker.step JOBID`` would: lease, sealed keys into the stack, update)
and prints:

- every Pulumi CLI call the step makes (through the Automation API or
  ``subprocess.run``), with its wall time;
- the engine's resource events: when the first and last resource started and
  finished, and per resource type the mean time from "pre" to "outputs";
- CPU seconds spent in each process over the step: this Python process (the
  inline program and its language host), the Pulumi CLI processes (the Go
  engine), the stand-in provider, and moto (the sandbox's own process);
- with ``--py-spy PATH``, the top functions (own samples while holding the
  GIL) of each Python process, from py-spy attached to each for the step
  (sampling slows the step down; its wall times are then not the product's);
- with ``--go-profile PREFIX``, the engine's CPU profile of ``pulumi up``
  (the CLI's ``--profiling``), summarised with ``go tool pprof -top`` when Go
  is installed.

The Service is built from the environment, so either job store works (the
sandbox's local directory, or with ``--shared`` DynamoDB, an S3 backend and
KMS secrets); the one used is printed.

Run inside the sandbox:

    .venv/bin/python -m provisioning sandbox [--shared] --state $(mktemp -d) -- \
        .venv/bin/python bench/job_timeline.py --items 100 \
        [--py-spy /path/to/py-spy] [--go-profile /tmp/engine]
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import import_request, sandbox_service
from pulumi.automation import _cmd, events

from provisioning.actions import job_calls
from provisioning.engine import stacks
from provisioning.worker.step import run_step

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def provider_pid(parent: int) -> int | None:
    for task in Path(f"/proc/{parent}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"provisioning.sandbox.provider" in cmdline:
                return int(child)
    return None


class CliTimes:
    """Wraps the Automation API's entry to the CLI, and ``subprocess.run`` for
    calls made around it (``pulumi version``, config through stdin), timing
    each call."""

    def __init__(self, profile: str | None) -> None:
        self.profile = profile
        self.calls: list[tuple[float, float, str]] = []
        self.origin = time.perf_counter()
        self.product_run = _cmd.PulumiCommand.run

    def install(self) -> None:
        times = self

        def run(command: Any, args: list[str], *rest: Any, **named: Any) -> Any:
            start = time.perf_counter()
            if times.profile and args[:1] == ["up"]:
                args = [*args, "--profiling", times.profile]
            try:
                return times.product_run(command, args, *rest, **named)
            finally:
                words = [a for a in args if not a.startswith("--") and "=" not in a][:3]
                times.calls.append(
                    (start - times.origin, time.perf_counter() - start, " ".join(words))
                )

        _cmd.PulumiCommand.run = run  # type: ignore[method-assign]
        product_subprocess_run = subprocess.run

        def subprocess_run(command: Any, *rest: Any, **named: Any) -> Any:
            if not (isinstance(command, list) and str(command[0]).endswith("pulumi")):
                return product_subprocess_run(command, *rest, **named)
            start = time.perf_counter()
            try:
                return product_subprocess_run(command, *rest, **named)
            finally:
                words = [a for a in command[1:] if not a.startswith("--")][:3]
                times.calls.append(
                    (start - times.origin, time.perf_counter() - start, " ".join(words))
                )

        subprocess.run = subprocess_run  # type: ignore[assignment]


class EngineEvents:
    def __init__(self, origin: float) -> None:
        self.origin = origin
        self.pre: dict[str, tuple[float, str]] = {}
        self.done: dict[str, float] = {}

    def __call__(self, event: events.EngineEvent) -> None:
        now = time.perf_counter() - self.origin
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            self.pre[meta.urn] = (now, meta.type)
        elif event.res_outputs_event is not None:
            self.done[event.res_outputs_event.metadata.urn] = now

    def report(self) -> None:
        by_type: dict[str, list[float]] = collections.defaultdict(list)
        for urn, (start, kind) in self.pre.items():
            if urn in self.done:
                by_type[kind].append(self.done[urn] - start)
        starts = [s for s, _ in self.pre.values()]
        if not starts:
            print("  no resource events")
            return
        print(
            f"  first resource pre at {min(starts):.2f} s, last outputs at "
            f"{max(self.done.values()):.2f} s (events as the Automation API's log reader saw them)"
        )
        for kind, spans in sorted(by_type.items()):
            print(
                f"  {kind:45s} n={len(spans):3d}  mean pre->outputs {sum(spans) / len(spans):6.2f}"
                f" s  max {max(spans):6.2f} s"
            )


def spy(py_spy: str, pid: int, output: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [py_spy, "record", "-p", str(pid), "-o", str(output), "-f", "raw", "--gil"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def top_functions(raw: Path, count: int = 15) -> list[tuple[int, str]]:
    """Own samples per function (the leaf frame), from py-spy's collapsed stacks
    of samples holding the GIL (Python running, not waiting)."""
    own: collections.Counter[str] = collections.Counter()
    if not raw.exists():
        return []
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        leaf = stack.split(";")[-1]
        own[leaf] += int(samples)
    total = sum(own.values())
    return [(n, f"{100 * n / total:5.1f}%  {name}") for name, n in own.most_common(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--py-spy", help="path of a py-spy binary")
    parser.add_argument("--go-profile", help="file prefix for the engine's CPU profile")
    args = parser.parse_args()
    service = sandbox_service("job_timeline.py")

    body = import_request(args.items, prefix=f"t{os.getpid()}x")
    start = time.perf_counter()
    job_id = job_calls.submit(service, body, lambda _: None)
    took = time.perf_counter() - start
    print(f"{args.items}-item import job {job_id}: submitted in {took:.2f} s")

    moto_pid = os.getppid()
    provider = provider_pid(moto_pid)
    pids = {"this process (program)": os.getpid(), "moto (sandbox)": moto_pid}
    if provider is not None:
        pids["stand-in provider"] = provider
    spies: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    folder = Path(tempfile.mkdtemp(prefix="job-timeline-"))
    if args.py_spy:
        for name, pid in pids.items():
            output = folder / f"{pid}.txt"
            spies[name] = (spy(args.py_spy, pid, output), output)
        time.sleep(1)  # let py-spy attach

    cli = CliTimes(args.go_profile)
    cli.install()
    engine = EngineEvents(cli.origin)
    stacks.update = functools.partial(stacks.update, on_event=engine)  # type: ignore[assignment]
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli.origin = time.perf_counter()
    engine.origin = cli.origin
    run_step(service, job_id, lambda: print("the step lost its lease", file=sys.stderr))
    wall = time.perf_counter() - cli.origin
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    cpu["pulumi CLI processes (engine)"] = (
        children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
    )
    status = job_calls.status(service, job_id)

    print(f"step: {wall:.2f} s wall, job status {status['status']} ({status['phase']})")
    print("Pulumi CLI calls (start offset, duration, command):")
    for offset, duration, words in cli.calls:
        print(f"  {offset:7.2f} s  {duration:6.2f} s  pulumi {words}")
    print(f"  total in CLI calls: {sum(d for _, d, _ in cli.calls):.2f} s")
    print("engine resource events:")
    engine.report()
    print("CPU seconds during the step (2 cores: at most 2 CPU s per wall s):")
    for name, seconds in cpu.items():
        print(
            f"  {name:32s} {seconds:7.2f} s  ({seconds / max(args.items, 1) * 1000:6.1f} ms/item)"
        )
    print(f"  {'all':32s} {sum(cpu.values()):7.2f} s")

    for name, (process, output) in spies.items():
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        print(f"py-spy, {name}: top functions by own samples")
        for _, line in top_functions(output):
            print(f"  {line}")
        print(f"  (collapsed stacks: {output})")
    if args.go_profile:
        go_profile_report(args.go_profile)


def go_profile_report(prefix: str) -> None:
    found = sorted(Path(prefix).parent.glob(Path(prefix).name + ".*.cpu"))
    if not found:
        print("no engine CPU profile was written")
        return
    go = shutil.which("go") or "/usr/local/go/bin/go"
    print(f"engine CPU profile {found[-1]} (go tool pprof -top, cumulative, top 40):")
    try:
        done = subprocess.run(
            [go, "tool", "pprof", "-top", "-cum", "-nodecount=40", str(found[-1])],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except OSError as error:
        print(f"  go tool pprof unavailable: {error}")
        return
    for line in done.stdout.splitlines():
        print(f"  {line}")


if __name__ == "__main__":
    main()
