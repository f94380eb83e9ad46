"""``python -m provisioning``: the command line front of the product."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from provisioning import aws_clients
from provisioning.actions import job_calls, renewal, retry
from provisioning.aws_clients import AwsClients
from provisioning.errors import (
    AwsFailure,
    ConfigurationError,
    Conflict,
    DamagedJob,
    NotFound,
    Problem,
    RequestRejected,
    TemplateError,
)
from provisioning.events import outbox
from provisioning.jobs.states import JobStatus
from provisioning.program.outputs import items_of
from provisioning.request.validation import validate_text
from provisioning.service import Service
from provisioning.settings import Settings, load
from provisioning.templates.versions import (
    list_versions,
    open_store,
    save_current,
)
from provisioning.worker.supervisor import Supervisor

EXIT_REFUSED = 2
ENDED = (JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.DAMAGED)


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise RequestRejected([Problem("", f"can't read the file: {error.strerror}")]) from None


def validate_command(args: argparse.Namespace, settings: Settings) -> int:
    """Checks each file independently so one bad file doesn't hide another's result."""
    refused: list[dict[str, str]] = []
    accepted: dict[str, object] = {}
    for path in args.files:
        try:
            valid = validate_text(read_file(path), max_items=settings.max_items)
        except RequestRejected as rejected:
            refused += [
                {"file": str(path), "location": p.location, "message": p.message}
                for p in rejected.problems
            ]
        else:
            accepted[str(path)] = valid.request.model_dump(mode="json")
    if args.json:
        print(json.dumps({"accepted": accepted, "errors": refused}, indent=2))
    else:
        for path, request in accepted.items():
            print(f"{path}: valid")
            print(json.dumps(request, indent=2))
        for error in refused:
            where = f" {error['location']}:" if error["location"] else ""
            print(f"{error['file']}:{where} {error['message']}", file=sys.stderr)
    return EXIT_REFUSED if refused else 0


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


def progress(job: dict[str, Any]) -> str:
    """The job and each of its items in a few lines: what a person waiting
    on `submit --wait` needs, the DNS records to publish first."""
    certificates = f"{job['cert_completed_number']}/{job['cert_total_number']}"
    distributions = (
        f"{job['cloudfront_distribution_created_number']}"
        f"/{job['cloudfront_distribution_total_number']}"
    )
    lines = [
        f"{job['status']}: certificates {certificates} issued, "
        f"distributions {distributions} created"
    ]
    for shown, item in zip(job["items"], items_of(job), strict=True):
        state = f"certificate {item.certificate_status or 'not yet requested'}"
        if item.distribution_id:
            state += f", distribution {item.distribution_id} {item.distribution_status}"
        if "error" in shown:
            state += f", failed: {shown['error']}"
        lines.append(f"  {item.key} {item.names[0]}: {state}")
    lines += [
        f"  DNS validation record: {name} {record['type']} {record['value']}"
        for name, record in job["dcv_validation_msg"].items()
    ]
    return "\n".join(lines)


def follow(job_id: str, supervisor: Supervisor) -> int:
    """Drives the job from this process and prints each change of state
    until it ends."""
    last = None
    while True:
        supervisor.tick(only=job_id)
        job = job_calls.status(supervisor.service, job_id)
        summary = progress(job)
        if summary != last:
            print(summary, flush=True)
            last = summary
        if job["status"] in ENDED and not supervisor.busy(job_id):
            if job["promptInfo"]:
                print(job["promptInfo"], file=sys.stderr)
            return 0 if job["status"] == JobStatus.SUCCESS else 1
        time.sleep(min(supervisor.service.settings.poll_seconds, 2.0))


def submit_command(args: argparse.Namespace, settings: Settings) -> int:
    supervisor = Supervisor(Service.start(settings))
    job_id = job_calls.submit(
        supervisor.service, read_file(args.file), supervisor.launch, args.idempotency_key
    )
    print(job_id, flush=True)
    # A repeat's job may have been deleted: "no job", as for status.
    return follow(job_id, supervisor) if args.wait else 0


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    print_json(job_calls.status(Service.start(settings), args.job_id))
    return 0


def list_command(_: argparse.Namespace, settings: Settings) -> int:
    service = Service.start(settings)
    following: str | None = None
    while True:
        page, following = job_calls.statuses(service, after=following)
        for job in page:
            print(f"{job['jobId']}  {job['jobType']:6}  {job['status']:10}  {job['creationDate']}")
        if following is None:
            return 0


def destroy_command(args: argparse.Namespace, settings: Settings) -> int:
    supervisor = Supervisor(Service.start(settings))
    job_calls.request_destroy(supervisor.service, args.job_id)
    supervisor.launch(args.job_id)
    supervisor.stop()
    if supervisor.service.store.get(args.job_id) is not None:
        print_json(job_calls.status(supervisor.service, args.job_id))
        return 1
    print(f"destroyed {args.job_id}")
    return 0


def retry_command(args: argparse.Namespace, settings: Settings) -> int:
    supervisor = Supervisor(Service.start(settings))
    retried = retry.retry(supervisor.service, args.job_id, supervisor.launch)
    print(f"retrying {', '.join(retried) or 'the job'}", flush=True)
    return follow(args.job_id, supervisor) if args.wait else 0


def renew_command(args: argparse.Namespace, settings: Settings) -> int:
    """FILE holds CertPem, PrivateKeyPem and ChainPem, as the API's body."""
    supervisor = Supervisor(Service.start(settings))
    renewal.renew(
        supervisor.service, args.job_id, args.key, read_file(args.file), supervisor.launch
    )
    print(f"renewing {args.key} of {args.job_id}", flush=True)
    return follow(args.job_id, supervisor) if args.wait else 0


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from provisioning.api.app import create_app

    app = create_app(Service.start(settings))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def worker_command(_: argparse.Namespace, settings: Settings) -> int:
    stop = threading.Event()
    service = Service.start(settings)
    outbox.start(service, stop)
    try:
        Supervisor(service).run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def versions_command(args: argparse.Namespace, settings: Settings) -> int:
    aws = AwsClients()  # the process's clients: this command starts no Service
    store = open_store(settings.config_store_url, aws)
    if args.action == "save":
        print_json(save_current(store, aws.cloudfront(), args.distribution_id))
    else:
        print_json(list_versions(store, args.distribution_id))
    return 0


def sandbox_command(args: argparse.Namespace, _: Settings) -> int:
    from provisioning.sandbox.session import run_in_sandbox

    command = [c for c in args.command if c != "--"]
    if not command:
        print("give a command to run, e.g. sandbox -- python -m provisioning list", file=sys.stderr)
        return EXIT_REFUSED
    return run_in_sandbox(command, Path(args.state), shared=args.shared)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m provisioning", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, run: object, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(run=run)
        return sub

    validate = command(
        "validate", validate_command, "check request files; print each normalised, or every error"
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--json", action="store_true", help="machine-readable output")
    submit = command("submit", submit_command, "start a job; prints its jobId")
    submit.add_argument("file", type=Path, metavar="FILE")
    submit.add_argument("--wait", action="store_true", help="follow the job until it ends")
    submit.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="a repeat with the same KEY and file within 24 hours prints the first job's id "
        "instead of starting another",
    )
    command("status", status_command, "print a job's record").add_argument("job_id")
    command("list", list_command, "list jobs, newest first")
    command("destroy", destroy_command, "delete a job's resources and its stack").add_argument(
        "job_id"
    )
    retry_parser = command("retry", retry_command, "run a job's failed items again")
    retry_parser.add_argument("job_id")
    retry_parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    renew = command(
        "renew", renew_command, "re-import an imported item's certificate in place (same ARN)"
    )
    renew.add_argument("job_id")
    renew.add_argument("key", help="the item's key, e.g. pemList[0]")
    renew.add_argument(
        "file", type=Path, metavar="FILE", help="JSON with CertPem, PrivateKeyPem and ChainPem"
    )
    renew.add_argument("--wait", action="store_true", help="follow the job until it ends")
    serve = command("serve", serve_command, "run the HTTP API (and its workers)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    command("worker", worker_command, "run workers that move jobs along (no HTTP)")
    versions = command("versions", versions_command, "template configuration versions")
    versions.add_argument("action", choices=["list", "save"])
    versions.add_argument("distribution_id")
    sandbox = command("sandbox", sandbox_command, "run COMMAND against moto and a local engine")
    sandbox.add_argument("--state", default=".state/sandbox", help="sandbox state directory")
    sandbox.add_argument(
        "--shared",
        action="store_true",
        help="moto as the shared AWS: S3 backend and template store, DynamoDB jobs, KMS secrets",
    )
    sandbox.add_argument("command", nargs=argparse.REMAINDER)
    return root


def no_such(error: BaseException, args: argparse.Namespace) -> str:
    """The job asked for (or the one a submission made); with the item, when
    the command names one."""
    job = getattr(error, "job_id", "") or args.job_id
    key = getattr(args, "key", None)
    return f"no job {job}" + (f" with an item {key}" if key else "")


def rejected(error: BaseException, _: argparse.Namespace) -> str:
    return "\n".join(f"refused: {problem}" for problem in cast(RequestRejected, error).problems)


# How the command line reports each error a command lets through, and its
# exit code: the one place an error becomes words. The nearest class in an
# error's ancestry decides; an error of no class here ends with its traceback.
Say = Callable[[BaseException, argparse.Namespace], str]
FAILURES: dict[type[BaseException], tuple[Say, int]] = {
    RequestRejected: (rejected, EXIT_REFUSED),
    Conflict: (lambda error, _: f"refused: {error}", EXIT_REFUSED),
    NotFound: (no_such, 1),
    ConfigurationError: (lambda error, _: f"error: {error}", EXIT_REFUSED),
    NoCredentialsError: (
        lambda *_: (
            "error: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE"
        ),
        EXIT_REFUSED,
    ),
    BotoCoreError: (lambda error, _: f"error: AWS could not be reached: {error}", EXIT_REFUSED),
    ClientError: (lambda error, _: f"error: {aws_clients.failure(error)}", EXIT_REFUSED),
    AwsFailure: (lambda error, _: f"error: {error}", EXIT_REFUSED),
    TemplateError: (lambda error, _: f"error: {error}", EXIT_REFUSED),
    DamagedJob: (lambda error, _: f"error: {error}", EXIT_REFUSED),
}


def failure(error: BaseException, args: argparse.Namespace) -> tuple[str, int] | None:
    """What FAILURES says of ``error``: its message and exit code."""
    for kind in type(error).__mro__:
        if kind in FAILURES:
            say, code = FAILURES[kind]
            return say(error, args), code
    return None


def run(args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Runs the command ``args`` names, with ``settings`` (by default, those
    of the environment), reporting a failure as FAILURES says."""
    try:
        return int(args.run(args, load() if settings is None else settings))
    except Exception as error:
        reported = failure(error, args)
        if reported is None:
            raise
        message, code = reported
        print(message, file=sys.stderr)
        return code


def main(argv: list[str] | None = None) -> int:
    """A missing setting or credential, or AWS out of reach, is one line
    naming it, never a traceback; so are a refusal, a conflict and an
    unknown job."""
    return run(parser().parse_args(argv))
