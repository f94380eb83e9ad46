"""Configurations of template distributions, fetched from CloudFront
and kept as numbered versions, so every clone can name exactly which
configuration it was made from and a job can be repeated against that same
configuration after the template has changed.

Versions of a distribution are numbered 1, 2, ... in saving order. Saving a
configuration equal to the latest version returns that version instead of
adding a duplicate. Two processes may save at once: each version is created
exclusively (a hard link onto the version's name locally, a conditional put
with ``IfNoneMatch="*"`` on S3), and the loser re-reads the latest version
and tries the next number, so no save is lost and none is overwritten.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from provisioning.aws_clients import AwsClients
from provisioning.errors import TemplateUnavailable, UnknownDistribution, UnknownVersion

# CloudFront ids are upper-case letters and digits; anything else must not
# become part of a file name or an object key.
_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{1,64}$")


@dataclass(frozen=True)
class SavedVersion:
    version: int
    saved_at: str


class TemplateStore(Protocol):
    def save(self, distribution_id: str, config: Mapping[str, Any]) -> int:
        """Stores ``config`` as the next version unless it equals the latest;
        returns the version it is stored as."""
        ...

    def load(self, distribution_id: str, version: int) -> dict[str, Any]: ...

    def versions(self, distribution_id: str) -> list[SavedVersion]:
        """Oldest first."""
        ...


def fetch(client: BaseClient, distribution_id: str) -> dict[str, Any]:
    try:
        response = client.get_distribution_config(Id=distribution_id)
    except client.exceptions.NoSuchDistribution as error:
        raise UnknownDistribution(distribution_id) from error
    return dict(response["DistributionConfig"])


def list_versions(store: TemplateStore, distribution_id: str) -> list[dict[str, Any]]:
    return [asdict(saved) for saved in store.versions(distribution_id)]


def save_current(store: TemplateStore, client: BaseClient, distribution_id: str) -> dict[str, Any]:
    version = store.save(distribution_id, fetch(client, distribution_id))
    saved = next(s for s in store.versions(distribution_id) if s.version == version)
    return asdict(saved)


def open_store(url: str, aws: AwsClients) -> TemplateStore:
    """``s3://bucket/prefix`` for a store shared between machines (reached
    with ``aws``), anything else is a local directory."""
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise TemplateUnavailable(f"store URL {url!r} names no bucket")
        return S3Store(aws.client("s3"), bucket, prefix)
    return LocalStore(Path(url.removeprefix("file://")))


class LocalStore:
    """One directory per distribution, one JSON file per version."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, distribution_id: str, config: Mapping[str, Any]) -> int:
        directory = self.root / _checked(distribution_id)
        directory.mkdir(parents=True, exist_ok=True)
        while True:
            existing = self._numbers(directory)
            latest = existing[-1] if existing else 0
            if latest and _same(self.load(distribution_id, latest), config):
                return latest
            if self._create(directory, latest + 1, _record(latest + 1, config)):
                return latest + 1

    def load(self, distribution_id: str, version: int) -> dict[str, Any]:
        directory = self.root / _checked(distribution_id)
        try:
            text = (directory / f"{version}.json").read_text()
        except FileNotFoundError:
            raise UnknownVersion(distribution_id, version, self._numbers(directory)) from None
        return dict(json.loads(text)["config"])

    def versions(self, distribution_id: str) -> list[SavedVersion]:
        directory = self.root / _checked(distribution_id)
        return [
            _saved(json.loads((directory / f"{n}.json").read_text()))
            for n in self._numbers(directory)
        ]

    @staticmethod
    def _numbers(directory: Path) -> list[int]:
        if not directory.is_dir():
            return []
        return sorted(int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit())

    @staticmethod
    def _create(directory: Path, version: int, record: str) -> bool:
        """Creates the version file complete or not at all: written aside, then
        linked onto its name, which fails if another process took the number
        (the same exclusivity as O_EXCL, without readers seeing a half-written
        file)."""
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".saving-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(record)
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, directory / f"{version}.json")
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)
        return True


class S3Store:
    """Objects ``<prefix>/<distribution id>/<version>.json`` in one bucket."""

    def __init__(self, client: BaseClient, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def save(self, distribution_id: str, config: Mapping[str, Any]) -> int:
        while True:
            existing = self._numbers(distribution_id)
            latest = existing[-1] if existing else 0
            if latest and _same(self.load(distribution_id, latest), config):
                return latest
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(distribution_id, latest + 1),
                    Body=_record(latest + 1, config).encode(),
                    ContentType="application/json",
                    IfNoneMatch="*",
                )
            except ClientError as error:
                if _error_code(error) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise
                continue
            return latest + 1

    def load(self, distribution_id: str, version: int) -> dict[str, Any]:
        return dict(self._record(distribution_id, version)["config"])

    def versions(self, distribution_id: str) -> list[SavedVersion]:
        return [_saved(self._record(distribution_id, n)) for n in self._numbers(distribution_id)]

    def _record(self, distribution_id: str, version: int) -> dict[str, Any]:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(distribution_id, version)
            )
        except ClientError as error:
            if _error_code(error) != "NoSuchKey":
                raise
            raise UnknownVersion(distribution_id, version, self._numbers(distribution_id)) from None
        return dict(json.loads(response["Body"].read()))

    def _numbers(self, distribution_id: str) -> list[int]:
        folder = self._folder(distribution_id)
        numbers = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=folder
        ):
            for item in page.get("Contents", []):
                stem = item["Key"].removeprefix(folder).removesuffix(".json")
                if stem.isdigit():
                    numbers.append(int(stem))
        return sorted(numbers)

    def _folder(self, distribution_id: str) -> str:
        checked = _checked(distribution_id)
        return f"{self.prefix}/{checked}/" if self.prefix else f"{checked}/"

    def _key(self, distribution_id: str, version: int) -> str:
        return f"{self._folder(distribution_id)}{version}.json"


def _checked(distribution_id: str) -> str:
    if not _DISTRIBUTION_ID.match(distribution_id):
        raise TemplateUnavailable(f"{distribution_id!r} is not a CloudFront distribution id")
    return distribution_id


def _canonical(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def _same(saved: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    return _canonical(saved) == _canonical(config)


def _record(version: int, config: Mapping[str, Any]) -> str:
    saved_at = datetime.now(UTC).isoformat(timespec="seconds")
    return json.dumps(
        {"version": version, "saved_at": saved_at, "config": config}, indent=2, sort_keys=True
    )


def _saved(record: Mapping[str, Any]) -> SavedVersion:
    return SavedVersion(version=record["version"], saved_at=record["saved_at"])


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
