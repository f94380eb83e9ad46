"""The Pulumi program under pulumi's mocks: which resources a job makes, and
every input that distinguishes a clone from its template."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pytest

from provisioning.program import resources
from provisioning.program.inputs import job_inputs, private_keys
from provisioning.program.spec import JobSpec, Template
from provisioning.request.validation import validate, validate_text

REQUESTS = Path(__file__).parent.parent / "requests"
TEMPLATE: dict[str, Any] = {
    "CallerReference": "template",
    "Aliases": {"Quantity": 1, "Items": ["template.example.org"]},
    "DefaultRootObject": "index.html",
    "Origins": {
        "Quantity": 1,
        "Items": [
            {
                "Id": "app",
                "DomainName": "app.example.org",
                "OriginPath": "",
                "CustomHeaders": {"Quantity": 0},
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                    "OriginReadTimeout": 30,
                    "OriginKeepaliveTimeout": 5,
                },
                "ConnectionAttempts": 3,
                "ConnectionTimeout": 10,
            }
        ],
    },
    "DefaultCacheBehavior": {
        "TargetOriginId": "app",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": 2,
            "Items": ["GET", "HEAD"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "Compress": True,
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    },
    "Comment": "template",
    "PriceClass": "PriceClass_100",
    "Enabled": True,
    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
    "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
    "HttpVersion": "http2and3",
    "IsIPV6Enabled": True,
}
SECRET_SIG_KEY, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
ACM_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/"
CERT_TYPE = "aws:acm/certificate:Certificate"
DIST_TYPE = "aws:cloudfront/distribution:Distribution"


class Recorder(pulumi.runtime.Mocks):
    """Answers like AWS would and keeps every registration for inspection."""

    def __init__(self) -> None:
        self.registered: dict[str, pulumi.runtime.MockResourceArgs] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered[args.name] = args
        outputs = dict(args.inputs)
        if args.typ == CERT_TYPE:
            outputs["arn"] = f"{ACM_ARN}{args.name}"
            outputs["status"] = (
                "ISSUED" if "certificateBody" in args.inputs else "PENDING_VALIDATION"
            )
            outputs["domainValidationOptions"] = [
                {
                    "domainName": name,
                    "resourceRecordName": f"_x.{name.removeprefix('*.')}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_y.acm-validations.aws.",
                }
                for name in args.inputs.get("subjectAlternativeNames", [])
            ]
        if args.typ == DIST_TYPE:
            outputs |= {
                "arn": "arn:aws:cloudfront::1:distribution/EX",
                "domainName": "d1.cloudfront.net",
            }
            outputs["status"] = "InProgress"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        raise AssertionError(f"the program must make no invokes, made {args.token}")


@pytest.fixture
def mocks() -> Recorder:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, preview=False)
    return recorder


def spec(
    request: Any,
    issued: frozenset[str] = frozenset(),
    template: dict[str, Any] = TEMPLATE,
    minimum: str = "TLSv1.2_2021",
) -> JobSpec:
    valid = validate(request) if isinstance(request, dict) else request
    templates = {
        item.key: Template("E195R1W5GIVPF5", 4, template) for item in valid.items if item.template
    }
    pins = {key: source.pin for key, source in templates.items()}
    inputs = job_inputs(valid, pins, minimum, datetime.now(UTC))
    return JobSpec(
        job_id="job-1",
        inputs=inputs,
        templates=templates,
        keys=private_keys(valid),
        issued=issued,
    )


def run(job: JobSpec) -> dict[str, Any]:
    """Runs the program and resolves its outputs the way the engine would."""
    stack_outputs: dict[str, Any] = {}

    def export(name: str, value: Any) -> None:
        stack_outputs[name] = value

    original = pulumi.export
    pulumi.export = export
    try:
        resources.run(job)
    finally:
        pulumi.export = original
    return stack_outputs


CREATE = {
    "acm_op": "create",
    "auto_creation": "true",
    "cnameList": [
        {
            "domainName": "Shop.Example.com",
            "sanList": ["www.shop.example.com", "*.shop.example.com"],
            "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"},
        },
        {
            "domainName": "blog.example.net",
            "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"},
        },
    ],
}


@pulumi.runtime.test
def test_create_makes_requested_certificates_in_us_east_1_and_waits_for_issue(
    mocks: Recorder,
) -> Any:
    outputs = run(spec(CREATE))

    def check(items: list[dict[str, Any]]) -> None:
        cert = mocks.registered["certificate-shop.example.com"]
        assert cert.typ == CERT_TYPE
        assert cert.inputs["region"] == "us-east-1"
        assert cert.inputs["domainName"] == "shop.example.com"
        assert cert.inputs["subjectAlternativeNames"] == [
            "shop.example.com",
            "www.shop.example.com",
            "*.shop.example.com",
        ]
        assert cert.inputs["validationMethod"] == "DNS"
        assert cert.inputs["tags"] == {"ssl-saas:job": "job-1", "ssl-saas:item": "shop.example.com"}
        assert not any(a.typ == DIST_TYPE for a in mocks.registered.values())
        assert items[0]["certificateStatus"] == "PENDING_VALIDATION"
        assert "distributionId" not in items[0]
        names = [r["name"] for r in items[0]["validationRecords"]]
        assert names == [
            "_x.shop.example.com.",
            "_x.www.shop.example.com.",
        ]  # wildcard shares apex's

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
def test_issued_item_gets_its_distribution_and_others_do_not(mocks: Recorder) -> Any:
    outputs = run(spec(CREATE, issued=frozenset({"cnameList[1]"})))

    def check(items: list[dict[str, Any]]) -> None:
        assert "distribution-shop.example.com" not in mocks.registered
        dist = mocks.registered["distribution-blog.example.net"]
        assert dist.inputs["aliases"] == ["blog.example.net"]
        assert items[1]["distributionId"] == "distribution-blog.example.net-id"
        assert items[1]["configVersion"] == 4
        assert items[1]["sourceDistributionId"] == "E195R1W5GIVPF5"

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
def test_clone_overrides_only_names_certificate_comment_and_waiting(mocks: Recorder) -> Any:
    outputs = run(spec(CREATE, issued=frozenset({"cnameList[0]"})))

    def check(_: Any) -> None:
        dist = mocks.registered["distribution-shop.example.com"].inputs
        assert dist["aliases"] == ["shop.example.com", "www.shop.example.com", "*.shop.example.com"]
        assert dist["viewerCertificate"] == {
            "acmCertificateArn": f"{ACM_ARN}certificate-shop.example.com",
            "sslSupportMethod": "sni-only",
            "minimumProtocolVersion": "TLSv1.2_2021",
        }
        assert dist["comment"] == "ssl-saas job job-1: shop.example.com"
        assert dist["waitForDeployment"] is False
        assert dist["tags"] == {"ssl-saas:job": "job-1", "ssl-saas:item": "shop.example.com"}
        # from the template, untouched
        assert dist["defaultRootObject"] == "index.html"
        assert dist["priceClass"] == "PriceClass_100"
        assert dist["httpVersion"] == "http2and3"
        assert dist["isIpv6Enabled"] is True
        assert dist["origins"][0]["customOriginConfig"]["originProtocolPolicy"] == "https-only"
        assert (
            dist["defaultCacheBehavior"]["cachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
        )

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
def test_import_makes_certificate_and_distribution_together_with_the_key_secret(
    mocks: Recorder,
) -> Any:
    valid = validate_text((REQUESTS / "import-one-working.json").read_bytes())
    outputs = run(spec(valid))
    key = json.loads((REQUESTS / "import-one-working.json").read_text())["pemList"][0][
        "PrivateKeyPem"
    ]

    def check(items: list[dict[str, Any]]) -> None:
        cert = mocks.registered["certificate-shop.example.com"].inputs
        # reaches the engine wrapped as a secret, never as plain text
        assert cert["privateKey"] == {SECRET_SIG_KEY: SECRET_SIG, "value": key}
        assert cert["certificateBody"] == valid.items[0].imported.certificate_pem
        assert "domainName" not in cert
        dist = mocks.registered["distribution-shop.example.com"].inputs
        assert dist["aliases"] == ["shop.example.com", "www.shop.example.com"]
        assert key not in json.dumps(items)

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
async def test_private_key_is_a_secret(mocks: Recorder) -> None:
    job = spec(validate_text((REQUESTS / "import-one-working.json").read_bytes()))
    cert = resources.certificate(job, job.inputs.items[0])
    assert await cert.private_key.is_secret()
    assert not await cert.certificate_body.is_secret()


@pulumi.runtime.test
def test_without_auto_creation_only_certificates(mocks: Recorder) -> Any:
    request = {**CREATE, "auto_creation": "false"}
    outputs = run(spec(request, issued=frozenset({"cnameList[0]", "cnameList[1]"})))

    def check(items: list[dict[str, Any]]) -> None:
        assert {a.typ for a in mocks.registered.values()} == {CERT_TYPE}
        assert all("distributionId" not in item for item in items)

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
def test_clone_keeps_a_stronger_template_tls_policy_but_not_its_deployment_policy(
    mocks: Recorder,
) -> Any:
    template = {
        **TEMPLATE,
        "ViewerCertificate": {
            "ACMCertificateArn": f"{ACM_ARN}template",
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2025",
        },
        "ContinuousDeploymentPolicyId": "cdp-1",
    }
    outputs = run(spec(CREATE, issued=frozenset({"cnameList[1]"}), template=template))

    def check(items: list[dict[str, Any]]) -> None:
        dist = mocks.registered["distribution-blog.example.net"].inputs
        assert dist["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2025"
        assert "continuousDeploymentPolicyId" not in dist
        assert any("ContinuousDeploymentPolicyId" in w for w in items[1]["warnings"])

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
def test_wildcard_items_get_tag_values_aws_accepts(mocks: Recorder) -> Any:
    """ACM and CloudFront tag values allow letters, digits and _ . : / = + - @."""
    request = {
        "acm_op": "create",
        "auto_creation": "true",
        "cnameList": [
            {
                "domainName": "*.shop.example.com",
                "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"},
            }
        ],
    }
    outputs = run(spec(request, issued=frozenset({"cnameList[0]"})))

    def check(_: Any) -> None:
        for resource in mocks.registered.values():
            value = resource.inputs["tags"]["ssl-saas:item"]
            assert value == "wildcard.shop.example.com"
            assert re.fullmatch(r"[\w\s.:/=+\-@]*", value)

    return pulumi.Output.from_input(outputs["items"]).apply(check)


AGGREGATE = {
    "acm_op": "create",
    "auto_creation": "true",
    "dist_aggregate": "true",
    "cnameList": [
        {
            "domainName": "*.shop.example.com",
            "sanList": ["shop.example.com"],
            "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"},
        },
        {
            "domainName": "a.shop.example.com",
            "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"},
        },
        {
            "domainName": "blog.example.net",
            "existing_cf_info": {"distribution_id": "E195R1W5GIVPF5"},
        },
    ],
}
SHARED_ARN = f"{ACM_ARN}certificate-wildcard.shop.example.com"


@pulumi.runtime.test
def test_an_item_under_an_earlier_wildcard_requests_no_certificate_and_shows_the_shared_one(
    mocks: Recorder,
) -> Any:
    outputs = run(spec(AGGREGATE))

    def check(items: list[dict[str, Any]]) -> None:
        certificates = sorted(n for n, a in mocks.registered.items() if a.typ == CERT_TYPE)
        assert certificates == [
            "certificate-blog.example.net",
            "certificate-wildcard.shop.example.com",
        ]
        assert [i["certificateArn"] for i in items[:2]] == [SHARED_ARN, SHARED_ARN]
        assert items[1]["certificateFrom"] == "cnameList[0]"
        assert items[1]["certificateStatus"] == "PENDING_VALIDATION"
        assert items[1]["validationRecords"] == items[0]["validationRecords"] != []
        assert "certificateFrom" not in items[0] and "certificateFrom" not in items[2]
        assert not any(a.typ == DIST_TYPE for a in mocks.registered.values())

    return pulumi.Output.from_input(outputs["items"]).apply(check)


@pulumi.runtime.test
def test_a_reusing_item_gets_its_distribution_once_the_shared_certificate_is_issued(
    mocks: Recorder,
) -> Any:
    outputs = run(spec(AGGREGATE, issued=frozenset({"cnameList[0]"})))

    def check(items: list[dict[str, Any]]) -> None:
        dist = mocks.registered["distribution-a.shop.example.com"].inputs
        assert dist["aliases"] == ["a.shop.example.com"]
        assert dist["viewerCertificate"]["acmCertificateArn"] == SHARED_ARN
        assert dist["tags"] == {"ssl-saas:job": "job-1", "ssl-saas:item": "a.shop.example.com"}
        assert items[1]["distributionId"] == "distribution-a.shop.example.com-id"
        assert "distribution-blog.example.net" not in mocks.registered

    return pulumi.Output.from_input(outputs["items"]).apply(check)
