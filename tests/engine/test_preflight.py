"""Pre-flight in the sandbox: what AWS would refuse after the customer added
DNS records is refused at submission, item by item, with nothing made."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from provisioning.actions import job_calls
from provisioning.errors import RequestRejected
from provisioning.sandbox import aws_gaps
from provisioning.service import Service
from provisioning.settings import Settings
from tests.engine.jobs_helpers import REQUESTS, aws

pytestmark = pytest.mark.engine


def serving(alias: str) -> str:
    """A distribution of the account, made outside the service, serving
    ``alias``: a copy of the template."""
    cloudfront = aws("cloudfront")
    template = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    config = cloudfront.get_distribution_config(Id=template["Id"])["DistributionConfig"]
    config |= {"CallerReference": uuid.uuid4().hex, "Aliases": {"Quantity": 1, "Items": [alias]}}
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def nothing_made(service: Service, settings: Settings, versions_before: int) -> None:
    assert service.store.page(10, None)[0] == []
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
    assert versions(settings) == versions_before


def versions(settings: Settings) -> int:
    return sum(1 for _ in Path(settings.config_store_url).rglob("*") if _.is_file())


def refusal(service: Service, body: bytes) -> dict[str, str]:
    with pytest.raises(RequestRejected) as refused:
        job_calls.submit(service, body, lambda _: None)
    with pytest.raises(RequestRejected) as previewed:
        job_calls.preview(service, body)
    found = {p.location: p.message for p in refused.value.problems}
    assert found == {p.location: p.message for p in previewed.value.problems}
    return found


def test_a_name_already_on_a_distribution_is_refused_at_its_item(
    settings: Settings, service: Service
) -> None:
    before = versions(settings)
    other = serving("yourdomainname2alias1.com")
    body = (REQUESTS / "create-two.json").read_bytes()
    found = refusal(service, body)
    assert list(found) == ["cnameList[1]"]
    assert "yourdomainname2alias1.com" in found["cnameList[1]"] and other in found["cnameList[1]"]
    nothing_made(service, settings, before)


def test_a_request_past_the_distribution_quota_is_refused(
    settings: Settings, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = versions(settings)
    existing = len(aws("cloudfront").list_distributions()["DistributionList"]["Items"])
    monkeypatch.setitem(aws_gaps.APPLIED, ("cloudfront", "L-24B04930"), float(existing + 1))
    found = refusal(service, (REQUESTS / "create-two.json").read_bytes())
    assert list(found) == ["cnameList[1]"]
    assert "CloudFront distributions" in found["cnameList[1]"]
    assert f"has {existing} of its quota of {existing + 1}" in found["cnameList[1]"]
    nothing_made(service, settings, before)


def test_an_import_past_the_certificate_quota_is_refused(
    settings: Settings, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = versions(settings)
    monkeypatch.setitem(aws_gaps.APPLIED, ("acm", "L-F141DD1D"), 0.0)
    found = refusal(service, (REQUESTS / "import-one-working.json").read_bytes())
    assert list(found) == ["pemList[0]"]
    assert "ACM certificates" in found["pemList[0]"]
    nothing_made(service, settings, before)


def test_within_the_quotas_and_free_names_a_job_is_made(
    settings: Settings, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving("unrelated.example.org")
    existing = len(aws("cloudfront").list_distributions()["DistributionList"]["Items"])
    monkeypatch.setitem(aws_gaps.APPLIED, ("cloudfront", "L-24B04930"), float(existing + 2))
    job_id = job_calls.submit(service, (REQUESTS / "create-two.json").read_bytes(), lambda _: None)
    assert service.store.get(job_id) is not None
