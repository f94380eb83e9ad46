"""Fetching template configurations from CloudFront (moto) and keeping them as
numbered versions, locally and in S3, including saves racing each other."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioning.errors import TemplateUnavailable, UnknownDistribution, UnknownVersion
from provisioning.templates.versions import (
    LocalStore,
    S3Store,
    TemplateStore,
    fetch,
    list_versions,
    open_store,
    save_current,
)
from tests.clients import PROCESS, StandIn

DISTRIBUTION = "E2TEMPLATE"


def distribution_config(comment: str) -> dict[str, Any]:
    return {
        "CallerReference": "template",
        "Comment": comment,
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "web",
                    "DomainName": "web.example.net",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "web",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TemplateStore:
    if request.param == "local":
        return open_store(str(tmp_path / "versions"), StandIn({}))
    request.getfixturevalue("aws")
    boto3.client("s3").create_bucket(Bucket="config-versions")
    return open_store("s3://config-versions/team/versions", PROCESS)


@pytest.fixture
def template(aws: str) -> str:
    """A live distribution in moto, returned by id."""
    created = PROCESS.cloudfront().create_distribution(
        DistributionConfig=distribution_config("first")
    )
    return str(created["Distribution"]["Id"])


def update_comment(distribution_id: str, comment: str) -> None:
    client = PROCESS.cloudfront()
    current = client.get_distribution_config(Id=distribution_id)
    config = current["DistributionConfig"]
    config["Comment"] = comment
    client.update_distribution(
        Id=distribution_id, IfMatch=current["ETag"], DistributionConfig=config
    )


def test_fetch_returns_the_distribution_config(template: str) -> None:
    config = fetch(PROCESS.cloudfront(), template)

    assert config["Comment"] == "first"
    assert config["Origins"]["Items"][0]["DomainName"] == "web.example.net"
    assert "ETag" not in config


def test_fetch_of_unknown_distribution_names_it(aws: str) -> None:
    with pytest.raises(UnknownDistribution, match="E0MISSING") as raised:
        fetch(PROCESS.cloudfront(), "E0MISSING")

    assert isinstance(raised.value, TemplateUnavailable)


def test_versions_are_numbered_and_the_latest_is_not_duplicated(store: TemplateStore) -> None:
    first, second = distribution_config("first"), distribution_config("second")

    numbers = [store.save(DISTRIBUTION, c) for c in (first, first, second, second, first)]

    assert numbers == [1, 1, 2, 2, 3]
    assert [v.version for v in store.versions(DISTRIBUTION)] == [1, 2, 3]
    assert store.load(DISTRIBUTION, 1) == first
    assert store.load(DISTRIBUTION, 2) == second
    assert store.versions("E2OTHER") == []
    for saved in store.versions(DISTRIBUTION):
        assert datetime.fromisoformat(saved.saved_at).tzinfo is not None


def test_unknown_version_names_distribution_version_and_saved_ones(store: TemplateStore) -> None:
    store.save(DISTRIBUTION, distribution_config("first"))
    store.save(DISTRIBUTION, distribution_config("second"))

    with pytest.raises(UnknownVersion) as raised:
        store.load(DISTRIBUTION, 7)
    with pytest.raises(UnknownVersion) as unsaved:
        store.load("E2OTHER", 1)

    assert str(raised.value) == (
        f"distribution {DISTRIBUTION} has no saved configuration version 7; saved versions: 1, 2"
    )
    assert str(unsaved.value) == (
        "distribution E2OTHER has no saved configuration version 1; saved versions: none"
    )


def test_command_line_helpers_return_plain_data(store: TemplateStore, template: str) -> None:
    client = PROCESS.cloudfront()

    saved = save_current(store, client, template)
    saved_again = save_current(store, client, template)
    update_comment(template, "second")
    newer = save_current(store, client, template)

    assert saved == saved_again
    assert (saved["version"], newer["version"]) == (1, 2)
    assert list_versions(store, template) == [saved, newer]
    assert set(saved) == {"version", "saved_at"}


class RivalFirst(dict[str, Any]):
    """A configuration that lets a rival save first when the store first
    writes it out: the record written holds its version number, so by then
    the store has listed the versions and chosen that number."""

    def __init__(self, config: dict[str, Any], store: TemplateStore) -> None:
        super().__init__(config)
        self.store = store
        self.rival_saved: int | None = None
        self.reads = 0

    def items(self) -> Any:
        self.reads += 1
        if self.rival_saved is None:
            self.rival_saved = self.store.save(DISTRIBUTION, distribution_config("rival"))
        return super().items()


def test_a_save_that_loses_the_race_takes_the_next_number(store: TemplateStore) -> None:
    """A rival writer saves between this save's listing and its creating:
    the store found no version, so it tries version 1, which now exists."""
    mine = RivalFirst(distribution_config("mine"), store)

    assert store.save(DISTRIBUTION, mine) == 2
    assert mine.rival_saved == 1
    assert store.load(DISTRIBUTION, 1) == distribution_config("rival")
    assert store.load(DISTRIBUTION, 2) == distribution_config("mine")
    assert mine.reads > 1  # written out again, for the next number


def test_distribution_id_cannot_escape_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "versions")

    with pytest.raises(TemplateUnavailable, match="not a CloudFront distribution id"):
        store.save("../E2TEMPLATE", distribution_config("first"))

    assert not (tmp_path / "E2TEMPLATE").exists()


def test_open_store_picks_the_implementation_by_scheme(tmp_path: Path) -> None:
    bucket = object()  # the client S3 in the default region would be
    s3 = open_store("s3://shared-bucket/config/versions/", StandIn({("s3", None): bucket}))
    local = open_store(str(tmp_path), StandIn({}))

    assert isinstance(s3, S3Store)
    assert (s3.client, s3.bucket, s3.prefix) == (bucket, "shared-bucket", "config/versions")
    assert isinstance(local, LocalStore)
    assert local.root == tmp_path
    with pytest.raises(TemplateUnavailable, match="names no bucket"):
        open_store("s3:///prefix", StandIn({}))


def _save_all(root: str, comments: list[str], start: Any, results: Any) -> None:
    store = LocalStore(Path(root))
    start.wait()
    results.put({c: store.save(DISTRIBUTION, distribution_config(c)) for c in comments})


def _save_concurrently(root: Path, *batches: list[str]) -> list[dict[str, int]]:
    """Runs one process per batch, released together, and returns what each
    process was told its saves became."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(batches))
    results = context.Queue()
    workers = [
        context.Process(target=_save_all, args=(str(root), batch, start, results))
        for batch in batches
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return outcomes


def test_two_processes_saving_at_once_do_not_collide(tmp_path: Path) -> None:
    root = tmp_path / "versions"
    first = [f"a{i}" for i in range(25)]
    second = [f"b{i}" for i in range(25)]

    outcomes = _save_concurrently(root, first, second)

    numbers = sorted(n for outcome in outcomes for n in outcome.values())
    assert numbers == list(range(1, 51))
    store = LocalStore(root)
    for outcome in outcomes:
        for comment, version in outcome.items():
            assert store.load(DISTRIBUTION, version) == distribution_config(comment)
    assert sorted(p.name for p in (root / DISTRIBUTION).iterdir()) == sorted(
        f"{n}.json" for n in numbers
    )


def test_two_processes_saving_the_same_configuration_share_one_version(tmp_path: Path) -> None:
    root = tmp_path / "versions"

    outcomes = _save_concurrently(root, ["same"], ["same"])

    assert outcomes == [{"same": 1}, {"same": 1}]
    assert [v.version for v in LocalStore(root).versions(DISTRIBUTION)] == [1]
