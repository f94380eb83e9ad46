"""``python -m provisioning``: the command line front of the product."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from provisioning.errors import Problem, RequestRejected
from provisioning.validation import validate_text

EXIT_REFUSED = 2


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise RequestRejected([Problem("", f"can't read the file: {error.strerror}")]) from None


def validate_command(args: argparse.Namespace) -> int:
    """Checks each file independently so one bad file doesn't hide another's result."""
    refused: list[dict[str, str]] = []
    accepted: dict[str, object] = {}
    for path in args.files:
        try:
            valid = validate_text(read_file(path))
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m provisioning", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check request files; print each normalised, or every error (exit 2)"
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--json", action="store_true", help="machine-readable output")
    validate.set_defaults(run=validate_command)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))
