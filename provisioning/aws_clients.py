"""boto3 clients shared by every thread of a process, and AWS failures named.

boto3's default session is not thread-safe to create clients from, and the
HTTP shim, its watcher and its thread pool all need AWS at once; clients
themselves are. Each client uses botocore's adaptive retry mode, which backs
off and rate-limits on throttling, and bounded timeouts, so no call waits on
AWS for more than about half a minute: an unreachable AWS is reported, not
waited out.

The clients are an ``AwsClients`` made once per process (``Service.start``)
and passed to whatever calls AWS; ``failure`` and ``named`` are plain
functions, reading which call the thread had under way.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as AwsConnectionError

from provisioning.errors import AwsFailure
from provisioning.settings import CERTIFICATE_REGION

CONNECT_TIMEOUT = 3  # seconds to reach an endpoint
READ_TIMEOUT = 7  # seconds to wait for an answer to arrive
ATTEMPTS = 3  # the first try and two retries: at most 3 x (3 + 7) s plus 3 s of backoff
CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    retries={"mode": "adaptive", "total_max_attempts": ATTEMPTS},
)
# Error codes AWS answers when it rate-limits a caller.
THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
_creating = threading.Lock()
_calls = threading.local()
T = TypeVar("T")


class AwsClients:
    """The process's boto3 clients, made once per process (``Service.start``)
    and handed to whatever calls AWS, so a test hands in stand-ins instead.
    A client is made on first use and kept, one per service, region and
    endpoint; each names the call under way for ``failure``."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str | None, str | None], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        # The endpoint is part of the key so a changed AWS_ENDPOINT_URL (the
        # sandbox, tests) never meets a client made for another one.
        key = (service, region, os.environ.get("AWS_ENDPOINT_URL"))
        found = self._made.get(key)
        if found is None:
            with _creating:
                found = self._made.get(key)
                if found is None:
                    found = self._made[key] = _made(service, region)
        return found

    def acm(self) -> Any:
        """ACM where CloudFront reads certificates (us-east-1)."""
        return self.client("acm", CERTIFICATE_REGION)

    def cloudfront(self) -> Any:
        """CloudFront throttles control-plane calls hard; botocore's adaptive
        mode backs off and rate-limits the client instead of failing the job."""
        return self.client("cloudfront")


def _made(service: str, region: str | None) -> Any:
    made = boto3.session.Session().client(service, region_name=region, config=CONFIG)
    made.meta.events.register("before-parameter-build", functools.partial(_calling, service))
    return made


def _calling(service: str, model: Any, **_: Any) -> None:
    """Remembers, per thread, the call under way: a connection error doesn't
    say which call it broke, and a calling thread makes one call at a time."""
    _calls.current = (service, model.name)


def failure(error: BaseException) -> AwsFailure | None:
    """``error`` as a named AWS failure; None when it is not one. Asked in
    the thread that made the call, right after it failed."""
    if isinstance(error, AwsFailure):
        return error
    service, operation = getattr(_calls, "current", ("aws", "call"))
    if isinstance(error, ClientError):
        if error.operation_name != operation:
            service, operation = "aws", error.operation_name
        code = str(error.response.get("Error", {}).get("Code") or "")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        said = code or f"HTTP {status}"
        if code in THROTTLING or status == 429:
            return AwsFailure(service, operation, f"throttled ({said}) past the retries", True)
        if status >= 500:
            return AwsFailure(service, operation, f"AWS error ({said}) past the retries", True)
        return AwsFailure(service, operation, said, False)
    if isinstance(error, ConnectTimeoutError):
        return AwsFailure(service, operation, "no connection within the time allowed", True)
    if isinstance(error, ReadTimeoutError):
        return AwsFailure(service, operation, "no answer within the time allowed", True)
    if isinstance(error, EndpointConnectionError):
        return AwsFailure(service, operation, "the endpoint could not be reached", True)
    if isinstance(error, (AwsConnectionError, HTTPClientError)):
        return AwsFailure(service, operation, "the connection failed", True)
    return None


def named(call: Callable[..., T], *args: Any) -> T:
    """Runs ``call``; AWS out of reach or throttling past the retries comes
    out as a transient AwsFailure, named while this thread still knows which
    call failed."""
    try:
        return call(*args)
    except Exception as error:
        found = failure(error)
        if found is None or not found.transient:
            raise
        raise found from None


# Every key type ACM has: without them, ListCertificates lists RSA 2048
# certificates only.
CERTIFICATE_KEY_TYPES = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
]


def list_certificates(acm: Any) -> Iterator[dict[str, Any]]:
    """Every certificate summary ACM holds in the client's region, all pages."""
    pages = acm.get_paginator("list_certificates").paginate(
        Includes={"keyTypes": CERTIFICATE_KEY_TYPES}
    )
    for page in pages:
        yield from page["CertificateSummaryList"]
