"""boto3 clients shared by every thread of a process.

boto3's default session is not thread-safe to create clients from, and the
HTTP shim, its watcher and its thread pool all need AWS at once; clients
themselves are. Each client uses botocore's adaptive retry mode, which backs
off and rate-limits on throttling instead of failing a job.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import boto3
from botocore.config import Config

RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10})
# CloudFront only takes certificates from this region, whatever the stack's.
CERTIFICATE_REGION = "us-east-1"
_creating = threading.Lock()


def client(service: str, region: str | None = None) -> Any:
    # The endpoint is part of the key so a changed AWS_ENDPOINT_URL (the
    # sandbox, tests) never meets a client made for another one.
    return _client(service, region, os.environ.get("AWS_ENDPOINT_URL"))


@functools.cache
def _client(service: str, region: str | None, endpoint: str | None) -> Any:
    with _creating:
        return boto3.session.Session().client(service, region_name=region, config=RETRIES)


def acm() -> Any:
    return client("acm", CERTIFICATE_REGION)
