"""Provider configuration (per provider instance) and the AWS side shared by
every resource type: clients, retries, tags."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from provisioning.sandbox.provider.properties import UNKNOWN, Props, has_unknown

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    region: str
    default_tags: dict[str, str]


def settings_from(config: Props) -> Settings:
    """pulumi-aws falls back to the standard environment variables for the region."""
    region = (
        config.get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )
    default_tags = config.get("defaultTags") or {}
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags)
    return Settings(region=region, default_tags=dict(default_tags.get("tags") or {}))


_clients = threading.local()


def client(service: str, region: str) -> Any:
    """One client per thread and region: boto3 sessions aren't thread-safe.
    The endpoint comes from AWS_ENDPOINT_URL, which boto3 reads itself."""
    cache: dict[tuple[str, str], Any] = _clients.__dict__.setdefault("cache", {})
    if (service, region) not in cache:
        cache[service, region] = boto3.session.Session().client(
            service, region_name=region, config=Config(retries={"mode": "standard"})
        )
    return cache[service, region]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def retrying(codes: set[str], timeout: float, call: Callable[[], T], pause: float = 5.0) -> T:
    """Retries the AWS errors Terraform treats as eventual consistency."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as error:
            if error_code(error) not in codes or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)


def _tags(value: Any) -> dict[str, str]:
    return dict(value) if isinstance(value, dict) else {}


def all_tags(inputs: Props, settings: Settings) -> dict[str, str] | str:
    """tags_all as Terraform's plan computes it; unknown while tags are."""
    if has_unknown(inputs.get("tags")):
        return UNKNOWN
    return {**settings.default_tags, **_tags(inputs.get("tags"))}


def own_tags(live: dict[str, str], settings: Settings) -> dict[str, str]:
    return {k: v for k, v in live.items() if settings.default_tags.get(k) != v}


def rfc3339(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
