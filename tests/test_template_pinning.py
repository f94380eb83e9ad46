"""Everything that can refuse a job before anything is created: templates
that don't exist, versions that were never saved, templates that can't be
cloned, a bad TLS policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioning.errors import ConfigurationError, RequestRejected
from provisioning.request.validation import validate
from provisioning.settings import Settings, load
from provisioning.templates.pinning import resolve_templates
from provisioning.templates.versions import open_store
from tests.clients import PROCESS

ORIGIN = {
    "Id": "app",
    "DomainName": "app.example.org",
    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
}


def template(**changes: Any) -> str:
    config = {
        "CallerReference": "t",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [ORIGIN]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
        **changes,
    }
    made = boto3.client("cloudfront").create_distribution(DistributionConfig=config)
    return str(made["Distribution"]["Id"])


def request(*templates: dict[str, Any]) -> Any:
    return validate(
        {
            "acm_op": "create",
            "auto_creation": "true",
            "cnameList": [
                {"domainName": f"n{i}.example.com", "existing_cf_info": source}
                for i, source in enumerate(templates)
            ],
        }
    )


def problems(valid: Any, store_dir: Path) -> dict[str, str]:
    with pytest.raises(RequestRejected) as caught:
        resolve_templates(valid, open_store(str(store_dir), PROCESS), PROCESS.cloudfront())
    return {p.location: p.message for p in caught.value.problems}


def test_items_sharing_a_template_share_one_saved_version(aws: str, tmp_path: Path) -> None:
    dist = template()
    valid = request({"distribution_id": dist}, {"distribution_id": dist})
    templates = resolve_templates(valid, open_store(str(tmp_path), PROCESS), PROCESS.cloudfront())
    assert templates["cnameList[0]"] is templates["cnameList[1]"]
    assert templates["cnameList[0]"].version == 1
    assert templates["cnameList[0]"].config["Origins"]["Items"][0]["Id"] == "app"


def test_unknown_template_and_unknown_version_are_refused(aws: str, tmp_path: Path) -> None:
    dist = template()
    found = problems(
        request(
            {"distribution_id": "EXXXXXXXXXXXX"}, {"distribution_id": dist, "config_version_id": 7}
        ),
        tmp_path,
    )
    assert "'EXXXXXXXXXXXX' does not exist" in found["cnameList[0].existing_cf_info"]
    assert "no saved configuration version 7" in found["cnameList[1].existing_cf_info"]


def test_staging_template_is_refused(aws: str, tmp_path: Path) -> None:
    found = problems(request({"distribution_id": template(Staging=True)}), tmp_path)
    assert "staging distribution" in found["cnameList[0].existing_cf_info"]


def test_without_auto_creation_no_template_is_touched(aws: str, tmp_path: Path) -> None:
    valid = validate(
        {
            "acm_op": "create",
            "auto_creation": "false",
            "cnameList": [
                {
                    "domainName": "a.example.com",
                    "existing_cf_info": {"distribution_id": "EXXXXXXXXXXXX"},
                }
            ],
        }
    )
    assert resolve_templates(valid, open_store(str(tmp_path), PROCESS), PROCESS.cloudfront()) == {}


def test_minimum_protocol_version_must_be_a_cloudfront_policy() -> None:
    assert Settings().minimum_protocol_version == "TLSv1.2_2021"
    assert load(minimum_protocol_version="TLSv1.2_2025").minimum_protocol_version == "TLSv1.2_2025"
    with pytest.raises(
        ConfigurationError, match=r"SSL_SAAS_MINIMUM_PROTOCOL_VERSION: .*allowed: SSLv3, TLSv1,"
    ):
        load(minimum_protocol_version="TLS1.2")


def test_a_refused_request_saves_no_version(aws: str, tmp_path: Path) -> None:
    store = open_store(str(tmp_path), PROCESS)
    good = template()
    with pytest.raises(RequestRejected):
        resolve_templates(
            request({"distribution_id": good}, {"distribution_id": "EXXXXXXXXXXXX"}),
            store,
            PROCESS.cloudfront(),
        )
    assert store.versions(good) == []


def test_a_preview_saves_no_version(aws: str, tmp_path: Path) -> None:
    store = open_store(str(tmp_path), PROCESS)
    good = template()
    templates = resolve_templates(
        request({"distribution_id": good}), store, PROCESS.cloudfront(), save=False
    )
    assert templates["cnameList[0]"].version == 0
    assert store.versions(good) == []
