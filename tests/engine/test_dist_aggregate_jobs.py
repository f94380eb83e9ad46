"""dist_aggregate through the real engine: items under a wildcard requested
earlier in the same job are served by that one certificate."""

from __future__ import annotations

import json

import pytest

from provisioning.actions import job_calls
from provisioning.sandbox.session import EXAMPLE_TEMPLATE_IDS
from provisioning.service import Service
from provisioning.worker.supervisor import Supervisor
from tests.engine.jobs_helpers import TEMPLATE, aws, drive

pytestmark = pytest.mark.engine


def test_a_wildcard_request_with_dist_aggregate_makes_one_certificate(service: Service) -> None:
    names = ["*.shop.example.com", "a.shop.example.com", "b.shop.example.com"]
    request = {
        "acm_op": "create",
        "auto_creation": "true",
        "dist_aggregate": "true",
        "cnameList": [
            {"domainName": name, "existing_cf_info": {"distribution_id": TEMPLATE}}
            for name in names
        ],
    }
    supervisor = Supervisor(service)
    job_id = job_calls.submit(service, json.dumps(request).encode(), supervisor.launch)
    job = drive(job_id, supervisor, "SUCCESS")

    certificates = aws("acm").list_certificates()["CertificateSummaryList"]
    assert len(certificates) == 1
    arn = certificates[0]["CertificateArn"]
    assert job["certList"] == [arn]
    assert job["cert_total_number"] == job["cert_completed_number"] == 1
    assert job["cloudfront_distribution_created_number"] == 3
    assert [i["certificateArn"] for i in job["items"]] == [arn] * 3
    assert [i.get("certificateFrom") for i in job["items"]] == [
        None,
        "cnameList[0]",
        "cnameList[0]",
    ]
    for item, name in zip(job["items"], names, strict=True):
        config = aws("cloudfront").get_distribution_config(Id=item["distributionId"])
        assert config["DistributionConfig"]["Aliases"]["Items"] == [name]
        assert config["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"] == arn
    listed = aws("cloudfront").list_distributions()["DistributionList"]["Items"]
    made = {d["Id"] for d in listed} - set(EXAMPLE_TEMPLATE_IDS)
    assert made == {i["distributionId"] for i in job["items"]} and len(made) == 3
