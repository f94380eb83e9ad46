"""The sandbox's answers to the AWS APIs moto lacks (CloudFront
ListConflictingAliases, Service Quotas for ACM and CloudFront), asked through
boto3 over real HTTP, and everything else still reaching moto intact."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from provisioning.sandbox import aws_gaps
from tests.moto_account import ACCOUNT_SHOWN, CERTIFICATES, DISTRIBUTIONS, certificate, distribution


def shown(distribution_id: str) -> str:
    return "*" * (len(distribution_id) - 6) + distribution_id[-6:]


def conflicts(template: str, alias: str) -> set[tuple[str, str, str]]:
    found = boto3.client("cloudfront").list_conflicting_aliases(
        DistributionId=template, Alias=alias
    )["ConflictingAliasesList"]
    items = found.get("Items") or []
    assert found["Quantity"] == len(items)
    return {(i["Alias"], i["DistributionId"], i["AccountId"]) for i in items}


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def quotas() -> Any:
    return boto3.client("service-quotas", region_name="us-east-1")


# -- ListConflictingAliases -------------------------------------------------------


def test_an_unknown_distribution_is_no_such_distribution(aws: str) -> None:
    with pytest.raises(ClientError) as raised:
        boto3.client("cloudfront").list_conflicting_aliases(
            DistributionId="EDFDVBD6EXAMPLE", Alias="shop.example.com"
        )
    assert error_code(raised) == "NoSuchDistribution"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_the_distribution_asked_with_must_carry_a_certificate_including_the_alias(
    aws: str,
) -> None:
    default_certificate = distribution(["shop.example.com"])
    other_names = distribution(certificate_arn=certificate("blog.example.com"))
    gone = certificate("shop.example.com")
    deleted = distribution(certificate_arn=gone)
    boto3.client("acm", region_name="us-east-1").delete_certificate(CertificateArn=gone)
    for template, alias in [
        (default_certificate, "shop.example.com"),  # even though it is its own alias
        (other_names, "shop.example.com"),
        (deleted, "shop.example.com"),
        (distribution(certificate_arn=certificate("*.shop.example.com")), "shop.example.com"),
    ]:
        with pytest.raises(ClientError) as raised:
            conflicts(template, alias)
        assert error_code(raised) == "InvalidArgument", (template, alias)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_every_alias_equal_to_or_overlapping_the_alias_is_listed_partly_hidden(
    aws: str,
) -> None:
    template = distribution(
        certificate_arn=certificate("*.shop.example.com", "shop.example.com", "a.shop.example.com")
    )
    apex = distribution(["shop.example.com", "other.example.org"])
    wildcard = distribution(["*.shop.example.com"])
    one_deeper = distribution(["a.shop.example.com", "b.shop.example.com"])
    distribution(["a.b.shop.example.com", "*.b.shop.example.com", "example.com", "shop.example"])

    assert conflicts(template, "shop.example.com") == {
        ("shop.example.com", shown(apex), ACCOUNT_SHOWN)  # the apex is not under the wildcard
    }
    assert conflicts(template, "*.shop.example.com") == {
        ("*.shop.example.com", shown(wildcard), ACCOUNT_SHOWN),
        ("a.shop.example.com", shown(one_deeper), ACCOUNT_SHOWN),
        ("b.shop.example.com", shown(one_deeper), ACCOUNT_SHOWN),
    }
    assert conflicts(template, "a.shop.example.com") == {
        ("a.shop.example.com", shown(one_deeper), ACCOUNT_SHOWN),
        ("*.shop.example.com", shown(wildcard), ACCOUNT_SHOWN),
    }
    assert conflicts(template, "A.Shop.Example.com") == conflicts(template, "a.shop.example.com")
    answered = {part for entry in conflicts(template, "*.shop.example.com") for part in entry}
    assert not answered & {wildcard, one_deeper, "123456789012"}  # nothing shown whole


def test_nothing_overlapping_is_an_empty_list(aws: str) -> None:
    template = distribution(certificate_arn=certificate("shop.example.com"))
    distribution(["www.shop.example.com", "*.www.shop.example.com", "example.com"])
    distribution(["shop.example.org", "*.shop.example.com"])
    assert conflicts(template, "shop.example.com") == set()


def test_a_wildcard_certificate_includes_a_name_one_label_under_it(aws: str) -> None:
    template = distribution(certificate_arn=certificate("*.shop.example.com"))
    taken = distribution(["a.shop.example.com"])
    assert conflicts(template, "a.shop.example.com") == {
        ("a.shop.example.com", shown(taken), ACCOUNT_SHOWN)
    }


# -- Service Quotas -----------------------------------------------------------------


def test_aws_defaults_are_the_documented_ones(aws: str) -> None:
    for (service, code), value in [(CERTIFICATES, 2500), (DISTRIBUTIONS, 500)]:
        found = quotas().get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)
        assert (found["Quota"]["ServiceCode"], found["Quota"]["QuotaCode"]) == (service, code)
        assert found["Quota"]["Value"] == value


def test_an_applied_quota_exists_only_where_set(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for service, code in (CERTIFICATES, DISTRIBUTIONS):
        with pytest.raises(ClientError) as raised:
            quotas().get_service_quota(ServiceCode=service, QuotaCode=code)
        assert error_code(raised) == "NoSuchResourceException"

    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, 7.0)
    found = quotas().get_service_quota(ServiceCode="cloudfront", QuotaCode="L-24B04930")
    assert found["Quota"]["Value"] == 7
    with pytest.raises(ClientError) as raised:
        quotas().get_service_quota(ServiceCode="acm", QuotaCode="L-F141DD1D")
    assert error_code(raised) == "NoSuchResourceException"
    # the default is still the default
    default = quotas().get_aws_default_service_quota(
        ServiceCode="cloudfront", QuotaCode="L-24B04930"
    )
    assert default["Quota"]["Value"] == 500

    monkeypatch.setitem(aws_gaps.APPLIED, CERTIFICATES, 0.0)
    found = quotas().get_service_quota(ServiceCode="acm", QuotaCode="L-F141DD1D")
    assert found["Quota"]["Value"] == 0


def test_other_quotas_are_still_moto_s(aws: str) -> None:
    listed = quotas().list_aws_default_service_quotas(ServiceCode="vpc")["Quotas"]
    by_code = {quota["QuotaCode"]: quota["Value"] for quota in listed}
    assert by_code["L-F678F1CE"] == 5  # VPCs per Region
    found = quotas().get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")
    assert found["Quota"]["QuotaName"] == "VPCs per Region"
    assert found["Quota"]["Value"] == 5


# -- everything else reaches moto ----------------------------------------------------


def test_post_bodies_reach_moto_intact(aws: str) -> None:
    acm = boto3.client("acm", region_name="us-east-1")
    arn = acm.request_certificate(
        DomainName="shop.example.com",
        SubjectAlternativeNames=["shop.example.com", "www.shop.example.com"],
        ValidationMethod="DNS",
        Tags=[{"Key": "job", "Value": "ü" * 100}],
    )["CertificateArn"]
    detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert detail["DomainName"] == "shop.example.com"
    assert sorted(detail["SubjectAlternativeNames"]) == ["shop.example.com", "www.shop.example.com"]
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [
        {"Key": "job", "Value": "ü" * 100}
    ]

    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]
    message = json.dumps({"job": "x" * 200_000, "names": ["ü.example.com"]})
    sqs.send_message(QueueUrl=queue, MessageBody=message)
    [received] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert received["Body"] == message

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="versions")
    blob = bytes(range(256)) * 4096
    s3.put_object(Bucket="versions", Key="a/1.json", Body=blob)
    assert s3.get_object(Bucket="versions", Key="a/1.json")["Body"].read() == blob


def test_cloudfront_calls_other_than_conflicting_aliases_reach_moto(aws: str) -> None:
    made = distribution(["shop.example.com"])
    cloudfront = boto3.client("cloudfront")
    found = cloudfront.get_distribution(Id=made)["Distribution"]
    assert found["DistributionConfig"]["Aliases"]["Items"] == ["shop.example.com"]
    with pytest.raises(ClientError) as raised:
        cloudfront.get_distribution(Id="EDFDVBD6EXAMPLE")
    assert error_code(raised) == "NoSuchDistribution"


def test_a_chunked_body_reaches_moto_intact(aws: str) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="versions")
    endpoint = urllib.parse.urlsplit(aws)
    connection = http.client.HTTPConnection(endpoint.hostname or "", endpoint.port)
    try:
        connection.request(
            "PUT",
            "/versions/chunked",
            body=iter([b"hello ", b"world"]),
            headers={"Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    assert s3.get_object(Bucket="versions", Key="chunked")["Body"].read() == b"hello world"
