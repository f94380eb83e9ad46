"""The one exception tree: every exception class of the project derives from
ProvisioningError and, unless private to its module, lives in
provisioning.errors; the tree its docstring draws is the tree the classes
form; and each class answers the status, code and body callers rely on."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

import provisioning
from provisioning import cli, errors
from provisioning.errors import (
    AwsFailure,
    BadPageToken,
    ConfigurationError,
    DamagedJob,
    IdempotencyConflict,
    InvalidName,
    JobConflict,
    NamesHeld,
    Problem,
    ProvisioningError,
    RequestRejected,
    StaleRecord,
    TemplateUnavailable,
    TooLarge,
    Unauthorised,
    UnknownDistribution,
    UnknownItem,
    UnknownJob,
    UnknownVersion,
    Untranslatable,
)
from provisioning.settings import Settings

# The sandbox's stand-in for the pulumi-aws plugin is a program of its own
# (it imports nothing of the product): its ProviderError only carries a gRPC
# status to the engine. __main__ runs the command line when imported.
NOT_THE_PROJECT = ("provisioning.sandbox.provider", "provisioning.__main__")
INTERNAL = "the request failed unexpectedly; see the server log"


def project_modules() -> list[Any]:
    found = []
    for module in pkgutil.walk_packages(provisioning.__path__, "provisioning."):
        if not module.name.startswith(NOT_THE_PROJECT):
            found.append(importlib.import_module(module.name))
    return found


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of the project, by its
    qualified name."""
    return {
        f"{kind.__module__}.{kind.__qualname__}": kind
        for module in project_modules()
        for _, kind in inspect.getmembers(module, inspect.isclass)
        if issubclass(kind, BaseException) and kind.__module__ == module.__name__
    }


def test_every_exception_class_of_the_project_derives_from_the_root() -> None:
    classes = exception_classes()
    assert "provisioning.errors.UnknownJob" in classes  # the walk found the modules
    assert [name for name, kind in classes.items() if not issubclass(kind, ProvisioningError)] == []


def test_only_private_helpers_are_defined_outside_the_errors_module() -> None:
    elsewhere = [
        name
        for name, kind in exception_classes().items()
        if kind.__module__ != "provisioning.errors"
    ]
    assert all(name.rpartition(".")[2].startswith("_") for name in elsewhere), elsewhere


def drawn_tree() -> dict[str, str | None]:
    """Class name -> the parent the docstring draws it under."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^(\s*(?:[│ ]\s*)*)(?:[├└]── )?([A-Z]\w+)(?=\s|$)", line)
        if not found or not ("── " in line or found.group(2) == "ProvisioningError"):
            continue
        depth, name = len(found.group(1)), found.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_docstring_draws_the_tree_the_classes_form() -> None:
    drawn = drawn_tree()
    defined = {
        name: kind
        for name, kind in vars(errors).items()
        if inspect.isclass(kind) and issubclass(kind, ProvisioningError)
    }
    assert set(drawn) == set(defined)
    assert drawn["ProvisioningError"] is None
    for name, parent in drawn.items():
        if parent is not None:
            bases = [
                base for base in defined[name].__bases__ if issubclass(base, ProvisioningError)
            ]
            assert bases == [defined[parent]], name


def test_what_other_code_catches_them_as_still_holds() -> None:
    assert issubclass(UnknownJob, LookupError) and issubclass(UnknownItem, LookupError)
    assert issubclass(BadPageToken, ValueError) and issubclass(InvalidName, ValueError)
    assert issubclass(UnknownDistribution, TemplateUnavailable)
    assert issubclass(UnknownVersion, TemplateUnavailable)


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            RequestRejected([Problem("cnameList[0]", "is required"), Problem("", "and this")]),
            400,
            {
                "error": "invalid_request",
                "message": "the request was refused",
                "errors": [
                    {"location": "cnameList[0]", "message": "is required"},
                    {"location": "", "message": "and this"},
                ],
            },
        ),
        (
            BadPageToken("not-a-token"),
            400,
            {"error": "invalid_request", "message": "next is not a token this service handed out"},
        ),
        (
            InvalidName("is not a valid internationalised name (empty label)"),
            400,
            {
                "error": "invalid_request",
                "message": "a name is not a valid internationalised name (empty label)",
            },
        ),
        (TooLarge(10), 413, {"error": "too_large", "message": "the body exceeds 10 bytes"}),
        (
            Unauthorised(),
            401,
            {"error": "unauthorized", "message": "a valid x-api-key header is required"},
        ),
        (UnknownJob("job-1"), 404, {"error": "not_found", "message": "no job has this jobId"}),
        (
            UnknownItem("pemList[7]", "job-1"),
            404,
            {"error": "not_found", "message": "the job has no item with this key"},
        ),
        (
            JobConflict("nothing of the job has failed"),
            409,
            {"error": "conflict", "message": "nothing of the job has failed"},
        ),
        (
            IdempotencyConflict(),
            409,
            {
                "error": "idempotency_conflict",
                "message": "this Idempotency-Key was used for another request (a different "
                "body) within the last 24 hours; use a new key for a new request",
            },
        ),
        (
            NamesHeld({"a.example.com": "job-2"}),
            409,
            {"error": "conflict", "message": "a.example.com is held by job job-2"},
        ),
        (
            StaleRecord("job-1"),
            409,
            {"error": "conflict", "message": "the job changed while this was done; try again"},
        ),
        (
            AwsFailure("acm", "ImportCertificate", "throttled past the retries", True),
            503,
            {
                "error": "aws_unavailable",
                "message": "acm ImportCertificate failed: throttled past the retries",
                "service": "acm",
                "operation": "ImportCertificate",
            },
        ),
        (DamagedJob("job-1", "record", "/srv/state/x: EIO"), 500, None),
        (ConfigurationError("SSL_SAAS_API_KEY is not set"), 500, None),
        (UnknownDistribution("E0SECRET"), 500, None),
        (Untranslatable("DistributionConfig.X"), 500, None),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_each_class_knows_its_status_code_and_public_body(
    error: ProvisioningError, status: int, body: dict[str, Any] | None
) -> None:
    """A body of None: the 500 that never quotes the error."""
    assert error.status == status
    expected = body or {"error": "internal", "message": INTERNAL}
    assert error.body() == expected
    assert error.code == expected["error"]
    if body is None:
        assert str(error) not in str(error.body())


def test_constructors_and_messages_are_as_before() -> None:
    assert str(UnknownJob("job-1")) == "job-1"
    assert str(UnknownItem("pemList[0]")) == "pemList[0]"
    assert str(DamagedJob("j", "record", "why")) == "job j: its record can't be read (why)"
    assert str(UnknownVersion("E1", 3, [1, 2])) == (
        "distribution E1 has no saved configuration version 3; saved versions: 1, 2"
    )
    assert str(UnknownDistribution("E1")) == "CloudFront distribution 'E1' does not exist"
    assert str(AwsFailure("s3", "GetObject", "gone", False)) == "s3 GetObject failed: gone"


# -- the command line's one table ------------------------------------------------------


def failing(error: BaseException) -> Any:
    def command(*_: object) -> int:
        raise error

    return command


@pytest.mark.parametrize(
    ("argv", "error", "printed", "code"),
    [
        (
            ["submit", "r.json"],
            RequestRejected([Problem("cnameList", "is required"), Problem("", "not JSON")]),
            "refused: cnameList: is required\nrefused: not JSON",
            2,
        ),
        (
            ["retry", "job-1"],
            JobConflict("nothing of the job has failed"),
            "refused: nothing of the job has failed",
            2,
        ),
        (
            ["submit", "r.json", "--idempotency-key", "k"],
            IdempotencyConflict(),
            "refused: this Idempotency-Key was used for another request (a different body) "
            "within the last 24 hours; use a new key for a new request",
            2,
        ),
        (["status", "job-1"], UnknownJob("job-1"), "no job job-1", 1),
        (["destroy", "job-1"], UnknownJob("job-1"), "no job job-1", 1),
        (["submit", "r.json", "--wait"], UnknownJob("job-9"), "no job job-9", 1),
        (
            ["renew", "job-1", "pemList[0]", "c.json"],
            UnknownJob("job-1"),
            "no job job-1 with an item pemList[0]",
            1,
        ),
        (
            ["renew", "job-1", "pemList[7]", "c.json"],
            UnknownItem("pemList[7]", "job-1"),
            "no job job-1 with an item pemList[7]",
            1,
        ),
        (
            ["list"],
            ConfigurationError("SSL_SAAS_API_KEY is not set"),
            "error: SSL_SAAS_API_KEY is not set",
            2,
        ),
        (
            ["list"],
            NoCredentialsError(),
            "error: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_PROFILE",
            2,
        ),
        (
            ["list"],
            EndpointConnectionError(endpoint_url="http://aws.invalid"),
            'error: AWS could not be reached: Could not connect to the endpoint URL: "http://aws.invalid"',
            2,
        ),
        (
            ["versions", "save", "E0MISSING"],
            ClientError(
                {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                "GetDistributionConfig",
            ),
            "error: aws GetDistributionConfig failed: AccessDenied",
            2,
        ),
        (
            ["list"],
            AwsFailure("dynamodb", "Query", "throttled (Throttling) past the retries", True),
            "error: dynamodb Query failed: throttled (Throttling) past the retries",
            2,
        ),
        (
            ["versions", "save", "E0MISSING"],
            UnknownDistribution("E0MISSING"),
            f"error: {UnknownDistribution('E0MISSING')}",
            2,
        ),
        (["status", "j"], DamagedJob("j", "x", "y"), f"error: {DamagedJob('j', 'x', 'y')}", 2),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_the_command_line_maps_each_error_in_one_table(
    argv: list[str],
    error: BaseException,
    printed: str,
    code: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = cli.parser().parse_args(argv)
    args.run = failing(error)
    assert cli.run(args, cast(Settings, object())) == code
    assert capsys.readouterr() == ("", printed + "\n")


@pytest.mark.parametrize("error", [RuntimeError("a bug"), KeyError("items")])
def test_an_error_the_table_does_not_name_is_not_hidden(error: BaseException) -> None:
    args = cli.parser().parse_args(["versions", "save", "E0MISSING"])
    args.run = failing(error)
    with pytest.raises(type(error)):
        cli.run(args, cast(Settings, object()))


def test_the_table_is_applied_to_loading_the_settings_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def load() -> Settings:
        raise ConfigurationError("SSL_SAAS_JOB_STORE: not a store")

    monkeypatch.setattr(cli, "load", load)
    assert cli.main(["list"]) == 2
    assert capsys.readouterr().err == "error: SSL_SAAS_JOB_STORE: not a store\n"
